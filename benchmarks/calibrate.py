#!/usr/bin/env python3
"""Fit the answer confidence and choose the default thresholds on the dev query sets.

Per locale, two logistic models over the top hit's raw features (dense
similarity, margins, BM25, fuzzy, query-term coverage): ``confidence`` =
P(the top hit answers the question) and ``answerable`` = P(some FAQ answers
it). Reported figures are out-of-fold (5-fold cross-validation), so no model is
scored on the queries it was fitted to. Writes ``guide_server/search/calibration.json``
and a section of BENCHMARKS.md.

    python benchmarks/calibrate.py [--no-write]
"""

from __future__ import annotations

import argparse
import json
import os

import numpy as np
from common import ROOT, load_queries, table, write_section

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from search_quality import DEFAULTS, build_corpus  # noqa: E402

from guide_server.search.engine import CALIBRATION_FILE, FEATURES  # noqa: E402

FOLDS = 5
L2 = 0.1
MIN_ANSWER_PRECISION = 0.9


def fit(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """L2-regularised logistic regression by Newton's method; returns weights with the bias last."""
    xb = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(xb.shape[1])
    reg = np.eye(len(w)) * L2
    reg[-1, -1] = 0.0
    for _ in range(100):
        p = 1 / (1 + np.exp(-xb @ w))
        grad = xb.T @ (p - y) + reg @ w
        hess = xb.T @ (xb * (p * (1 - p))[:, None]) + reg
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w


def predict(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-(x @ w[:-1] + w[-1])))


def out_of_fold(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    folds = np.random.default_rng(0).permutation(len(x)) % FOLDS
    out = np.zeros(len(x))
    for f in range(FOLDS):
        train, test = folds != f, folds == f
        out[test] = predict(fit(x[train], y[train]), x[test])
    return out


def figures(d: dict, suggest: float, answer: float) -> dict:
    unans = d["unanswerable"]
    flagged = d["answerable"] < suggest
    answered = ~flagged & (d["confidence"] >= answer)
    suggested = ~flagged & ~answered
    tp = int((flagged & unans).sum())
    return {
        "no_answer_precision": tp / max(1, int(flagged.sum())),
        "no_answer_recall": tp / max(1, int(unans.sum())),
        "answerable_lost": float((flagged & ~unans).sum() / max(1, int((~unans).sum()))),
        "answered_share": float(answered.mean()),
        "answered_precision": float(d["correct"][answered].mean()) if answered.any() else 0.0,
        "suggested_hit3": float(d["hit3"][suggested & ~unans].mean()) if (suggested & ~unans).any() else 0.0,
    }


def f1(f: dict) -> float:
    p, r = f["no_answer_precision"], f["no_answer_recall"]
    return 2 * p * r / (p + r) if p + r else 0.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()

    models = {"ja": DEFAULTS["MODEL_JA"], "en": DEFAULTS["MODEL_EN"]}
    engine = build_corpus("calibrate", ROOT / "content", models)
    engine.calibration = {}
    calibration, data = {}, {}
    for locale in ("ja", "en"):
        queries = load_queries(ROOT / f"benchmarks/queries/{locale}.jsonl")
        rows, correct, hit3, unanswerable = [], [], [], []
        for q in queries:
            r = engine.search(q["query"], locale=locale, k=10)
            ids = [h.faq.id for h in r.hits]
            rows.append([r.features.get(f, 0.0) for f in FEATURES])
            correct.append(bool(ids) and ids[0] in q["relevant"])
            hit3.append(bool(set(ids[:3]) & set(q["relevant"])))
            unanswerable.append(not q["relevant"])
        x = np.array(rows)
        labels = {"confidence": np.array(correct, float), "answerable": 1.0 - np.array(unanswerable, float)}
        d = {"correct": np.array(correct), "hit3": np.array(hit3), "unanswerable": np.array(unanswerable)}
        entry = {"fitted_on": f"benchmarks/queries/{locale}.jsonl ({len(queries)} queries)"}
        for target, y in labels.items():
            d[target] = out_of_fold(x, y)
            w = fit(x, y)
            entry[target] = {"coef": {f: round(float(c), 5) for f, c in zip(FEATURES, w[:-1])}, "bias": round(float(w[-1]), 5)}
        calibration[f"{locale}:{models[locale]}"] = entry
        data[locale] = d

    both = {k: np.concatenate([data["ja"][k], data["en"][k]]) for k in data["ja"]}
    steps = [round(float(v), 2) for v in np.arange(0.05, 0.96, 0.05)]
    best_suggest = max(steps, key=lambda s: (f1(figures(both, s, 1.0)), -s))
    ok = [a for a in steps if figures(both, best_suggest, a)["answered_precision"] >= MIN_ANSWER_PRECISION]
    best_answer = min(ok) if ok else 0.9

    header = ["set", "no-answer precision", "no-answer recall", "answerable said 'no answer'",
              "answered directly", "direct answers right", "suggestions hold an answer (top 3)"]
    rows = []
    for name, d in (("ja", data["ja"]), ("en", data["en"]), ("both", both)):
        f = figures(d, best_suggest, best_answer)
        rows.append([name, f["no_answer_precision"], f["no_answer_recall"], f["answerable_lost"],
                     f["answered_share"], f["answered_precision"], f["suggested_hit3"]])
    sweep = []
    for s in (0.2, 0.3, best_suggest, 0.5, 0.6):
        for a in sorted({0.5, best_answer, 0.8}):
            f = figures(both, s, a)
            sweep.append([s, a, f["no_answer_precision"], f["no_answer_recall"], f["answered_share"], f["answered_precision"]])
    text = "\n".join([
        "## Answer confidence and thresholds (`benchmarks/calibrate.py`)", "",
        f"Two logistic models per locale over {', '.join(FEATURES)}: `answerable` (some FAQ answers the question) "
        f"and `confidence` (the top hit does). Out-of-fold figures ({FOLDS}-fold cross-validation) on the dev sets, "
        "answerable and unanswerable queries together.", "",
        f"Chosen defaults: **SUGGEST_THRESHOLD = {best_suggest}** (`answerable` below it: \"no answer\"; best F1 for "
        f"spotting unanswerable questions) and **ANSWER_THRESHOLD = {best_answer}** (`confidence` at or above it: a direct "
        f"answer; lowest value at which at least {MIN_ANSWER_PRECISION:.0%} of direct answers are right). In between, the top 3 are offered.", "",
        table(header, rows), "", "Other thresholds (both locales):", "",
        table(["suggest", "answer", "no-answer precision", "no-answer recall", "answered directly", "direct answers right"], sweep),
    ])
    print(text)
    if not args.no_write:
        CALIBRATION_FILE.write_text(json.dumps(calibration, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        write_section("calibration", text)
        print(f"\nwrote {CALIBRATION_FILE}; defaults to set in guide_server/settings.py: "
              f"SUGGEST_THRESHOLD={best_suggest}, ANSWER_THRESHOLD={best_answer}")


if __name__ == "__main__":
    main()
