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

from .encoders import Encoder
from .faq import Faq
from .integrity import LocaleFiles
from .lexical import Terms, ranges
from .records import Records
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
    def __init__(self, locale: str, faqs: Records | list[Faq], encoders: list[Encoder], vectors: list[np.ndarray],
                 view_faq: np.ndarray, view_section: np.ndarray, view_ids: np.ndarray,
                 terms: Terms, fuzzy_strings: list[tuple[int, str]], faiss_indexes=None, bm25=None):
        self.locale = locale
        self.faqs = faqs if isinstance(faqs, Records) else Records.of(faqs)
        self.encoders = encoders
        self.vectors = vectors
        self.view_faq = view_faq
        self.view_section = view_section
        self.view_ids = view_ids
        self.terms = terms
        self.by_id = {faq_id: i for i, faq_id in enumerate(self.faqs.ids)}
        self._fuzzy_choices = [s for _, s in fuzzy_strings]
        self._fuzzy_faq = np.array([i for i, _ in fuzzy_strings], dtype=np.int64)
        self._fuzzy_starts = np.searchsorted(self._fuzzy_faq, np.arange(len(faqs) + 1))
        # views are stored FAQ by FAQ; starts[i]:starts[i+1] are FAQ i's views
        self._starts = np.searchsorted(view_faq, np.arange(len(faqs) + 1))
        self._id_order = np.argsort(view_ids)
        self.faiss = faiss_indexes or [_faiss_index(v, view_ids) for v in vectors]
        # bm25=False: no lexical index (a previous build read only as a cache for the next)
        self.bm25 = terms.bm25() if bm25 is None else (bm25 or None)
        self.folder_key = None  # set when loaded from a folder: which files it was read from
        self.checksums = None  # and their entries in the manifest (None: built here, or a build without checksums)
        # True when the index was read only to be the next build's cache: that build may then
        # update its IVF lists in place instead of copying them first
        self.spare = False

    def fuzzy_of(self, row: int) -> list[str]:
        return self._fuzzy_choices[self._fuzzy_starts[row]:self._fuzzy_starts[row + 1]]

    # ---- building -------------------------------------------------------------------
    @classmethod
    def build(cls, locale: str, faqs: list, specs: list[str], load_encoder, cache: LocaleIndex | None = None,
              progress=None) -> LocaleIndex:
        """Index ``faqs``; an unchanged FAQ (same file hash, id and path) is copied from ``cache``
        as it is: its record, tokens, fuzzy strings and vectors. Such an FAQ may be given by a
        stand-in with only ``id``, ``hash`` and ``path``; every other one must be a parsed Faq.

        ``load_encoder(spec)`` is called only for encoders with texts to embed;
        ``progress(total)`` may return a callable that is told of each embedded batch.
        """
        same_encoders = cache is not None and [e.spec for e in cache.encoders] == specs
        n = len(faqs)
        rows = np.full(n, -1, np.int64)  # each FAQ's row in the cache, or -1
        counts = np.zeros(n, np.int64)  # its number of views
        new_views = []  # (FAQ, section, text) of the views not copied from the cache as a block
        entries, term_sources, fuzzy_strings = [], [], []
        for i, faq in enumerate(faqs):
            j = cache.faqs.find(faq.hash, faq.id, faq.path) if cache is not None else None
            if j is None and not isinstance(faq, Faq):
                raise ValueError(f"{faq.path}: not in the previous build, and only its stand-in was given")
            if j is not None:
                rows[i] = j
                entries.append(cache.faqs.entry(j))
                term_sources.append(j)
                fuzzy_strings.extend((i, s) for s in cache.fuzzy_of(j))
            else:
                entries.append(faq)
                term_sources.append(tokens(lexical_text(faq), locale))
                fuzzy_strings.extend((i, fuzzy_form(s, locale)) for s in [faq.title, *faq.questions])
            if j is not None and same_encoders:
                counts[i] = cache._starts[j + 1] - cache._starts[j]
            else:
                if not isinstance(faq, Faq):
                    faq = cache.faqs[j]  # other encoders: the unchanged FAQ is embedded again
                views = views_of(faq)
                counts[i] = len(views)
                new_views.extend((i, sec, text) for sec, text in views)
        # views are stored FAQ by FAQ: an unchanged FAQ's views are copied as a block
        starts = np.concatenate([[0], np.cumsum(counts)])
        view_faq = np.repeat(np.arange(n, dtype=np.int64), counts)
        view_section = np.empty(len(view_faq), np.int64)
        view_ids = np.empty(len(view_faq), np.int64)
        src_rows = np.full(len(view_faq), -1, np.int64)  # the view's row in the cache, or -1
        copied = (rows >= 0) if same_encoders else np.zeros(n, bool)
        if copied.any():
            dest, _ = _segments(starts, np.nonzero(copied)[0])
            source, _ = _segments(cache._starts, rows[copied])
            view_section[dest], view_ids[dest], src_rows[dest] = cache.view_section[source], cache.view_ids[source], source
        new_pos, _ = _segments(starts, np.nonzero(~copied)[0])
        new_texts = [text for _, _, text in new_views]
        view_section[new_pos] = [sec for _, sec, _ in new_views]
        view_ids[new_pos] = [view_id(faqs[i].id, text) for i, _, text in new_views]

        # A changed FAQ keeps the vectors of the views whose text did not change.
        if cache is not None and len(new_pos) and same_encoders and len(cache.view_ids):
            order = cache._id_order
            at = np.minimum(np.searchsorted(cache.view_ids, view_ids[new_pos], sorter=order), len(order) - 1)
            hit = cache.view_ids[order[at]] == view_ids[new_pos]
            src_rows[new_pos[hit]] = order[at[hit]]
        todo = np.nonzero(src_rows < 0)[0]
        text_at = dict(zip(new_pos.tolist(), new_texts))
        update = progress(len(todo) * len(specs)) if progress else None

        encoders, vectors = [], []
        for e, spec in enumerate(specs):
            enc = cache.encoders[e] if same_encoders and not len(todo) else load_encoder(spec)
            out = np.empty((len(view_ids), enc.dim), np.float32)
            if cache is not None:
                _copy_rows(out, cache.vectors[e], src_rows)
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
        records = Records([f.id for f in faqs], [f.hash for f in faqs], [f.path for f in faqs], entries)
        terms = Terms.combine(cache.terms if cache is not None else None, term_sources)
        index = cls(locale, records, encoders, vectors, view_faq, view_section, view_ids, terms, fuzzy_strings,
                    faiss_indexes)
        index.embedded = len(todo)
        return index

    # ---- persistence ------------------------------------------------------------------
    def save(self, folder: Path) -> None:
        import faiss

        folder.mkdir(parents=True, exist_ok=True)
        self.faqs.save(folder)
        rows = {"id": self.faqs.ids, "hash": self.faqs.hashes, "path": self.faqs.paths,
                "fuzzy": [self.fuzzy_of(i) for i in range(len(self.faqs))]}
        with open(folder / "rows.json", "w", encoding="utf-8") as fh:
            json.dump(rows, fh, ensure_ascii=False)
        self.terms.save(folder)
        np.save(folder / "view_faq.npy", self.view_faq)
        np.save(folder / "view_section.npy", self.view_section)
        np.save(folder / "view_ids.npy", self.view_ids)
        for e, (vec, idx) in enumerate(zip(self.vectors, self.faiss)):
            np.save(folder / f"dense-{e}.npy", vec)
            if not _is_flat(idx):
                faiss.write_index(idx, str(folder / f"dense-{e}.faiss"))
        if self.bm25 is not None:
            self.bm25.save(str(folder / "bm25"), show_progress=False)

    @classmethod
    def load(cls, locale: str, files: LocaleFiles, encoders: list[Encoder], lexical: bool = True,
             vectors: bool = False) -> LocaleIndex:
        """Load a saved index from ``files`` (see ``integrity``): each file is read whole into this
        process's memory and checked against its checksum before it is parsed, and nothing is
        memory-mapped, so a file changed or truncated later cannot reach a loaded index. Under
        gunicorn --preload the master loads the index and the forked workers share its pages.
        ``lexical=False`` skips the BM25 index, which a build makes anew anyway.

        The vectors are held once: where the build saved a faiss IVF index (a large locale),
        scoring takes a candidate's vectors from it (:meth:`view_vectors`) and ``dense-N.npy`` is
        not read, unless ``vectors`` asks for it (a builder copies unchanged FAQs' vectors from it)."""
        faqs, terms, fuzzy_strings = read_docs(files)
        view_ids = files.npy("view_ids.npy")
        arrays, indexes = [], []
        for e in range(len(encoders)):
            name = f"dense-{e}.faiss"
            if files.has(name):
                indexes.append(_with_lookup(files.faiss(name)))
                arrays.append(files.npy(f"dense-{e}.npy") if vectors else None)
            else:
                arrays.append(files.npy(f"dense-{e}.npy"))
                indexes.append(_faiss_index(arrays[-1], view_ids))
        bm25 = _read_bm25(files) if len(faqs) and lexical else False
        index = cls(locale, faqs, encoders, arrays, files.npy("view_faq.npy"), files.npy("view_section.npy"),
                    view_ids, terms, fuzzy_strings, indexes, bm25)
        index.folder_key = folder_key(files.path)
        index.checksums = files.files.of(locale)
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
        dense = self.dense_scores(cand, qvecs)
        fuzzy = self.fuzzy_scores(qform, cand) if "fuzzy" in methods else np.zeros(len(cand), np.float32)
        return Signals(cand, dense, bm25_all[cand] if len(cand) else np.zeros(0, np.float32), fuzzy, qvecs)

    def dense_scores(self, rows: np.ndarray, qvecs: list[np.ndarray]) -> np.ndarray:
        """(len(rows), encoders): each FAQ's highest cosine over its views, per encoder (0 without views)."""
        dense = np.zeros((len(rows), max(1, len(qvecs))), np.float32)
        if len(rows) and qvecs:
            idx, seg = _segments(self._starts, rows)
            for e, q in enumerate(qvecs):
                dense[:, e] = _segment_max(self.view_vectors(e, idx) @ q, seg, len(rows))
        return dense

    def best_section(self, row: int, qvecs: list[np.ndarray]) -> int | None:
        """The FAQ section whose text is closest to the query (first encoder), or None."""
        if not qvecs:
            return None
        lo, hi = self._starts[row], self._starts[row + 1]
        body = np.nonzero(self.view_section[lo:hi] >= 0)[0]
        if not len(body):
            return None
        sims = self.view_vectors(0, lo + body) @ qvecs[0]
        return int(self.view_section[lo + body[int(np.argmax(sims))]])

    def view_vectors(self, e: int, rows: np.ndarray) -> np.ndarray:
        """Encoder ``e``'s vectors of the given view rows: from the array when it is held, else
        decoded from the faiss index by view id."""
        held = self.vectors[e]
        if held is not None:
            return held[rows]
        if not len(rows):
            return np.zeros((0, self.faiss[e].d), np.float32)
        return self.faiss[e].reconstruct_batch(np.ascontiguousarray(self.view_ids[rows], dtype=np.int64))


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


def _copy_rows(out: np.ndarray, source: np.ndarray, src_rows: np.ndarray) -> None:
    """``out[i] = source[src_rows[i]]`` wherever ``src_rows[i] >= 0``. A rebuild keeps most rows in
    order, so runs that are contiguous on both sides are copied as slices, not gathered row by row."""
    keep = np.nonzero(src_rows >= 0)[0]
    if not len(keep):
        return
    src = src_rows[keep]
    breaks = np.nonzero((np.diff(keep) != 1) | (np.diff(src) != 1))[0] + 1
    if len(breaks) > 1000:  # shuffled: one gather is cheaper than many small copies
        out[keep] = source[src]
        return
    for a, b in zip([0, *breaks.tolist()], [*breaks.tolist(), len(keep)]):
        out[keep[a]:keep[b - 1] + 1] = source[src[a]:src[b - 1] + 1]


def _segments(starts: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Item positions of the given rows (row i owns starts[i]:starts[i+1]) and each item's segment number."""
    lo = starts[rows]
    lengths = starts[rows + 1] - lo
    return ranges(lo, lengths), np.repeat(np.arange(len(rows)), lengths)


def _segment_max(values: np.ndarray, seg: np.ndarray, n: int) -> np.ndarray:
    out = np.full(n, -np.inf, np.float32)
    np.maximum.at(out, seg, values.astype(np.float32))
    out[np.isinf(out)] = 0.0
    return out


def folder_key(folder: Path) -> tuple[int, int, int]:
    """Identifies a saved index's files: the same key in two builds means the folder was hard-linked, unchanged."""
    st = (folder / "docs.jsonl").stat()
    return st.st_dev, st.st_ino, st.st_mtime_ns


def read_docs(files: LocaleFiles) -> tuple[Records, Terms, list[tuple[int, str]]]:
    """The FAQs of a saved index (records parsed when used), their terms and fuzzy strings."""
    rows = files.json("rows.json")
    try:
        records = Records.read(files.read("docs.jsonl"), rows["id"], rows["hash"], rows["path"])
        fuzzy_strings = [(i, s) for i, strings in enumerate(rows["fuzzy"]) for s in strings]
    except (KeyError, TypeError) as exc:
        raise ValueError(f"{files.name}/rows.json is malformed: {exc!r}") from None
    terms = Terms(files.json("terms.json"), files.npy("term_ids.npy"), files.npy("term_starts.npy"))
    return records, terms, fuzzy_strings


def _read_bm25(files: LocaleFiles):
    """The bm25s index saved under ``bm25/``, built from verified bytes as ``bm25s.BM25.load`` would."""
    import bm25s

    params = dict(files.json("bm25/params.index.json"))
    version, num_docs = params.pop("version", None), params.pop("num_docs", None)
    index = bm25s.BM25(**params)
    index._original_version = version
    index.vocab_dict = files.json("bm25/vocab.index.json")
    index.unique_token_ids_set = set(index.vocab_dict.values())
    index.scores = {"data": files.npy("bm25/data.csc.index.npy"), "indices": files.npy("bm25/indices.csc.index.npy"),
                    "indptr": files.npy("bm25/indptr.csc.index.npy"), "num_docs": num_docs}
    index.nonoccurrence_array = (files.npy("bm25/nonoccurrence_array.index.npy")
                                 if index.method in index.methods_requiring_nonoccurrence else None)
    return index


def _with_lookup(index):
    """An IVF index that can also give back a vector by its id (a hash table of id -> list
    position, 16-40 bytes a vector): what lets a server hold the vectors only once."""
    import faiss

    if not _is_flat(index):
        index.set_direct_map_type(faiss.DirectMap.Hashtable)
    return index


def _is_flat(index) -> bool:
    import faiss

    return isinstance(index, faiss.IndexIDMap2) or isinstance(index, faiss.IndexFlat)


def _faiss_index(vectors: np.ndarray, ids: np.ndarray, previous=None, previous_ids=None, in_place: bool = False):
    """A flat index for small sets; an IVF index of float16 vectors, updated from ``previous`` when
    possible, for large ones. ``previous`` is copied first unless ``in_place`` says nothing else will use it."""
    import faiss

    n, dim = vectors.shape if vectors.ndim == 2 else (0, 1)
    if n <= FLAT_LIMIT:
        index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        if n:
            index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids)
        return index
    nlist = max(1, min(int(math.sqrt(n)), n // 39))  # faiss wants ~39 training points per list
    reusable = (previous is not None and isinstance(previous, faiss.IndexIVFScalarQuantizer) and previous.d == dim
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
        # vectors kept as float16 (a cosine changes by < 1e-4): half the memory of IVFFlat, and
        # a server holds no other copy of them (LocaleIndex.view_vectors)
        quantizer = faiss.IndexFlatIP(dim)
        index = faiss.IndexIVFScalarQuantizer(quantizer, dim, nlist, faiss.ScalarQuantizer.QT_fp16,
                                              faiss.METRIC_INNER_PRODUCT, False)
        rng = np.random.default_rng(0)
        sample = vectors[rng.choice(n, size=min(n, nlist * 64), replace=False)]
        index.train(np.ascontiguousarray(sample, dtype=np.float32))
        index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids)
    index.nprobe = min(16, index.nlist)
    return index
