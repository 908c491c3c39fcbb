"""What the answer decision reads from one ranking: features meant to carry across help centres.

Raw scores do not transfer: a cosine of 0.6 is a near match among short FAQs and a weak one
among long ones, and BM25 grows with the help centre's vocabulary. The features here are
either relative (margins between the first two FAQs, agreement between methods) or normalised
by the help centre's own statistics (BM25 over the most the query's words could score, the
share of the query's informative words the top FAQ holds). ``selfcal`` fits the decision on
them per build; ``engine`` computes them for every question.
"""

from __future__ import annotations

import math

import numpy as np

FEATURES = ("dense_top", "dense_margin", "bm25_top", "fuzzy_top", "fused_margin", "coverage", "term_match", "agree")


class TermStats:
    """A locale's document frequencies, read from its BM25 index (one column per term)."""

    def __init__(self, index):
        bm25 = index.bm25
        self.vocab = bm25.vocab_dict if bm25 is not None else {}
        self.docs = int(bm25.scores["num_docs"]) if bm25 is not None else len(index.faqs)
        self.df = np.diff(bm25.scores["indptr"]).astype(np.int64) if bm25 is not None else np.zeros(0, np.int64)
        self.terms = index.terms

    def idf(self, df: int) -> float:
        return math.log1p((self.docs - df + 0.5) / (df + 0.5))

    def token_idf(self, token: str) -> float:
        """A search token's idf here (a token no FAQ has: the highest)."""
        i = self.vocab.get(token)
        return self.idf(int(self.df[i]) if i is not None else 0)

    def term_ids(self, qtokens: list[str]) -> list[int | None]:
        return [self.vocab.get(t) for t in qtokens]

    def doc_terms(self, row: int) -> set[int]:
        return set(self.terms.ids[self.terms.starts[row]:self.terms.starts[row + 1]].tolist())


def features(stats: TermStats, qtokens: list[str], dense: np.ndarray, bm25: np.ndarray, fuzzy: np.ndarray,
             fused: np.ndarray, order: np.ndarray, active: tuple[str, ...], top_terms: set[int],
             rare: set[int] = frozenset()) -> dict[str, float]:
    """The decision's features for a ranking of candidates (rows of ``dense``/``bm25``/``fuzzy``,
    ``order`` best first). ``top_terms`` are the term ids of the top FAQ; ``rare`` are terms whose
    document frequency is one lower than the index says (``selfcal`` leaves an FAQ out)."""
    top = order[0]
    second = order[1] if len(order) > 1 else None
    d = dense.mean(axis=1)
    ids = stats.term_ids(qtokens)
    unknown_idf = stats.idf(0)
    weights, covered, matched = [], 0, 0.0
    for t in ids:
        df = stats.df[t] - (t in rare) if t is not None else 0
        w = stats.idf(df) if df > 0 else unknown_idf
        weights.append(w)
        if df > 0:
            covered += 1
            if t in top_terms:
                matched += w
    total = sum(weights)
    tops = {"dense": int(np.argmax(d)), "bm25": int(np.argmax(bm25)), "fuzzy": int(np.argmax(fuzzy))}
    voters = [m for m in active if m in tops]
    return {
        "dense_top": float(d[top]),
        "dense_margin": float(d[top] - (d[second] if second is not None else 0.0)),
        # Lucene's BM25 gives a word at most its idf: the share of that ceiling the top FAQ reached
        "bm25_top": float(bm25[top] / total) if total else 0.0,
        "fuzzy_top": float(fuzzy[top]),
        "fused_margin": float(fused[top] - (fused[second] if second is not None else 0.0)),
        "coverage": covered / len(ids) if ids else 0.0,
        "term_match": matched / total if total else 0.0,
        "agree": float(sum(tops[m] == top for m in voters) / len(voters)) if voters else 0.0,
    }
