"""BERT-family sentence-transformers models run by a short forward pass of our own.

sentence-transformers runs a short query through MiniLM in 8-9 ms on one thread, most of it
general-purpose machinery; this pass gives the same vectors (cosine 0.9999999) with none of it,
and a process that never imports transformers starts seconds sooner. It runs in ONNX Runtime, in
numpy or in torch:

- ONNX Runtime serves single queries on the calling thread: the encoder layers as an ONNX graph
  built here (``onnx_graph``), with one intra-op thread. In float32 over the mapped weights it
  gives the same vectors as numpy in a quarter of the time (a short query 2.9-3.4 ms against
  12.9-13.8 ms in the same runs); with int8 weights (``query_weights="int8"``, which the bundled
  MiniLM uses) 1.1-1.4 ms, at a cosine of ~.995 to the float32 vector, which moved no retrieval or
  answer figure of the dev and public sets by more than two questions (docs/architecture.md,
  "Dependencies"). A server never imports torch: a gunicorn master and two workers that kept it
  for queries took ~450 MB more at 10,000 FAQs (benchmarks/memory.py), and they must not start its
  thread before gunicorn --preload forks.
- A few documents (a one-file rebuild) are embedded in float32: in ONNX Runtime when its graph is
  float32, else in numpy; numpy also runs queries where onnxruntime cannot be imported.
- torch runs batches (index builds), where its kernels are ~3x quicker than one BLAS thread.

The weights are read-only views of one memory map of ``model.safetensors``: every process on the
machine shares one copy through the page cache, a word-embedding row is read only when a query
uses it, and loading takes milliseconds. ONNX Runtime keeps its own form of the matrices (packed
float32, ~41 MB for MiniLM, or int8, ~11 MB), made once by a preloading gunicorn master for its
workers. Only the common shape is handled (a ``BertModel`` with absolute positions and GELU, then
mean or CLS pooling, then optional normalisation); :class:`BertRunner` raises
:class:`Unsupported` for anything else and the caller falls back to sentence-transformers.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

FEW_TEXTS = 16  # up to this many texts, numpy is quicker than importing torch
_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64}


class Unsupported(Exception):
    """The model is not one this runner reproduces exactly."""


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise Unsupported(f"cannot read {path.name}: {exc}") from None


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """The tensors of a safetensors file as read-only arrays over one memory map of the file.

    The format is an 8-byte header length, a JSON header (name -> dtype, shape, byte range of the
    data that follows it), then the data. Float32 tensors are views; float16 ones are converted."""
    try:
        with open(path, "rb") as fh:
            size = int.from_bytes(fh.read(8), "little")
            header = json.loads(fh.read(size))
        data = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + size).view(np.ndarray)  # the map stays open
    except (OSError, ValueError) as exc:
        raise Unsupported(f"cannot read {path.name}: {exc}") from None
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = _DTYPES.get(info["dtype"])
        if dtype is None:
            raise Unsupported(f"{name} is {info['dtype']}")
        start, end = info["data_offsets"]
        value = data[start:end].view(dtype).reshape(info["shape"])
        tensors[name] = value.astype(np.float32) if dtype == np.float16 else value
    return tensors


def _pooling(model_dir: Path) -> tuple[str, bool]:
    """The pooling mode and whether vectors are normalised, from modules.json."""
    modules = _read_json(model_dir / "modules.json")
    kinds = [m.get("type", "").rsplit(".", 1)[-1] for m in modules]
    if kinds[:2] != ["Transformer", "Pooling"] or kinds[2:] not in ([], ["Normalize"]):
        raise Unsupported(f"module stack {kinds}")
    pooling = _read_json(model_dir / modules[1].get("path", "1_Pooling") / "config.json")
    modes = [k for k, v in pooling.items() if k.startswith("pooling_mode") and v]
    if modes == ["pooling_mode_mean_tokens"]:
        return "mean", kinds[2:] == ["Normalize"]
    if modes == ["pooling_mode_cls_token"]:
        return "cls", kinds[2:] == ["Normalize"]
    raise Unsupported(f"pooling {modes}")


class BertRunner:
    """Encodes texts as sentence-transformers would for a supported BERT model directory.

    Safe to call from many threads at once: the weights are read-only and a call keeps its
    state in local variables."""

    def __init__(self, model_dir: str | Path, query_weights: str = "float32"):
        """``query_weights`` "int8" runs single queries with int8 weights (see the module's
        docstring); documents are always embedded in float32."""
        from tokenizers import Tokenizer

        if query_weights not in ("float32", "int8"):
            raise ValueError(f"query weights {query_weights!r}: float32 or int8")
        model_dir = Path(model_dir)
        config = _read_json(model_dir / "config.json")
        if config.get("model_type") != "bert" or config.get("hidden_act") != "gelu" \
                or config.get("position_embedding_type", "absolute") != "absolute":
            raise Unsupported("not a BERT model with absolute positions and GELU")
        self.pooling, self.normalise = _pooling(model_dir)
        st_file = model_dir / "sentence_bert_config.json"
        st_config = _read_json(st_file) if st_file.exists() else {}
        self.max_len = int(st_config.get("max_seq_length") or config.get("max_position_embeddings", 512))
        extra = model_dir / "config_sentence_transformers.json"
        self.prompts = (_read_json(extra) if extra.exists() else {}).get("prompts") or {}
        if not (model_dir / "tokenizer.json").exists() or not (model_dir / "model.safetensors").exists():
            raise Unsupported("needs tokenizer.json and model.safetensors")
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(self.max_len)
        self.tokenizer.no_padding()
        self._load_weights(model_dir / "model.safetensors", config)
        self._session, self._session_weights = (
            _onnx_session(self.layers, self.heads, self.dim, self.eps, query_weights) or (None, None))
        self._exact = query_weights == "float32"

    def _load_weights(self, path: Path, config: dict) -> None:
        raw = read_safetensors(path)
        prefix = "bert." if any(k.startswith("bert.") for k in raw) else ""

        def w(name: str) -> np.ndarray:
            try:
                return raw[prefix + name]
            except KeyError:
                raise Unsupported(f"weight {name} missing") from None

        self.heads = int(config["num_attention_heads"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self.dim = int(config["hidden_size"])
        self.word = w("embeddings.word_embeddings.weight")
        self.position = w("embeddings.position_embeddings.weight")
        self.token_type = w("embeddings.token_type_embeddings.weight")[0]
        self.emb_norm = (w("embeddings.LayerNorm.weight"), w("embeddings.LayerNorm.bias"))
        # Linear weights stay as stored, (out, in): x @ weight.T hands BLAS the transposed view.
        self.layers = []
        for i in range(int(config["num_hidden_layers"])):
            p = f"encoder.layer.{i}.attention."
            q = f"encoder.layer.{i}."
            self.layers.append((
                tuple(w(p + f"self.{n}.weight") for n in ("query", "key", "value")),
                tuple(w(p + f"self.{n}.bias") for n in ("query", "key", "value")),
                w(p + "output.dense.weight"), w(p + "output.dense.bias"),
                (w(p + "output.LayerNorm.weight"), w(p + "output.LayerNorm.bias")),
                w(q + "intermediate.dense.weight"), w(q + "intermediate.dense.bias"),
                w(q + "output.dense.weight"), w(q + "output.dense.bias"),
                (w(q + "output.LayerNorm.weight"), w(q + "output.LayerNorm.bias")),
            ))
        self._tensors: dict = {}
        self._query_precision: str | None = None

    def _torch_weights(self, dtype=None):
        """The weights as torch tensors in ``dtype`` (float32 by default), laid out for ``addmm``
        with query, key and value in one matrix. Copies: torch wants writable memory."""
        import torch

        dtype = dtype or torch.float32
        if dtype not in self._tensors:
            def t(value):
                return torch.from_numpy(np.array(value, dtype=np.float32, order="C")).to(dtype)

            layers = [(t(np.concatenate(qkv).T), t(np.concatenate(qkv_b)), t(out.T), t(out_b), (t(n1[0]), t(n1[1])),
                       t(up.T), t(up_b), t(down.T), t(down_b), (t(n2[0]), t(n2[1])))
                      for qkv, qkv_b, out, out_b, n1, up, up_b, down, down_b, n2 in self.layers]
            self._tensors[dtype] = (t(self.word), t(self.position), t(self.token_type),
                                    (t(self.emb_norm[0]), t(self.emb_norm[1])), layers)
        return self._tensors[dtype]

    def query_precision(self) -> str:
        """"bfloat16" where torch is clearly faster with it for one short query (CPUs with AMX or
        AVX-512 BF16 kernels: ~30% less time, cosine to the float32 vector above 0.9995), else
        "float32". Measured once per process. Only for callers that chose torch for single
        queries; the server does not (see the module docstring)."""
        if self._query_precision is None:
            import torch

            self._query_precision = "float32"
            try:
                if torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported():
                    sample = "How do I send an invoice by e-mail to a business partner?"
                    timings = {}
                    for precision in ("float32", "bfloat16", "float32", "bfloat16"):
                        self.encode([sample], backend="torch", precision=precision)  # warm
                        started = time.perf_counter()
                        for _ in range(5):
                            self.encode([sample], backend="torch", precision=precision)
                        timings[precision] = min(timings.get(precision, 1e9), time.perf_counter() - started)
                    if timings["bfloat16"] < 0.8 * timings["float32"]:
                        self._query_precision = "bfloat16"
            except (AttributeError, RuntimeError):
                pass
        return self._query_precision

    def _forward_torch(self, ids: np.ndarray, mask: np.ndarray, precision: str = "float32") -> np.ndarray:
        """Pooled vectors for a padded batch; ids and mask are (batch, length) arrays."""
        import torch
        from torch.nn import functional as F

        word, position, token_type, emb_norm, layers = self._torch_weights(getattr(torch, precision))
        batch, length = ids.shape
        heads, size, dim = self.heads, self.dim // self.heads, self.dim
        ids, mask = torch.from_numpy(ids), torch.from_numpy(mask)

        def norm(x, params):
            return F.layer_norm(x, (dim,), params[0], params[1], self.eps)

        with torch.inference_mode():
            x = norm(word[ids] + position[:length] + token_type, emb_norm)
            # Padding is masked out of attention only when there is padding (batches).
            attn_mask = mask[:, None, None, :].bool() if batch > 1 else None
            for qkv, qkv_b, out, out_b, norm1, up, up_b, down, down_b, norm2 in layers:
                h = torch.addmm(qkv_b, x.reshape(-1, dim), qkv).view(batch, length, 3, heads, size).permute(2, 0, 3, 1, 4)
                context = F.scaled_dot_product_attention(h[0], h[1], h[2], attn_mask=attn_mask)
                context = context.transpose(1, 2).reshape(-1, dim)
                x = norm(torch.addmm(out_b, context, out).view(batch, length, dim) + x, norm1)
                inner = F.gelu(torch.addmm(up_b, x.reshape(-1, dim), up))
                x = norm(torch.addmm(down_b, inner, down).view(batch, length, dim) + x, norm2)
            return self._pool(x.float().numpy(), mask.numpy())

    def _forward_numpy(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """The same pass in numpy, in float32, on the calling thread; rows are (batch x length) tokens."""
        batch, length = ids.shape
        heads, size, dim = self.heads, self.dim // self.heads, self.dim
        x = self._embed(ids)
        # Padding is masked out of attention only when there is padding (batches).
        bias = np.where(mask > 0, 0.0, np.finfo(np.float32).min).astype(np.float32)[:, None, None, :] if batch > 1 else None
        scale = np.float32(1.0 / np.sqrt(size))

        def split(h):  # (tokens, dim) -> (batch, heads, length, size)
            return h.reshape(batch, length, heads, size).transpose(0, 2, 1, 3)

        for (wq, wk, wv), (bq, bk, bv), out, out_b, norm1, up, up_b, down, down_b, norm2 in self.layers:
            q = x @ wq.T
            q += bq
            q *= scale
            k = x @ wk.T
            k += bk
            v = x @ wv.T
            v += bv
            scores = split(q) @ split(k).transpose(0, 1, 3, 2)
            if bias is not None:
                scores += bias
            scores -= scores.max(-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(-1, keepdims=True)
            context = (scores @ split(v)).transpose(0, 2, 1, 3).reshape(-1, dim)
            h = context @ out.T
            h += out_b
            h += x
            x = self._norm(h, norm1)
            inner = x @ up.T
            inner += up_b
            _gelu(inner)
            h = inner @ down.T
            h += down_b
            h += x
            x = self._norm(h, norm2)
        return self._pool(x.reshape(batch, length, dim), mask)

    def _embed(self, ids: np.ndarray) -> np.ndarray:
        """The embedding layer for a padded batch: (batch x length, dim), layer-normed."""
        x = (self.word[ids] + self.position[:ids.shape[1]] + self.token_type).reshape(-1, self.dim)
        return self._norm(x, self.emb_norm)

    def _forward_onnx(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """The same pass with the encoder layers in ONNX Runtime; the embeddings and the pooling
        are numpy's (a word-embedding row is read from the mapped file only when used)."""
        batch, length = ids.shape
        x = self._embed(ids)
        bias = np.where(mask > 0, 0.0, np.finfo(np.float32).min).astype(np.float32)[:, None, None, :]
        split = np.array([batch, length, self.heads, self.dim // self.heads], np.int64)
        states = self._session.run(None, {"x": x, "bias": bias, "split": split})[0]
        return self._pool(states.reshape(batch, length, self.dim), mask)

    def _norm(self, x: np.ndarray, params) -> np.ndarray:
        """Layer norm over the rows of a 2-D array, in place."""
        x -= x.mean(-1, keepdims=True)
        var = np.einsum("ij,ij->i", x, x) / np.float32(x.shape[-1])
        x *= (1.0 / np.sqrt(var + np.float32(self.eps)))[:, None]
        x *= params[0]
        x += params[1]
        return x

    def _pool(self, states: np.ndarray, mask: np.ndarray) -> np.ndarray:
        if self.pooling == "cls":
            return states[:, 0]
        weights = mask[:, :, None]
        return (states * weights).sum(1) / np.maximum(weights.sum(1), 1e-9)

    @property
    def query_backend(self) -> str:
        """What runs single queries: "onnx" where onnxruntime is installed, else "numpy"."""
        return "onnx" if self._session is not None else "numpy"

    def backend_for(self, n_texts: int) -> str:
        """What embeds ``n_texts`` documents, in float32: torch for batches (or once it is imported),
        else ONNX Runtime when its session is float32, else numpy."""
        if "torch" in sys.modules or n_texts > FEW_TEXTS:
            return "torch"
        return "onnx" if self._session is not None and self._exact else "numpy"

    def encode(self, texts: list[str], prompt: str | None = None, batch_size: int = 32,
               backend: str | None = None, precision: str = "float32") -> np.ndarray:
        """One vector per text, in order; batches hold texts of similar length to keep padding small.

        ``backend`` is "torch", "onnx" or "numpy"; by default torch, unless it is not imported yet
        and there are only a few texts (a one-file rebuild), where importing it would cost more."""
        out = np.zeros((len(texts), self.dim), np.float32)
        if not texts:
            return out
        if (backend or self.backend_for(len(texts))) == "torch":
            def forward(ids, mask):
                return self._forward_torch(ids, mask, precision)
        elif backend == "numpy" or self._session is None:
            forward = self._forward_numpy
        else:
            forward = self._forward_onnx
        prefix = self.prompts.get(prompt, "") if prompt else ""
        # One text is tokenised on this thread: encode_batch starts the tokenizers' thread pool, which
        # a process forked afterwards (gunicorn --preload) lacks (tokenizers then warns, and stays serial).
        encodings = ([self.tokenizer.encode(prefix + texts[0])] if len(texts) == 1
                     else self.tokenizer.encode_batch([prefix + t for t in texts]))
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        for start in range(0, len(order), batch_size):
            rows = order[start:start + batch_size]
            length = max(len(encodings[i].ids) for i in rows)
            ids = np.zeros((len(rows), length), np.int64)
            mask = np.zeros((len(rows), length), np.float32)
            for j, i in enumerate(rows):
                n = len(encodings[i].ids)
                ids[j, :n] = encodings[i].ids
                mask[j, :n] = 1.0
            out[rows] = forward(ids, mask)
        if self.normalise:
            out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return out


def _onnx_session(layers: list, heads: int, dim: int, eps: float, precision: str = "float32"):
    """An ONNX Runtime session running the encoder layers on the calling thread, and the weights
    it was given; None where onnxruntime is not installed.

    In "int8", each matrix product is ONNX Runtime's ``DynamicQuantizeMatMul``: the weights in
    int8 with a scale per output (their largest magnitude / 127), the activations quantised per
    call; the weights are then ~11 MB of the graph's own instead of the mapped float32 ones.

    Inputs: ``x``, the embeddings after their layer norm, (tokens, dim) float32 with the batch's
    rows one after another; ``bias``, (batch, 1, 1, length), 0 for a token and the float32
    minimum for padding; ``split``, int64 [batch, length, heads, head size]. Output: the last
    hidden states, (tokens, dim). The weight matrices are handed to the session as they are
    mapped from the model file (``Gemm`` reads them transposed); what the session keeps of its own
    is their packed form for its matrix kernels (~41 MB for MiniLM), made in ~0.1 s.
    One intra-op thread and no inter-op pool: the session starts no thread of its own (a
    gunicorn master makes it before forking its workers), and each request thread runs its own
    query, as numpy's single BLAS thread did."""
    try:
        import onnxruntime
    except ImportError:
        return None
    from .onnx_graph import Graph

    size = dim // heads
    g = Graph("bert_encoder")
    x = g.input("x", np.float32, ["tokens", dim])
    g.input("bias", np.float32, ["batch", 1, 1, "length"])
    g.input("split", np.int64, [4])
    g.const("dim_shape", [-1, dim], np.int64)
    g.const("scale", [1.0 / np.sqrt(size)])
    mapped = {}
    for i, ((wq, wk, wv), (bq, bk, bv), out, out_b, norm1, up, up_b, down, down_b, norm2) in enumerate(layers):
        def name(part, i=i):
            return f"l{i}.{part}"

        def linear(value, weight, bias, part):  # weight as stored, (out, in)
            if precision == "int8":
                w = np.asarray(weight, np.float32)
                scale = np.maximum(np.abs(w).max(1), 1e-12) / 127.0
                quantised = np.round(w / scale[:, None]).astype(np.int8).T  # (in, out)
                return g.op("DynamicQuantizeMatMul", [value, g.const(name(part + ".q"), quantised, np.int8),
                                                      g.const(name(part + ".s"), scale), "", g.const(name(part + ".b"), bias)],
                            name(part), domain="com.microsoft")
            mapped[name(part + ".w")] = weight
            return g.op("Gemm", [value, g.external(name(part + ".w"), weight), g.const(name(part + ".b"), bias)],
                        name(part), transB=1)

        def norm(value, params, part):
            return g.op("LayerNormalization", [value, g.const(name(part + ".g"), params[0]),
                                               g.const(name(part + ".b"), params[1])], name(part), axis=-1, epsilon=eps)

        q, k, v = (g.op("Reshape", [linear(x, w, b, p), "split"], name(p + ".h"))  # (batch, length, heads, size)
                   for p, w, b in (("q", wq, bq), ("k", wk, bk), ("v", wv, bv)))
        q = g.op("Transpose", [q], name("q.t"), perm=[0, 2, 1, 3])
        k = g.op("Transpose", [k], name("k.t"), perm=[0, 2, 3, 1])
        v = g.op("Transpose", [v], name("v.t"), perm=[0, 2, 1, 3])
        scores = g.op("Add", [g.op("Mul", [g.op("MatMul", [q, k], name("qk")), "scale"], name("qk.s")), "bias"], name("scores"))
        probs = g.op("Softmax", [scores], name("probs"), axis=-1)
        context = g.op("Transpose", [g.op("MatMul", [probs, v], name("ctx"))], name("ctx.t"), perm=[0, 2, 1, 3])
        context = g.op("Reshape", [context, "dim_shape"], name("ctx.r"))
        x = norm(g.op("Add", [linear(context, out, out_b, "out"), x], name("res1")), norm1, "norm1")
        inner = g.op("Gelu", [linear(x, up, up_b, "up")], name("gelu"))
        x = norm(g.op("Add", [linear(inner, down, down_b, "down"), x], name("res2")), norm2, "norm2")
    g.op("Identity", [x], "states")
    g.output("states", np.float32, ["tokens", dim])
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3
    values = {n: onnxruntime.OrtValue.ortvalue_from_numpy(w) for n, w in mapped.items()}
    options.add_external_initializers(list(values), list(values.values()))
    session = onnxruntime.InferenceSession(g.model({"": 20, "com.microsoft": 1}), options, providers=["CPUExecutionProvider"])
    return session, values  # the values (views of the map) must outlive the session


def _gelu(x: np.ndarray) -> None:
    """GELU in place, with the error function to float32 precision (Abramowitz & Stegun 7.1.26,
    error below 1.5e-7)."""
    a = np.abs(x) * np.float32(1 / np.sqrt(2))
    t = 1.0 / (1.0 + np.float32(0.3275911) * a)
    poly = t * (np.float32(0.254829592) + t * (np.float32(-0.284496736) + t * (
        np.float32(1.421413741) + t * (np.float32(-1.453152027) + t * np.float32(1.061405429)))))
    erf = 1.0 - poly * np.exp(-a * a)
    erf *= np.sign(x)
    erf += 1.0
    erf *= 0.5
    x *= erf
