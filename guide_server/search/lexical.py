"""Keyword-search data of one locale: each FAQ's tokens as ids into a vocabulary, and BM25 over them.

Tokens are kept as integer ids, FAQ by FAQ, so that a rebuild copies an unchanged FAQ's tokens
as a slice of an array, tokenises only the FAQs that changed, and recomputes every BM25 weight
(they all depend on the collection's document frequencies) in a few vectorised numpy steps.
The result is handed to bm25s, which stores it and scores queries against it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

# BM25 parameters (Lucene's formula, as bm25s's default method). k1 0.8 (was 1.2): English dev set
# 7 queries ranked better, none worse (sign test p .02), StackFAQ 2 / 0, Japanese 2 / 0
# (benchmarks/retrieval_sweep.py)
K1, B = 0.8, 0.75


def ranges(lo: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The positions ``lo[0] .. lo[0]+lengths[0]-1``, then those of the next range, and so on."""
    offsets = np.repeat(lo - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
    return np.arange(int(lengths.sum()), dtype=np.int64) + offsets


class Terms:
    """Token ids of FAQ ``i`` are ``ids[starts[i]:starts[i + 1]]``; ``vocab[id]`` is the token."""

    def __init__(self, vocab: list[str], ids: np.ndarray, starts: np.ndarray):
        self.vocab = vocab
        self.ids = np.asarray(ids, dtype=np.int32)
        self.starts = np.asarray(starts, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.starts) - 1

    def tokens(self, row: int) -> list[str]:
        return [self.vocab[t] for t in self.ids[self.starts[row]:self.starts[row + 1]]]

    @classmethod
    def combine(cls, old: Terms | None, sources: list) -> Terms:
        """The terms of a new collection: ``sources[i]`` is a row of ``old`` whose tokens FAQ ``i``
        keeps, or the list of FAQ ``i``'s tokens when it is new or changed."""
        vocab = list(old.vocab) if old is not None else []
        lookup: dict[str, int] | None = None
        base = len(old.ids) if old is not None else 0
        extra: list[int] = []
        lo = np.empty(len(sources), np.int64)
        hi = np.empty(len(sources), np.int64)
        for i, src in enumerate(sources):
            if isinstance(src, (int, np.integer)):
                lo[i], hi[i] = old.starts[src], old.starts[src + 1]
                continue
            if lookup is None:
                lookup = {tok: n for n, tok in enumerate(vocab)}
            lo[i] = base + len(extra)
            for tok in src:
                n = lookup.get(tok)
                if n is None:
                    n = lookup[tok] = len(vocab)
                    vocab.append(tok)
                extra.append(n)
            hi[i] = base + len(extra)
        pool = np.concatenate([old.ids if old is not None else np.zeros(0, np.int32), np.array(extra, np.int32)])
        lengths = hi - lo
        # each FAQ's run of the pool, in the new order
        return cls(vocab, pool[ranges(lo, lengths)], np.concatenate([[0], np.cumsum(lengths)]))._compacted()

    def _compacted(self) -> Terms:
        """Drop vocabulary entries no FAQ uses any more (a word deleted from its last FAQ)."""
        used = np.bincount(self.ids, minlength=len(self.vocab)) > 0
        if used.all():
            return self
        new_id = np.cumsum(used) - 1
        vocab = [tok for tok, keep in zip(self.vocab, used) if keep]
        return Terms(vocab, new_id[self.ids], self.starts)

    def bm25_matrix(self, k1: float = K1, b: float = B) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """BM25 weight of every (term, FAQ) pair as a CSC matrix (FAQs x vocabulary):
        ``data``, ``indices`` (FAQ rows) and ``indptr`` (one column per term), as bm25s keeps it."""
        n, v = len(self), len(self.vocab)
        lengths = np.diff(self.starts)
        doc = np.repeat(np.arange(n, dtype=np.int64), lengths)
        # one key per (term, FAQ): sorting the keys orders the pairs column by column
        width = max(n, 1)
        keys, tf = np.unique(self.ids.astype(np.int64) * width + doc, return_counts=True)
        term, row = keys // width, keys % width
        df = np.bincount(term, minlength=v)
        with np.errstate(divide="ignore", invalid="ignore"):
            idf = np.log1p((n - df + 0.5) / (df + 0.5)).astype(np.float32)
        avg = float(lengths.mean()) if n and lengths.sum() else 1.0
        tfc = tf / (k1 * ((1 - b) + b * lengths[row] / avg) + tf)
        data = (idf[term] * tfc).astype(np.float32)
        indptr = np.concatenate([[0], np.cumsum(df)]).astype(np.int64)
        return data, row.astype(np.int32), indptr

    def bm25(self, k1: float = K1, b: float = B):
        """A bm25s index over these terms (None for an empty collection)."""
        import bm25s

        if not len(self):
            return None
        data, indices, indptr = self.bm25_matrix(k1, b)
        index = bm25s.BM25(k1=k1, b=b, method="lucene", idf_method="lucene")
        index.scores = {"data": data, "indices": indices, "indptr": indptr, "num_docs": len(self)}
        index.vocab_dict = {tok: n for n, tok in enumerate(self.vocab)}
        index.unique_token_ids_set = set(index.vocab_dict.values())
        index.nonoccurrence_array = None
        return index

    # ---- persistence ------------------------------------------------------------------
    def save(self, folder: Path) -> None:
        np.save(folder / "term_ids.npy", self.ids)
        np.save(folder / "term_starts.npy", self.starts)
        with open(folder / "terms.json", "w", encoding="utf-8") as fh:
            json.dump(self.vocab, fh, ensure_ascii=False)

    @classmethod
    def load(cls, folder: Path) -> Terms:
        """The terms saved in ``folder``; the ids are memory-mapped (a server never reads them, a
        build reads them once), the files are never written again."""
        with open(folder / "terms.json", encoding="utf-8") as fh:
            vocab = json.load(fh)
        return cls(vocab, np.load(folder / "term_ids.npy", mmap_mode="r"), np.load(folder / "term_starts.npy", mmap_mode="r"))
