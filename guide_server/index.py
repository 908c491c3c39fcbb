"""One locale's search index: dense vectors in faiss, BM25 over tokens, fuzzy strings.

``LocaleIndex.build`` makes it from parsed FAQs (reusing cached vectors),
``save``/``load`` keep it in a folder, and ``signals`` scores the FAQs that
any method puts among its top candidates.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .content import Faq
from .encoders import Encoder
from .textnorm import fuzzy_form, tokens

FLAT_LIMIT = 20000  # above this many vectors, an IVF index keeps queries fast
SECTION_CHARS = 320  # a section view is its heading and the start of its text
FUZZY_SCAN_LIMIT = 10000  # above this many strings, fuzzy only rescores other methods' candidates
CANDIDATES = 50


def view_id(faq_id: str, text: str) -> int:
    digest = hashlib.sha256(f"{faq_id}\0{text}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & ((1 << 63) - 1)


def views_of(faq: Faq) -> list[tuple[int, str]]:
    """Texts embedded for an FAQ: (section number or -1 for title/questions, text)."""
    out = [(-1, faq.title)] + [(-1, q) for q in faq.questions]
    for n, sec in enumerate(faq.sections):
        text = (sec.heading + "\n" + sec.text if sec.heading else sec.text)[:SECTION_CHARS]
        if text.strip():
            out.append((n, text))
    seen, unique = set(), []
    for sec, text in out:
        if text not in seen:
            seen.add(text)
            unique.append((sec, text))
    return unique


def lexical_text(faq: Faq) -> str:
    head = "\n".join([faq.title, *faq.questions])
    return "\n".join([head, head, " ".join(faq.tags), faq.plain_text])


@dataclass
class Signals:
    """Raw per-method scores for a set of candidate FAQs (rows = candidates)."""

    rows: np.ndarray  # FAQ indices
    dense: np.ndarray  # (n_candidates, n_encoders) max cosine over the FAQ's views
    bm25: np.ndarray
    fuzzy: np.ndarray  # 0..1
    qvecs: list  # the query's vector per encoder


class LocaleIndex:
    def __init__(self, locale: str, faqs: list[Faq], encoders: list[Encoder], vectors: list[np.ndarray],
                 view_faq: np.ndarray, view_section: np.ndarray, view_ids: np.ndarray,
                 doc_tokens: list[list[str]], fuzzy_strings: list[tuple[int, str]], faiss_indexes=None, bm25=None,
                 lines: list[str | None] | None = None):
        self.locale = locale
        self.faqs = faqs
        self.encoders = encoders
        self.vectors = vectors
        self.view_faq = view_faq
        self.view_section = view_section
        self.view_ids = view_ids
        self.doc_tokens = doc_tokens
        self.by_id = {f.id: i for i, f in enumerate(faqs)}
        self._fuzzy_choices = [s for _, s in fuzzy_strings]
        self._fuzzy_faq = np.array([i for i, _ in fuzzy_strings], dtype=np.int64)
        self._fuzzy_starts = np.searchsorted(self._fuzzy_faq, np.arange(len(faqs) + 1))
        # views are stored FAQ by FAQ; starts[i]:starts[i+1] are FAQ i's views
        self._starts = np.searchsorted(view_faq, np.arange(len(faqs) + 1))
        self._id_order = np.argsort(view_ids)
        self._lines = lines or [None] * len(faqs)  # docs.jsonl lines as read, reused when saving
        self.faiss = faiss_indexes or [_faiss_index(v, view_ids) for v in vectors]
        # bm25=False: no lexical index (a previous build read only as a cache for the next)
        self.bm25 = _bm25_index(doc_tokens) if bm25 is None else (bm25 or None)
        self.folder_key = None  # set when loaded from a folder: which files it was read from
        # True when the index was read only to be the next build's cache: that build may then
        # update its IVF lists in place instead of copying them first
        self.spare = False

    def fuzzy_of(self, row: int) -> list[str]:
        return self._fuzzy_choices[self._fuzzy_starts[row]:self._fuzzy_starts[row + 1]]

    # ---- building -------------------------------------------------------------------
    @classmethod
    def build(cls, locale: str, faqs: list[Faq], specs: list[str], load_encoder, cache: LocaleIndex | None = None,
              progress=None) -> LocaleIndex:
        """Index ``faqs``; an unchanged FAQ (same file hash) is copied from ``cache`` as it is.

        ``load_encoder(spec)`` is called only for encoders with texts to embed;
        ``progress(total)`` may return a callable that is told of each embedded batch.
        """
        same_encoders = cache is not None and [e.spec for e in cache.encoders] == specs
        old_rows = {f.hash: j for j, f in enumerate(cache.faqs)} if cache is not None else {}
        view_faq, view_section, ids, src = [], [], [], []  # src: the view's row in the cache, or -1
        new_texts, new_pos = [], []
        doc_tokens, fuzzy_strings, lines = [], [], []
        for i, faq in enumerate(faqs):
            j = old_rows.get(faq.hash)
            if j is not None and cache.faqs[j].id != faq.id:
                j = None
            if j is not None and same_encoders:
                lo, hi = int(cache._starts[j]), int(cache._starts[j + 1])
                view_faq.extend([i] * (hi - lo))
                view_section.extend(cache.view_section[lo:hi].tolist())
                ids.extend(cache.view_ids[lo:hi].tolist())
                src.extend(range(lo, hi))
            else:
                for sec, text in views_of(faq):
                    new_pos.append(len(ids))
                    new_texts.append(text)
                    view_faq.append(i)
                    view_section.append(sec)
                    ids.append(view_id(faq.id, text))
                    src.append(-1)
            if j is not None:
                doc_tokens.append(cache.doc_tokens[j])
                fuzzy_strings.extend((i, s) for s in cache.fuzzy_of(j))
                lines.append(cache._lines[j])
            else:
                doc_tokens.append(tokens(lexical_text(faq), locale))
                fuzzy_strings.extend((i, fuzzy_form(s, locale)) for s in [faq.title, *faq.questions])
                lines.append(None)
        view_ids = np.array(ids, dtype=np.int64)
        src_rows = np.array(src, dtype=np.int64)
        new_pos_arr = np.array(new_pos, dtype=np.int64)

        # A changed FAQ keeps the vectors of the views whose text did not change.
        if cache is not None and len(new_pos_arr) and same_encoders and len(cache.view_ids):
            order = cache._id_order
            at = np.minimum(np.searchsorted(cache.view_ids, view_ids[new_pos_arr], sorter=order), len(order) - 1)
            hit = cache.view_ids[order[at]] == view_ids[new_pos_arr]
            src_rows[new_pos_arr[hit]] = order[at[hit]]
        todo = np.nonzero(src_rows < 0)[0]
        text_at = dict(zip(new_pos, new_texts))
        update = progress(len(todo) * len(specs)) if progress else None

        encoders, vectors = [], []
        for e, spec in enumerate(specs):
            enc = cache.encoders[e] if same_encoders and not len(todo) else load_encoder(spec)
            out = np.empty((len(view_ids), enc.dim), np.float32)
            reused = src_rows >= 0
            if reused.any():
                out[reused] = cache.vectors[e][src_rows[reused]]
            for start in range(0, len(todo), 64):
                chunk = todo[start:start + 64]
                out[chunk] = enc.encode_docs([text_at[int(k)] for k in chunk])
                if update:
                    update(len(chunk))
            encoders.append(enc)
            vectors.append(out)
        faiss_indexes = [
            _faiss_index(v, view_ids, cache.faiss[e] if same_encoders else None, cache.view_ids if same_encoders else None,
                         in_place=cache is not None and cache.spare)
            for e, v in enumerate(vectors)
        ]
        index = cls(locale, faqs, encoders, vectors, np.array(view_faq, dtype=np.int64),
                    np.array(view_section, dtype=np.int64), view_ids, doc_tokens, fuzzy_strings, faiss_indexes,
                    lines=lines)
        index.embedded = len(todo)
        return index

    # ---- persistence ------------------------------------------------------------------
    def save(self, folder: Path) -> None:
        import faiss

        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / "docs.jsonl", "w", encoding="utf-8") as fh:
            for i, faq in enumerate(self.faqs):
                line = self._lines[i]
                if line is None:
                    rec = faq.to_record()
                    rec["tokens"] = self.doc_tokens[i]
                    rec["fuzzy"] = self.fuzzy_of(i)
                    line = json.dumps(rec, ensure_ascii=False) + "\n"
                fh.write(line)
        np.save(folder / "view_faq.npy", self.view_faq)
        np.save(folder / "view_section.npy", self.view_section)
        np.save(folder / "view_ids.npy", self.view_ids)
        for e, (vec, idx) in enumerate(zip(self.vectors, self.faiss)):
            np.save(folder / f"dense-{e}.npy", vec)
            if not _is_flat(idx):
                faiss.write_index(idx, str(folder / f"dense-{e}.faiss"))
        self.bm25.save(str(folder / "bm25"), show_progress=False)

    @classmethod
    def load(cls, locale: str, folder: Path, encoders: list[Encoder], mmap: bool = True,
             docs: Docs | None = None, lexical: bool = True) -> LocaleIndex:
        """Load a saved index. Vectors are memory-mapped: fast to open, and shared between worker
        processes through the page cache. IVF lists are too, unless ``mmap`` is off: a build updates
        the previous build's IVF lists (a copy of them, or the lists themselves when it read them
        for itself, see ``spare``), and mapped lists can be neither copied nor changed.
        ``docs`` is what :func:`read_docs` returned for this folder, when it was read already;
        ``lexical=False`` skips the BM25 index, which a build makes anew anyway."""
        import bm25s
        import faiss

        faqs, doc_tokens, fuzzy_strings, lines = docs or read_docs(folder)
        view_ids = np.load(folder / "view_ids.npy")
        vectors, indexes = [], []
        for e in range(len(encoders)):
            vec = np.load(folder / f"dense-{e}.npy", mmap_mode="r")
            vectors.append(vec)
            path = folder / f"dense-{e}.faiss"
            flags = faiss.IO_FLAG_MMAP if mmap else 0
            indexes.append(faiss.read_index(str(path), flags) if path.exists() else _faiss_index(vec, view_ids))
        bm25 = (bm25s.BM25.load(str(folder / "bm25"), mmap=mmap, show_progress=False, verbosity=0)
                if doc_tokens and lexical else False)
        index = cls(locale, faqs, encoders, vectors, np.load(folder / "view_faq.npy"),
                    np.load(folder / "view_section.npy"), view_ids, doc_tokens, fuzzy_strings, indexes, bm25, lines)
        index.folder_key = folder_key(folder)
        return index

    # ---- scoring ----------------------------------------------------------------------
    def query_vectors(self, text: str) -> list[np.ndarray]:
        return [enc.encode_queries([text])[0] for enc in self.encoders]

    def dense_top(self, qvecs: list[np.ndarray], k: int) -> set[int]:
        import faiss

        rows: set[int] = set()
        for idx, q in zip(self.faiss, qvecs):
            _, found = _one_thread(faiss, idx.search, q[None, :].astype(np.float32), min(k * 4, len(self.view_ids)))
            for vid in found[0]:
                if vid >= 0:
                    rows.add(int(self.view_faq[self._view_row(vid)]))
                    if len(rows) >= k:
                        break
        return rows

    def _view_row(self, vid: int) -> int:
        pos = np.searchsorted(self.view_ids, vid, sorter=self._id_order)
        return int(self._id_order[pos])

    def bm25_scores(self, qtokens: list[str]) -> np.ndarray:
        if self.bm25 is None:
            return np.zeros(len(self.faqs), np.float32)
        ids = self.bm25.get_tokens_ids(qtokens)
        if not ids:
            return np.zeros(len(self.faqs), np.float32)
        return self.bm25.get_scores(ids)

    def fuzzy_top(self, qform: str, k: int) -> set[int]:
        if not qform or len(self._fuzzy_choices) > FUZZY_SCAN_LIMIT:
            return set()
        from rapidfuzz import fuzz, process

        # plain ratio is ~10x cheaper than WRatio for the scan; candidates are rescored with WRatio
        found = process.extract(qform, self._fuzzy_choices, scorer=fuzz.ratio, limit=k * 3)
        rows: set[int] = set()
        for _, _, j in found:
            rows.add(int(self._fuzzy_faq[j]))
            if len(rows) >= k:
                break
        return rows

    def fuzzy_scores(self, qform: str, rows: np.ndarray) -> np.ndarray:
        """Best fuzzy ratio (0..1) of the query against each candidate's title and questions."""
        from rapidfuzz import fuzz, process

        if not qform or not len(rows):
            return np.zeros(len(rows), np.float32)
        idx, seg = _segments(self._fuzzy_starts, rows)
        if not len(idx):
            return np.zeros(len(rows), np.float32)
        scores = process.cdist([qform], [self._fuzzy_choices[j] for j in idx], scorer=fuzz.WRatio, dtype=np.float32)[0]
        return _segment_max(scores, seg, len(rows)) / 100.0

    def signals(self, text: str, qtokens: list[str], qform: str, candidates: int = CANDIDATES,
                methods: tuple[str, ...] = ("dense", "bm25", "fuzzy"), fuzzy_candidates: bool = True) -> Signals:
        """Raw scores of every method for the union of each method's top candidates.

        With ``fuzzy_candidates`` off, fuzzy matching only rescores the other
        methods' candidates (for a locale whose fusion gives it no weight).
        """
        qvecs = self.query_vectors(text) if "dense" in methods else []
        bm25_all = self.bm25_scores(qtokens) if "bm25" in methods else np.zeros(len(self.faqs), np.float32)
        rows: set[int] = set()
        if qvecs:
            rows |= self.dense_top(qvecs, candidates)
        if "bm25" in methods and bm25_all.any():
            top = np.argpartition(-bm25_all, min(candidates, len(bm25_all) - 1))[:candidates]
            rows |= {int(r) for r in top if bm25_all[r] > 0}
        if "fuzzy" in methods and fuzzy_candidates:
            rows |= self.fuzzy_top(qform, candidates)
        cand = np.array(sorted(rows), dtype=np.int64)
        dense = np.zeros((len(cand), max(1, len(qvecs))), np.float32)
        if len(cand) and qvecs:
            idx, seg = _segments(self._starts, cand)
            for e, q in enumerate(qvecs):
                dense[:, e] = _segment_max(self.vectors[e][idx] @ q, seg, len(cand))
        fuzzy = self.fuzzy_scores(qform, cand) if "fuzzy" in methods else np.zeros(len(cand), np.float32)
        return Signals(cand, dense, bm25_all[cand] if len(cand) else np.zeros(0, np.float32), fuzzy, qvecs)

    def best_section(self, row: int, qvecs: list[np.ndarray]) -> int | None:
        """The FAQ section whose text is closest to the query (first encoder), or None."""
        if not qvecs:
            return None
        lo, hi = self._starts[row], self._starts[row + 1]
        body = np.nonzero(self.view_section[lo:hi] >= 0)[0]
        if not len(body):
            return None
        sims = self.vectors[0][lo + body] @ qvecs[0]
        return int(self.view_section[lo + body[int(np.argmax(sims))]])


def _one_thread(faiss, fn, *args):
    """Run a faiss call with one OpenMP thread. A single query is a small search, where
    OpenMP's start-up costs more than it saves (4 ms vs 0.5 ms at 1,000 FAQs). The setting
    is the calling thread's own, so encoders (torch shares the OpenMP runtime) keep theirs."""
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        return fn(*args)
    finally:
        faiss.omp_set_num_threads(before)


def _segments(starts: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Item positions of the given rows (row i owns starts[i]:starts[i+1]) and each item's segment number."""
    lo, hi = starts[rows], starts[rows + 1]
    lengths = hi - lo
    seg = np.repeat(np.arange(len(rows)), lengths)
    offsets = np.repeat(lo - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
    return np.arange(int(lengths.sum())) + offsets, seg


def _segment_max(values: np.ndarray, seg: np.ndarray, n: int) -> np.ndarray:
    out = np.full(n, -np.inf, np.float32)
    np.maximum.at(out, seg, values.astype(np.float32))
    out[np.isinf(out)] = 0.0
    return out


def folder_key(folder: Path) -> tuple[int, int, int]:
    """Identifies a saved index's files: the same key in two builds means the folder was hard-linked, unchanged."""
    st = (folder / "docs.jsonl").stat()
    return st.st_dev, st.st_ino, st.st_mtime_ns


Docs = tuple  # (faqs, doc_tokens, fuzzy_strings, lines), as read_docs returns


def read_docs(folder: Path) -> Docs:
    """The FAQ records of a saved index (docs.jsonl), without its vectors and lexical index."""
    from .content import Faq as FaqRecord

    faqs, doc_tokens, fuzzy_strings, lines = [], [], [], []
    with open(folder / "docs.jsonl", encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            rec = json.loads(line)
            doc_tokens.append(rec.pop("tokens"))
            fuzzy_strings.extend((i, s) for s in rec.pop("fuzzy"))
            faqs.append(FaqRecord.from_record(rec))
            lines.append(line)
    return faqs, doc_tokens, fuzzy_strings, lines


def _is_flat(index) -> bool:
    import faiss

    return isinstance(index, faiss.IndexIDMap2) or isinstance(index, faiss.IndexFlat)


def _faiss_index(vectors: np.ndarray, ids: np.ndarray, previous=None, previous_ids=None, in_place: bool = False):
    """A flat index for small sets; an IVF index, updated from ``previous`` when possible, for large
    ones. ``previous`` is copied first unless ``in_place`` says nothing else will use it."""
    import faiss

    n, dim = vectors.shape if vectors.ndim == 2 else (0, 1)
    if n <= FLAT_LIMIT:
        index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        if n:
            index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids)
        return index
    nlist = max(1, min(int(math.sqrt(n)), n // 39))  # faiss wants ~39 training points per list
    reusable = (previous is not None and not _is_flat(previous) and previous.d == dim
                and previous_ids is not None and 0.5 < n / max(1, len(previous_ids)) < 2)
    if reusable:
        index = previous if in_place else faiss.clone_index(previous)
        old, new = set(previous_ids.tolist()), set(ids.tolist())
        gone = np.array(sorted(old - new), dtype=np.int64)
        if len(gone):
            index.remove_ids(gone)
        fresh = np.array([i for i, v in enumerate(ids.tolist()) if v not in old], dtype=np.int64)
        if len(fresh):
            index.add_with_ids(np.ascontiguousarray(vectors[fresh], dtype=np.float32), ids[fresh])
    else:
        quantizer = faiss.IndexFlatIP(dim)
        index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
        rng = np.random.default_rng(0)
        sample = vectors[rng.choice(n, size=min(n, nlist * 64), replace=False)]
        index.train(np.ascontiguousarray(sample, dtype=np.float32))
        index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids)
    index.nprobe = min(16, index.nlist)
    return index


def _bm25_index(doc_tokens: list[list[str]]):
    import bm25s

    if not doc_tokens:
        return None
    index = bm25s.BM25(k1=1.2, b=0.75)
    # an empty document still needs a token so that rows line up with FAQs
    index.index([t or ["\u0000"] for t in doc_tokens], show_progress=False)
    return index
