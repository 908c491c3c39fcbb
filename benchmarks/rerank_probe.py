#!/usr/bin/env python3
"""Would a second stage that re-ranks the top candidates by what the search already knows pay?

Issue 15 asks for a re-ranker over the top candidates if one pays on held-out data. No
cross-encoder with Japanese weights ships inside a PyPI package (docs/search.md), so the re-ranker
a build could have is one learned over each candidate's present signals: its z-scored dense, BM25
and fuzzy scores, the fused score, its cosine and that cosine's gap to the best, BM25 as a share of
the question's idf ceiling, the idf-weighted share of the question's words the FAQ holds and its
title holds, the share of the title's words the question holds, and its rank by each method. This
script measures two such re-rankers on each set's whole corpus, against the fused ranking:

- **fitted on the set's labels** (a logistic model per candidate, 5 folds: each question ranked by
  a model that did not see it). No build has labels: it is about the most such a second stage could
  gain on that kind of question.
- **fitted per build, without labels**: the same model fitted on the questions a build makes from
  its own content (``selfcal``: titles, ``questions:`` and answer sentences with words left out and
  others put in; label: the candidate is the FAQ it was made from), as a build would ship it.

    python benchmarks/rerank_probe.py [--set NAME ...] [--data DIR] [--no-write]
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np
from answer_quality import SETS
from common import WORK, machine, table, write_section
from public_sets import DEFAULT_DATA, load_sets
from search_quality import build_corpus
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from guide_server import settings
from guide_server.config import models_of
from guide_server.search import selfcal
from guide_server.search.engine import _z  # the fusion's own z-scores
from guide_server.search.index import CANDIDATES
from guide_server.search.textnorm import fuzzy_form, normalize, tokens

FOLDS = 5


def _ranks(x: np.ndarray) -> np.ndarray:
    return np.argsort(np.argsort(-x, kind="stable"), kind="stable")


class Candidates:
    """Each candidate's signals for a question, as the engine gathers them (one locale's index)."""

    def __init__(self, engine, locale: str):
        self.engine, self.locale = engine, locale
        self.index = engine.indexes[locale]
        self.stats = engine.term_stats(locale)
        self.titles = [set(tokens(f.title, locale)) for f in self.index.faqs]

    def __call__(self, text: str) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """(rows, features per row, fused score per row), or None with fewer than two candidates."""
        loc, query = self.locale, normalize(text)
        qtokens = tokens(query, loc)
        sig = self.index.signals(query, qtokens, fuzzy_form(query, loc), CANDIDATES)
        if len(sig.rows) < 2:
            return None
        fused = self.engine.fuse(loc, sig.dense, sig.bm25, sig.fuzzy)
        dense = sig.dense.mean(axis=1)
        ids = self.stats.term_ids(qtokens)
        idf = np.array([self.stats.token_idf(t) for t in qtokens])
        total = idf.sum() or 1.0
        zd, zb, zf = _z(dense), _z(sig.bm25), _z(sig.fuzzy)
        rd, rb, ru = _ranks(dense), _ranks(sig.bm25), _ranks(fused)
        rows = []
        for n, row in enumerate(sig.rows):
            terms, title = self.stats.doc_terms(int(row)), self.titles[row]
            holds = sum(w for t, w in zip(ids, idf) if t is not None and t in terms) / total
            in_title = sum(w for t, w in zip(qtokens, idf) if t in title) / total
            rows.append([zd[n], zb[n], zf[n], fused[n], dense[n], dense[n] - dense.max(), sig.bm25[n] / total,
                         sig.fuzzy[n], holds, in_title, len(title & set(qtokens)) / max(1, len(title)),
                         1 / (1 + rd[n]), 1 / (1 + rb[n]), 1 / (1 + ru[n])])
        return sig.rows, np.array(rows, np.float64), fused


def _fit(x: np.ndarray, y: np.ndarray):
    scale = StandardScaler().fit(x)
    model = LogisticRegression(C=1.0, max_iter=3000).fit(scale.transform(x), y)
    return lambda f: model.decision_function(scale.transform(f))


def ranked_figures(questions: list, score) -> tuple[float, float]:
    """(Hit@1, right FAQ in the first three) when each question's candidates are ranked by ``score``."""
    first = three = 0
    for q, (rows, feats, fused) in enumerate(c for c, _ in questions):
        order = np.argsort(-score(q, feats, fused), kind="stable")
        right = questions[q][1]
        first += int(rows[order[0]]) in right
        three += bool(set(rows[order[:3]].tolist()) & right)
    return first / len(questions), three / len(questions)


def built_questions(cands: Candidates) -> tuple[np.ndarray, np.ndarray]:
    """Features and labels of the questions a build makes from its content (``selfcal``)."""
    index, loc, titles = cands.index, cands.locale, {}
    asked = selfcal.pseudo_questions(index)
    asked += selfcal.answer_sentences(index, sorted({row for row, _ in asked}))
    xs, ys = [], []
    for row, text in asked:
        text = selfcal.partial(text, loc, index.faqs.ids[row] + "\0" + text, selfcal.DROP,
                               selfcal._foreign(index, row, loc, titles), selfcal.SWAP)
        got = cands(text)
        if got is not None and row in got[0]:
            xs.append(got[1])
            ys.append(got[0] == row)
    return np.vstack(xs), np.concatenate(ys)


def probe(s) -> list:
    engine = build_corpus(f"rerank-{s.name}", s.content, models_of(settings.defaults()))
    cands = Candidates(engine, s.locale)
    questions = []
    for q in s.queries:
        right = {cands.index.by_id[f] for f in q.get("relevant", []) if f in cands.index.by_id}
        got = cands(q["query"]) if right else None
        if got is not None:
            questions.append((got, right))
    fused = ranked_figures(questions, lambda q, f, s: s)
    folds = np.arange(len(questions)) % FOLDS
    scorers = {}
    for k in range(FOLDS):
        train = [c for i, (c, _) in enumerate(questions) if folds[i] != k]
        rights = [r for i, (_, r) in enumerate(questions) if folds[i] != k]
        score = _fit(np.vstack([c[1] for c in train]), np.concatenate([np.isin(c[0], list(r)) for c, r in zip(train, rights)]))
        scorers.update({i: score for i in range(len(questions)) if folds[i] == k})
    labelled = ranked_figures(questions, lambda q, f, s: scorers[q](f))
    x, y = built_questions(cands)
    own = _fit(x, y)
    label_free = ranked_figures(questions, lambda q, f, s: own(f))
    row = [s.name, s.role, len(questions), *(f"{a:.3f} / {b:.3f}" for a, b in (fused, labelled, label_free))]
    print(" | ".join(map(str, row)), flush=True)
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", action="append", choices=SETS, dest="sets", help="a set to run (repeatable; default all)")
    ap.add_argument("--data", type=Path, default=Path(os.environ.get("GUIDE_EVAL_DATA") or DEFAULT_DATA))
    ap.add_argument("--no-write", action="store_true", help="print only; leave BENCHMARKS.md alone")
    args = ap.parse_args()
    sets = load_sets(args.sets or SETS, args.data, WORK / "rerank_probe")
    rows = [probe(s) for s in sets]
    text = "\n".join([
        "## A re-ranker over the present signals (`benchmarks/rerank_probe.py`)", "",
        f"Machine: {machine()}. Each set's whole corpus, built with the default models; its answerable "
        "questions. Figures: Hit@1 / the right FAQ among the first three. The re-ranker is a logistic model "
        "over each candidate's signals (the script's docstring lists them); \"on the set's labels\" is fitted "
        f"{FOLDS}-fold on the set's own questions (no build can do this), \"per build\" on the questions the "
        "build makes from its own content, as a build would. The report sets were measured once, after the "
        "method was fixed.", "",
        table(["set", "role", "questions", "fused (served)", "re-ranked, fitted on the set's labels",
               "re-ranked, fitted per build without labels"], rows),
    ])
    print(text)
    if not args.no_write:
        write_section("rerank_probe", text)


if __name__ == "__main__":
    main()
