"""BERT-family sentence-transformers models run by a short torch forward pass.

sentence-transformers runs a short query through MiniLM in 8-9 ms on one thread;
this forward pass, with query, key and value fused into one matrix and no
general-purpose model machinery around it, takes about 5 ms and gives the same
vectors (cosine 0.9999999), and a process that never imports transformers
starts seconds sooner. Only the common shape is handled (a ``BertModel`` with
absolute positions and GELU, then mean or CLS pooling, then optional
normalisation); :class:`BertRunner` raises :class:`Unsupported` for anything
else and the caller falls back to sentence-transformers.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np


class Unsupported(Exception):
    """The model is not one this runner reproduces exactly."""


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise Unsupported(f"cannot read {path.name}: {exc}") from None


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
    """Encodes texts as sentence-transformers would for a supported BERT model directory."""

    def __init__(self, model_dir: str | Path):
        from tokenizers import Tokenizer

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

    def _load_weights(self, path: Path, config: dict) -> None:
        import torch
        from safetensors.numpy import load_file

        raw = load_file(str(path))
        prefix = "bert." if any(k.startswith("bert.") for k in raw) else ""

        def w(name: str, transpose: bool = False) -> torch.Tensor:
            try:
                value = raw[prefix + name].astype(np.float32)
            except KeyError:
                raise Unsupported(f"weight {name} missing") from None
            return torch.from_numpy(np.ascontiguousarray(value.T if transpose else value))

        self.heads = int(config["num_attention_heads"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self.dim = int(config["hidden_size"])
        self.word = w("embeddings.word_embeddings.weight")
        self.position = w("embeddings.position_embeddings.weight")
        self.token_type = w("embeddings.token_type_embeddings.weight")[0]
        self.emb_norm = (w("embeddings.LayerNorm.weight"), w("embeddings.LayerNorm.bias"))
        self.layers = []
        for i in range(int(config["num_hidden_layers"])):
            p = f"encoder.layer.{i}.attention."
            q = f"encoder.layer.{i}."
            # Query, key and value as one matrix: one matmul instead of three.
            qkv = torch.cat([w(p + f"self.{n}.weight", True) for n in ("query", "key", "value")], dim=1).contiguous()
            qkv_b = torch.cat([w(p + f"self.{n}.bias") for n in ("query", "key", "value")])
            self.layers.append((
                qkv, qkv_b, w(p + "output.dense.weight", True), w(p + "output.dense.bias"),
                (w(p + "output.LayerNorm.weight"), w(p + "output.LayerNorm.bias")),
                w(q + "intermediate.dense.weight", True), w(q + "intermediate.dense.bias"),
                w(q + "output.dense.weight", True), w(q + "output.dense.bias"),
                (w(q + "output.LayerNorm.weight"), w(q + "output.LayerNorm.bias")),
            ))

    def _forward(self, ids, mask):
        """Pooled vectors for a padded batch; ids and mask are (batch, length) tensors."""
        import torch
        from torch.nn import functional as F

        batch, length = ids.shape
        heads, size, dim = self.heads, self.dim // self.heads, self.dim

        def norm(x, params):
            return F.layer_norm(x, (dim,), params[0], params[1], self.eps)

        x = norm(self.word[ids] + self.position[:length] + self.token_type, self.emb_norm)
        # Padding is masked out of attention only when there is padding (batches).
        attn_mask = mask[:, None, None, :].bool() if batch > 1 else None
        for qkv, qkv_b, out, out_b, norm1, up, up_b, down, down_b, norm2 in self.layers:
            h = torch.addmm(qkv_b, x.reshape(-1, dim), qkv).view(batch, length, 3, heads, size).permute(2, 0, 3, 1, 4)
            context = F.scaled_dot_product_attention(h[0], h[1], h[2], attn_mask=attn_mask)
            context = context.transpose(1, 2).reshape(-1, dim)
            x = norm(torch.addmm(out_b, context, out).view(batch, length, dim) + x, norm1)
            inner = F.gelu(torch.addmm(up_b, x.reshape(-1, dim), up))
            x = norm(torch.addmm(down_b, inner, down).view(batch, length, dim) + x, norm2)
        if self.pooling == "cls":
            return x[:, 0]
        weights = mask[:, :, None]
        return (x * weights).sum(1) / weights.sum(1).clamp(min=1e-9)

    def encode(self, texts: list[str], prompt: str | None = None, batch_size: int = 32) -> np.ndarray:
        """One vector per text, in order; batches hold texts of similar length to keep padding small."""
        import torch

        out = np.zeros((len(texts), self.dim), np.float32)
        if not texts:
            return out
        prefix = self.prompts.get(prompt, "") if prompt else ""
        encodings = self.tokenizer.encode_batch([prefix + t for t in texts])
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                rows = order[start:start + batch_size]
                length = max(len(encodings[i].ids) for i in rows)
                ids = torch.zeros((len(rows), length), dtype=torch.long)
                mask = torch.zeros((len(rows), length), dtype=torch.float32)
                for j, i in enumerate(rows):
                    n = len(encodings[i].ids)
                    ids[j, :n] = torch.tensor(encodings[i].ids)
                    mask[j, :n] = 1.0
                out[rows] = self._forward(ids, mask).numpy()
        if self.normalise:
            out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return out
