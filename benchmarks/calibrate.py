#!/usr/bin/env python3
"""The shipped decision models, and the default thresholds chosen on the tune sets.

Every build fits the decision's two models to its own help centre (``selfcal``); the shipped
models (``guide_server/search/calibration.json``, for help centres too small to fit their own and
for CALIBRATION=shipped) are what the sample help centre's build fits. The thresholds are
probabilities of those per-build models, so one pair serves every help centre: they are chosen on
the **tune sets** only — the dev query sets of the sample help centre (ja, en) and StackFAQ's dev
half, each whole and with half of its FAQs left out (so that some questions truly have no
answer), each built as a server's would be. ``answer_quality.py`` reports the public sets nobody
tuned on.

    python benchmarks/calibrate.py [--no-write]
"""

from __future__ import annotations

import argparse
import json
import os

import numpy as np
from common import WORK, table, write_section

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from public_sets import dev_set, half_content, kept, stackfaq_set  # noqa: E402
from search_quality import DEFAULTS, build_corpus  # noqa: E402

from guide_server.search.engine import CALIBRATION_FILE  # noqa: E402
from guide_server.search.selfcal import MIN_FAQS  # noqa: E402

SUGGEST = (0.03, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5)
ANSWER = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
MIN_PRECISION = 0.92  # direct answers right, on the left-out families
MIN_FOUND = 0.85  # answerable questions answered or suggested with their FAQ
MAX_WRONG_DIRECT = 0.05  # unanswerable questions answered anyway, in every tune set


def measured(name: str, family: str, content, queries: list[dict], locale: str, half: bool, shipped: dict) -> dict:
    """One tune set built as a server would (with ``shipped`` as the shipped models), and each
    question's raw features and labels."""
    models = {"ja": DEFAULTS["MODEL_JA"], "en": DEFAULTS["MODEL_EN"]}
    engine = build_corpus(f"calibrate-{name}", content, models)
    engine.calibration = shipped
    conf, ans, correct, answerable, top3 = [], [], [], [], []
    for q in queries:
        right = {d for d in q["relevant"] if kept(d)} if half else set(q["relevant"])
        r = engine.search(q["query"], locale=locale, k=10)
        ids = [h.faq.id for h in r.hits]
        conf.append(r.confidence)
        ans.append(r.answerable)
        correct.append(bool(ids) and ids[0] in right)
        answerable.append(bool(right))
        top3.append(bool(right & set(ids[:3])))
    return {"name": name, "family": family, "models": engine.models(locale)[1], "calibration": engine.indexes[locale].calibration,
            "conf": np.array(conf), "ans": np.array(ans), "correct": np.array(correct),
            "answerable": np.array(answerable), "top3": np.array(top3)}


def tune_sets() -> tuple[list[dict], dict]:
    """The tune sets measured, and the shipped models: the sample help centre's own fit (each whole
    dev set's), measured before the halves that use them."""
    out, shipped = [], {}
    for full in (dev_set("ja"), dev_set("en"), stackfaq_set(WORK)):
        if full is None:
            continue
        family = full.name
        whole = measured(full.name, family, full.content, full.queries, full.locale, False, shipped)
        out.append(whole)
        if full.name in ("ja-dev", "en-dev"):  # the sample help centre, whole: its own fit is shipped
            cal, spec = whole["calibration"], DEFAULTS[f"MODEL_{full.locale.upper()}"]
            shipped[f"{full.locale}:{spec}"] = dict(cal["models"], fitted_on=f"content/faq/{full.locale} ({cal['faqs']} FAQs, "
                                                    f"{cal['examples']} examples from their own wordings and answers)")
        half = WORK / "calibrate" / f"{full.name}-half"
        half_content(full, half)
        out.append(measured(f"{full.name} (half)", family, half, full.queries, full.locale, True, shipped))
        print(f"measured {full.name}", flush=True)
    return out, shipped


def figures(s: dict, conf: np.ndarray, ans: np.ndarray, suggest: float, answer: float) -> dict:
    none = ans < suggest
    direct = ~none & (conf >= answer)
    sugg = ~none & ~direct
    a, u = s["answerable"], ~s["answerable"]
    tp, fp = int((none & u).sum()), int((none & a).sum())
    p, r = tp / max(1, tp + fp), tp / max(1, int(u.sum()))
    return {"direct answers right": float(s["correct"][direct].mean()) if direct.any() else float("nan"),
            "right-first answered": float(direct[s["correct"]].mean()) if s["correct"].any() else 0.0,
            "unanswerable answered": float(direct[u].mean()) if u.any() else 0.0,
            "no-answer F1": 2 * p * r / (p + r) if p + r else 0.0,
            "answered or suggested": float(((direct & s["correct"]) | (sugg & s["top3"]))[a].mean())}


def pooled(sets: list[dict], suggest: float, answer: float) -> dict:
    """The figures of all sets together (each question once, with its own build's probabilities)."""
    union = {k: np.concatenate([s[k] for s in sets]) for k in ("correct", "answerable", "top3", "conf", "ans")}
    return figures(union, union["conf"], union["ans"], suggest, answer)


def choose(sets: list[dict]) -> tuple[float, float]:
    """The lowest answer threshold whose direct answers are right MIN_PRECISION of the time (pooled)
    and that answers at most MAX_WRONG_DIRECT of each set's unanswerable questions, and the suggest
    threshold with the best "no answer" F1 that still finds MIN_FOUND of the answerable questions'
    FAQs (answered or suggested)."""
    def safe(a: float) -> bool:
        return (pooled(sets, SUGGEST[0], a)["direct answers right"] >= MIN_PRECISION
                and all(figures(s, s["conf"], s["ans"], SUGGEST[0], a)["unanswerable answered"] <= MAX_WRONG_DIRECT for s in sets))

    answer = next((a for a in ANSWER if safe(a)), ANSWER[-1])
    found = [s for s in SUGGEST if pooled(sets, s, answer)["answered or suggested"] >= MIN_FOUND] or [SUGGEST[0]]
    return max(found, key=lambda s: pooled(sets, s, answer)["no-answer F1"]), answer


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    sets, shipped = tune_sets()
    # each build uses the models a server would: its own fit, or the shipped ones under MIN_FAQS FAQs
    assert all(s["models"] == ("fitted" if s["calibration"]["faqs"] >= MIN_FAQS else "shipped") for s in sets), \
        [(s["name"], s["models"]) for s in sets]
    suggest, answer = choose(sets)
    header = ["tune set", "suggest", "answer", "direct answers right", "right-first answered",
              "unanswerable answered", "no-answer F1", "answered or suggested"]
    chosen = [[s["name"], suggest, answer, *figures(s, s["conf"], s["ans"], suggest, answer).values()] for s in sets]
    chosen.append(["all, pooled", suggest, answer, *pooled(sets, suggest, answer).values()])
    sweep = [["all, pooled", s, a, *pooled(sets, s, a).values()] for s in SUGGEST for a in ANSWER]
    text = "\n".join([
        "## Answer decision: shipped models and thresholds (`benchmarks/calibrate.py`)", "",
        "Each build fits the decision's two models to its own help centre, without labels (docs/search.md "
        "\"Calibration\"); the shipped models are the sample help centre's own fit. The thresholds are chosen on the "
        f"tune sets, each whole and with half of its FAQs left out, each build with the models a server would use (its own fit; the shipped ones under "
        f"{MIN_FAQS} FAQs): the lowest "
        f"ANSWER_THRESHOLD with direct answers right ≥ {MIN_PRECISION:.0%} (pooled) and at most {MAX_WRONG_DIRECT:.0%} of "
        "each set's unanswerable questions answered anyway, and the SUGGEST_THRESHOLD with the best pooled "
        f"\"no answer\" F1 that still finds ≥ {MIN_FOUND:.0%} of the answerable questions' FAQs (answered or suggested).", "",
        f"Chosen: **SUGGEST_THRESHOLD = {suggest}**, **ANSWER_THRESHOLD = {answer}** (guide_server/settings.py has "
        f"{DEFAULTS['SUGGEST_THRESHOLD']} / {DEFAULTS['ANSWER_THRESHOLD']}).", "",
        table(header, chosen), "", "Sweep (pooled):", "", table(header, sweep)])
    print(text)
    if not args.no_write:
        CALIBRATION_FILE.write_text(json.dumps(shipped, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        write_section("calibration", text)


if __name__ == "__main__":
    main()
