#!/usr/bin/env python3
"""Answer quality: what POST /api/v1/ask says on help centres with half their FAQs left out.

For each set, the FAQs whose id hashes even (public_sets.kept) are built into an index with the
real builder and models; every query goes through /api/v1/ask of a real app with the default
settings (or --config overrides). A query is answerable when one of its relevant FAQs was kept,
unanswerable when all were left out. Tune sets (ja-dev, en-dev, stackfaq-dev) may be used to
choose things; report sets (localgov, covidfaq: see public_sets.py for their sources, which stay
outside the repository) are only measured.

    python benchmarks/answer_quality.py [--set NAME]... [--data DIR] [--config KEY=VALUE]...
                                        [--no-full] [--no-write]
"""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path

import numpy as np
from common import WORK, machine, table, write_section
from public_sets import DEFAULT_DATA, REPORT_SETS, EvalSet, half_content, load_sets, split_queries

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from guide_server import create_app, settings  # noqa: E402
from guide_server.chat import extracts  # noqa: E402
from guide_server.config import models_of, weights_of  # noqa: E402
from guide_server.search import selfcal  # noqa: E402
from guide_server.search.builder import build  # noqa: E402
from guide_server.search.engine import parse_weights  # noqa: E402
from guide_server.search.evidence import FEATURES  # noqa: E402
from guide_server.web.context import services  # noqa: E402

SETS = ["ja-dev", "en-dev", "stackfaq-dev", *REPORT_SETS]
SITE = "demo"
# (key, what it counts, naming the questions it is over); the first six are the rows of issue 15's table
FIGURES = [
    ("answered_right", "answerable questions answered directly and right"),
    ("answered_wrong", "answerable questions answered directly and wrong"),
    ("suggested_right", "answerable questions suggested, with the right FAQ among the suggestions"),
    ("unanswerable_answered", "unanswerable questions answered anyway"),
    ("unanswerable_told", "unanswerable questions told \"no answer\""),
    ("precision", "direct answers that are right (answerable and unanswerable)"),
    ("first_answered", "answerable questions whose right FAQ ranks first, answered directly"),
    ("found", "answerable questions with the right FAQ answered or among the suggestions shown"),
    ("no_answer_precision", "\"no answer\" given to unanswerable questions"),
]
TARGETS = {"precision": "≥ 90 %", "first_answered": "≥ 50 %", "unanswerable_answered": "≤ 5 %", "found": "≥ 85 %"}


# --- the arithmetic: records are {"right": [ids], "outcome", "answer", "suggestions": [ids], "top"} ---

def ranked_first(rec: dict) -> str | None:
    """The FAQ the service ranks first: the answer, else the first suggestion, else the engine's top hit."""
    if rec["outcome"] == "answered":
        return rec["answer"]
    return rec["suggestions"][0] if rec["outcome"] == "suggested" and rec["suggestions"] else rec["top"]


def _share(rows: list[dict], test) -> tuple[int, int]:
    return sum(1 for r in rows if test(r)), len(rows)


def _answered_right(rec: dict) -> bool:
    return rec["outcome"] == "answered" and rec["answer"] in rec["right"]


def counts(records: list[dict]) -> dict[str, tuple[int, int]]:
    """Each figure of FIGURES as (questions that count, questions it is over)."""
    answerable = [r for r in records if r["right"]]
    unanswerable = [r for r in records if not r["right"]]
    direct = [r for r in records if r["outcome"] == "answered"]
    first = [r for r in answerable if ranked_first(r) in r["right"]]
    told = [r for r in records if r["outcome"] == "no_answer"]
    return {
        "answered_right": _share(answerable, _answered_right),
        "answered_wrong": _share(answerable, lambda r: r["outcome"] == "answered" and not _answered_right(r)),
        "suggested_right": _share(answerable, lambda r: r["outcome"] == "suggested" and set(r["suggestions"]) & set(r["right"])),
        "unanswerable_answered": _share(unanswerable, lambda r: r["outcome"] == "answered"),
        "unanswerable_told": _share(unanswerable, lambda r: r["outcome"] == "no_answer"),
        "precision": _share(direct, _answered_right),
        "first_answered": _share(first, lambda r: r["outcome"] == "answered"),
        "found": _share(answerable, lambda r: _answered_right(r) or bool(set(r["suggestions"]) & set(r["right"]))),
        "no_answer_precision": _share(told, lambda r: not r["right"]),
    }


def redecided(records: list[dict], suggest: float, answer: float) -> list[dict]:
    """The records as the service would have answered at other thresholds: each record's two
    probabilities and first FAQs (``confidence``, ``answerable``, ``hits``: as many as SUGGESTIONS)
    decide again, as ``decide_outcome`` does; an answer shows the others beside it, less those that
    share none of the question's words (``meaning_only``)."""
    out = []
    for r in records:
        hits = r["hits"]
        if not hits or r["answerable"] < suggest:
            outcome, answer_id, shown = "no_answer", None, []
        elif r["confidence"] >= answer:
            outcome, answer_id, shown = "answered", hits[0], [h for h in hits[1:] if h not in r.get("meaning_only", ())]
        else:
            outcome, answer_id, shown = "suggested", None, hits
        out.append({**r, "outcome": outcome, "answer": answer_id, "suggestions": shown, "top": hits[0] if hits else None})
    return out


def ranking_auc(records: list[dict]) -> float:
    """How well ``confidence`` tells the questions whose first FAQ is right from the others
    (unanswerable ones included): the chance that one of the first scores above one of the others."""
    right = _first_right(records)
    conf = np.array([r["confidence"] for r in records], float)
    return _auc(conf, right) if right.any() and not right.all() else float("nan")


def _first_right(records: list[dict]) -> np.ndarray:
    """Whether each record's first FAQ is a right one (what ``confidence`` should tell)."""
    return np.array([bool(r["hits"]) and r["hits"][0] in r["right"] for r in records], bool)


def best_answered(records: list[dict], min_precision: float = 0.90) -> tuple[float, float | None]:
    """The largest share of the right-first questions answered directly at any ANSWER_THRESHOLD
    (every suggestion allowed) while direct answers stay ``min_precision`` right, and that threshold."""
    best = (0.0, None)
    for answer in np.round(np.arange(0.01, 1.0, 0.01), 2):
        c = counts(redecided(records, 0.0, float(answer)))
        if c["precision"][1] and ratio(c["precision"]) >= min_precision and ratio(c["first_answered"]) > best[0]:
            best = (ratio(c["first_answered"]), float(answer))
    return best


def ceiling(records: list[dict], min_precision: float = 0.90) -> dict:
    """What the confidence could do at any ANSWER_THRESHOLD (``best_answered``), with the ranking's
    own ceiling on "found" (the right FAQ among the first SUGGESTIONS), ``ranking_auc``, the threshold pairs
    meeting every target, and what the decision's features could do with the set's own labels
    (``labelled_fit``)."""
    first_answered, threshold = best_answered(records, min_precision)
    answerable = [r for r in records if r["right"]]
    shown = sum(1 for r in answerable if set(r["hits"]) & set(r["right"])) / len(answerable) if answerable else 0.0
    return {"first_answered": first_answered, "threshold": threshold, "shown": shown, "auc": ranking_auc(records),
            "passing": passing_thresholds(records), "labelled": labelled_fit(records, min_precision)}


def labelled_fit(records: list[dict], min_precision: float = 0.90) -> dict | None:
    """The decision's features with a ``confidence`` model fitted on this set's own labels (the first
    FAQ right or not), each question scored by a model that did not see it (``selfcal.out_of_fold``,
    5 folds): its AUC and ``best_answered``. No build can fit so (it has no labels); it shows how
    far the features themselves go, whatever examples a build makes. None without features."""
    if not records or any("features" not in r for r in records):
        return None
    x = np.array([r["features"] for r in records], float)
    y = _first_right(records).astype(float)
    answerable = np.array([bool(r["right"]) for r in records], bool)
    if y.all() or not y.any() or answerable.all() or not answerable.any():
        return None
    scored = [{**r, "confidence": float(p)} for r, p in zip(records, selfcal.out_of_fold(x, y), strict=True)]
    first_answered, threshold = best_answered(scored, min_precision)
    return {"auc": ranking_auc(scored), "first_answered": first_answered, "threshold": threshold,
            "answerable_auc": _auc(selfcal.out_of_fold(x, answerable.astype(float)), answerable),
            "served_answerable_auc": _auc(np.array([r["answerable"] for r in records], float), answerable)}


def _auc(scores: np.ndarray, positive: np.ndarray) -> float:
    """The chance that a positive scores above a negative (ties count half)."""
    pos, neg = scores[positive], scores[~positive]
    return float((pos[:, None] > neg[None, :]).mean() + 0.5 * (pos[:, None] == neg[None, :]).mean())


def meets_targets(c: dict[str, tuple[int, int]]) -> bool:
    """Issue 15's acceptance on one set's counts: direct answers ≥ 90 % right with ≥ half of the
    right-first questions answered, ≤ 5 % of the unanswerable answered, "no answer" F1 ≥ 0.6 and the
    right FAQ found for ≥ 85 %."""
    return (ratio(c["precision"]) >= 0.90 and ratio(c["first_answered"]) >= 0.50 and ratio(c["unanswerable_answered"]) <= 0.05
            and no_answer_f1(c) >= 0.6 and ratio(c["found"]) >= 0.85)


def passing_thresholds(records: list[dict], step: float = 0.02) -> list[tuple[float, float]]:
    """Every (SUGGEST_THRESHOLD, ANSWER_THRESHOLD) on a grid at which the records would meet all targets."""
    grid = [float(v) for v in np.round(np.arange(0.0, 1.0, step), 2)]
    return [(s, a) for s in grid for a in grid if a >= s and meets_targets(counts(redecided(records, s, a)))]


def ratio(count: tuple[int, int]) -> float:
    return count[0] / count[1] if count[1] else 0.0


def no_answer_f1(c: dict[str, tuple[int, int]]) -> float:
    """F1 of "no answer" as a detector of unanswerable questions (recall = unanswerable told so)."""
    p, r = ratio(c["no_answer_precision"]), ratio(c["unanswerable_told"])
    return 2 * p * r / (p + r) if p + r else 0.0


def parse_overrides(pairs: list[str]) -> dict:
    """``KEY=VALUE`` settings, parsed by each setting's type as GUIDE_KEY variables would be."""
    raw = dict(p.split("=", 1) for p in pairs)
    unknown = sorted(k for k in raw if k not in settings.BY_NAME)
    if unknown:
        raise SystemExit(f"unknown setting(s): {', '.join(unknown)} (see docs/settings.md)")
    return settings.from_env({settings.ENV_PREFIX + k: v for k, v in raw.items()})


# --- running a set through the server ---

def make_app(index_dir: Path, work: Path, overrides: dict):
    db = work / "guide.db"
    db.unlink(missing_ok=True)
    return create_app({
        "TESTING": True, "INDEX_DIR": str(index_dir), "DATABASE_URL": f"sqlite:///{db}", "RELOAD_INTERVAL": 0,
        "SITES": {SITE: {"identity": "open", "origins": [], "support": ""}},
        "LIMIT_ASK": 0,  # one client asks every question: the abuse limit would refuse most of them
        **overrides,
    })


def ask_all(app, queries: list[dict], locale: str) -> list[dict]:
    """Every query through POST /api/v1/ask; the records ``counts`` reads. Beside what the service
    said, each keeps the engine's first FAQs (as many as SUGGESTIONS, the service's own order), the
    ones among them that share none of the question's words (``meaning_only``: an answer does not
    show those beside it) and the decision's features, so that ``redecided`` can decide again."""
    client, engine = app.test_client(), services(app).index.current()
    listed, weight = app.config["SUGGESTIONS"], engine.term_weight(locale)
    records = []
    for q in queries:
        resp = client.post("/api/v1/ask", json={"question": q["query"], "locale": locale, "site": SITE})
        if resp.status_code != 200:
            raise SystemExit(f"/api/v1/ask answered {resp.status_code} for {q['query']!r}: {resp.get_data(as_text=True)[:300]}")
        body = resp.get_json()
        answer, shown = (body["answer"] or {}).get("id"), [s["id"] for s in body["suggestions"]]
        found = engine.search(q["query"], locale=locale, k=listed, site=SITE)
        hits = [h.faq.id for h in found.hits]
        records.append({"right": q["right"], "outcome": body["outcome"], "answer": answer, "suggestions": shown,
                        "top": hits[0] if body["outcome"] == "no_answer" and hits else None,
                        "confidence": body["confidence"], "answerable": body["answerable"], "hits": hits,
                        "meaning_only": [h.faq.id for h in found.hits
                                         if extracts.meaning_only(extracts.reason(q["query"], h.faq, locale, weight))],
                        "features": [found.features.get(f, 0.0) for f in FEATURES]})
    return records


def evaluate(s: EvalSet, overrides: dict) -> dict:
    """Build the kept half of ``s`` and ask all its queries: the counts and the split's sizes."""
    work = WORK / "answer_quality" / s.name
    kept, total = half_content(s, work / "content")
    cfg = settings.defaults() | overrides
    index_dir = work / "index"
    shutil.rmtree(index_dir, ignore_errors=True)
    build(work / "content", index_dir, models_of(cfg), progress=False,
          weights={loc: parse_weights(w) for loc, w in weights_of(cfg).items()})
    app = make_app(index_dir, work, overrides)
    try:
        records = ask_all(app, split_queries(s.queries), s.locale)
    finally:
        services(app).close()
    return {"set": s, "kept": kept, "total": total, "counts": counts(records), "ceiling": ceiling(records)}


def full_retrieval(s: EvalSet) -> dict:
    """Retrieval on the whole corpus of a graded set (Recall@10, nDCG@10 with gain = grade, Hit@1)."""
    from search_quality import build_corpus, graded_metrics

    engine = build_corpus(f"answer-quality-{s.name}", s.content, models_of(settings.defaults()))
    results = [engine.search(q["query"], locale=s.locale, k=10) for q in s.queries]
    return graded_metrics([[h.faq.id for h in r.hits] for r in results], [q["grades"] for q in s.queries])


# --- the report ---

def pct(count: tuple[int, int]) -> str:
    return f"{ratio(count) * 100:.1f} % ({count[0]}/{count[1]})"


def wilson(count: tuple[int, int], z: float = 1.96) -> tuple[float, float] | None:
    """The Wilson score interval (95 % by default) of a share ``count`` = (k, n); None for n = 0.
    How far a figure may move by chance alone: 71 right of 84 direct answers is .845, and anything
    from .75 to .91 would not be surprising."""
    k, n = count
    if not n:
        return None
    p, z2 = k / n, z * z
    centre, half = (p + z2 / (2 * n)) / (1 + z2 / n), z * np.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def interval(count: tuple[int, int]) -> str:
    found = wilson(count)
    return f"{found[0] * 100:.1f}–{found[1] * 100:.1f} %" if found else "–"


def set_table(result: dict) -> str:
    c = result["counts"]
    rows = [[label, pct(c[key]), interval(c[key]), TARGETS.get(key, "")] for key, label in FIGURES]
    rows.append(["\"no answer\" F1 (positive: unanswerable told \"no answer\")", f"{no_answer_f1(c):.3f}", "", "≥ 0.6"])
    s = result["set"]
    head = (f"### {s.name} ({s.role}, {s.locale})\n\n{result['kept']} of {result['total']} FAQs kept; "
            f"{c['answered_right'][1]} answerable, {c['unanswerable_told'][1]} unanswerable questions."
            + (f" {s.note}." if s.note else ""))
    return head + "\n\n" + table(["figure", "share (count)", "95 % interval (Wilson)", "target"], rows)


def summary_table(results: list[dict]) -> str:
    rows = []
    for res in results:
        c, s = res["counts"], res["set"]
        rows.append([s.name, s.role, f"{res['kept']}/{res['total']}", c["answered_right"][1], c["unanswerable_told"][1],
                     ratio(c["precision"]), ratio(c["first_answered"]), ratio(c["unanswerable_answered"]),
                     no_answer_f1(c), ratio(c["found"])])
    return table(["set", "role", "FAQs kept", "answerable", "unanswerable", "direct right (≥ .90)",
                  "first → answered (≥ .50)", "unanswerable answered (≤ .05)", "no-answer F1 (≥ .6)", "found (≥ .85)"], rows)


def ceiling_table(results: list[dict]) -> str:
    rows = []
    for res in results:
        c, top = res["ceiling"], res["counts"]
        own = c.get("labelled")
        rows.append([res["set"].name, res["set"].role, f"{c['auc']:.3f}", ratio(top["first_answered"]),
                     _at(c["first_answered"], c["threshold"]),
                     f"{own['auc']:.3f}" if own else "–", _at(own["first_answered"], own["threshold"]) if own else "–",
                     f"{own['served_answerable_auc']:.3f} / {own['answerable_auc']:.3f}" if own else "–",
                     ratio(top["found"]), f"{c['shown']:.3f}",
                     f"{len(c['passing'])}" + (f" (e.g. {c['passing'][0][0]:.2f} / {c['passing'][0][1]:.2f})" if c["passing"] else "")])
    return table(["set", "role", "confidence AUC (first FAQ right or not)", "first → answered, defaults",
                  "first → answered, best ANSWER_THRESHOLD keeping ≥ .90 right",
                  "AUC, features fitted on the set's labels", "first → answered at ≥ .90 right, same fit",
                  "`answerable` AUC (answerable or not): served / fitted on the set's labels", "found, defaults",
                  "found, ceiling (right FAQ among the first SUGGESTIONS)", "threshold pairs meeting every target"], rows)


def _at(share: float, threshold: float | None) -> str:
    return f"{share:.3f}" + (f" (at {threshold:.2f})" if threshold is not None else " (none)")


def report(results: list[dict], full: list[list], overrides: dict, notes: list[str]) -> str:
    config = ", ".join(f"`{k}={v}`" for k, v in overrides.items()) or "none (default settings)"
    parts = [
        "## Answer quality (`benchmarks/answer_quality.py`)", "",
        f"Machine: {machine()}. Settings overridden: {config}.", "",
        "Method: for each set, the FAQs whose id's sha256 is even are kept (the same half every run) and built "
        "with the real builder and default models; every query is asked through POST /api/v1/ask of a real app. "
        "A query is answerable when one of its relevant FAQs was kept, unanswerable when all were left out. "
        "Tune sets (ja-dev, en-dev: the sample content with benchmarks/queries; stackfaq-dev) may be used to choose "
        "thresholds, weights and methods. Report sets (localgov: LocalgovFAQ, relevant = grade 2 only, grade 1 never "
        "counts; covidfaq: CovidFAQ, one FAQ per distinct answer) are public data kept outside the repository, "
        "and nothing was chosen or fitted on them. \"Ranks first\": the answer, else the first suggestion, else the "
        "engine's top hit. Sources of the sets and the method in detail: docs/answer-quality.md.", "",
        *[f"{line}\n" for line in notes], summary_table(results), "",
        "### What a threshold can and cannot do", "",
        "The same questions decided again at every ANSWER_THRESHOLD from 0.01 to 0.99 (each answer's two "
        "probabilities and first SUGGESTIONS FAQs, as the service returned them; SUGGEST_THRESHOLD 0): the most "
        "right-first questions answered directly while direct answers stay at least 90 % right. No threshold "
        "does better than that column, so a set below .50 there needs better evidence (the confidence's "
        "ranking, its AUC), not other thresholds; \"found\" cannot pass the share of answerable questions "
        "with their FAQ among the first SUGGESTIONS (3 unless the settings say otherwise). The last column counts the (SUGGEST_THRESHOLD, ANSWER_THRESHOLD) pairs, "
        "on a grid of 0.02, at which the set would meet all of issue 15's targets at once. The two columns "
        "\"fitted on the set's labels\" take the decision's eight features of each question and fit the "
        "`confidence` model on the set's own answers (first FAQ right or not; 5 folds, each question scored "
        "by a model that did not see it), and the `answerable` model likewise on which questions have an "
        "FAQ left (its AUC beside the served one's). No build can fit so, as it has no labels: the columns show "
        "about how far these eight features go on the set's own kind of question, whatever examples a build "
        "makes (not a strict bound: on the small tune sets the served fit does as well or better). Where even "
        "they stay below .50, the features themselves must get better.", "",
        ceiling_table(results), "",
    ]
    parts += [set_table(r) + "\n" for r in results]
    if full:
        parts += ["### Report sets, whole corpus retrieval (in-process, k=10)", "",
                  table(["set", "queries", "Recall@10", "nDCG@10 (gain = grade)", "Hit@1"], full)]
    return "\n".join(parts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", action="append", choices=SETS, dest="sets", help="a set to run (repeatable; default all)")
    ap.add_argument("--data", type=Path, default=Path(os.environ.get("GUIDE_EVAL_DATA") or DEFAULT_DATA),
                    help="folder with the report sets' files (default $GUIDE_EVAL_DATA, else ../evaldata)")
    ap.add_argument("--config", action="append", default=[], metavar="KEY=VALUE", help="a setting for the app (repeatable)")
    ap.add_argument("--no-full", action="store_true", help="skip the whole-corpus retrieval of the report sets")
    ap.add_argument("--no-write", action="store_true", help="print only; leave BENCHMARKS.md alone")
    ap.add_argument("--own-fit", action="store_true",
                    help=f"every build fits its own models from {selfcal.MIN_OWN_FAQS} FAQs up, as for encoders guide ships "
                         f"none for (the tune halves, under {selfcal.MIN_FAQS} FAQs, otherwise use the shipped models)")
    args = ap.parse_args()
    overrides = parse_overrides(args.config)
    if args.own_fit:
        selfcal.MIN_FAQS = selfcal.MIN_OWN_FAQS
        notes = [f"Every build fits its own models from {selfcal.MIN_OWN_FAQS} FAQs up (--own-fit)."]
    else:
        notes = []
    names = args.sets or SETS
    sets = load_sets(names, args.data, WORK / "answer_quality")
    notes += [f"Skipped: {n} (files not found)." for n in names if n not in {s.name for s in sets}]
    results, full = [], []
    for s in sets:
        res = evaluate(s, overrides)
        results.append(res)
        print(set_table(res) + "\n", flush=True)
        if s.role == "report" and not args.no_full:
            m = full_retrieval(s)
            full.append([s.name, m["queries"], m["Recall@10"], m["nDCG@10"], m["Hit@1"]])
            print(f"{s.name} whole corpus: " + ", ".join(f"{k} {v:.3f}" for k, v in m.items() if k != "queries"), flush=True)
    text = report(results, full, overrides, notes)
    print(summary_table(results))
    if not args.no_write:
        write_section("answer_quality", text)


if __name__ == "__main__":
    main()
