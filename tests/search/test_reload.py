import json
import threading
import time
import urllib.error
import urllib.request

from guide_server import create_app
from guide_server.search.builder import build
from guide_server.web.context import services
from tests.support import MODELS, LiveServer


def post(url, payload):
    req = urllib.request.Request(url, json.dumps(payload).encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return resp.status, json.loads(resp.read())


def get(url):
    with urllib.request.urlopen(url, timeout=30) as resp:
        return json.loads(resp.read())


def test_new_build_is_served_without_restart_and_without_failed_requests(small_content, tmp_path):
    index_dir = tmp_path / "idx"
    build(small_content, index_dir, MODELS, progress=False)
    app = create_app({"INDEX_DIR": str(index_dir), "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}",
                      "RELOAD_INTERVAL": 0.2})
    server = LiveServer(app)
    stop, failures, done = threading.Event(), [], []

    def keep_asking():
        while not stop.is_set():
            try:
                status, body = post(server.url + "/api/v1/ask", {"site": "demo", "question": "請求書をメールで送りたい"})
                if status != 200 or "outcome" not in body:
                    failures.append((status, body))
                done.append(body.get("outcome"))
            except (urllib.error.URLError, OSError) as exc:
                failures.append(repr(exc))

    worker = threading.Thread(target=keep_asking)
    worker.start()
    try:
        first = get(server.url + "/api/v1/health")["build_id"]
        new = small_content / "faq/ja/cancellation/how-to.md"
        new.parent.mkdir(parents=True)
        new.write_text("---\ntitle: 解約の手続きは？\n---\n設定画面の「契約」から解約できます。\n", encoding="utf-8")
        asked_before = len(done)
        manifest = build(small_content, index_dir, MODELS, progress=False)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            health = get(server.url + "/api/v1/health")
            if health["build_id"] == manifest["build_id"]:
                break
            time.sleep(0.05)
        assert health["build_id"] == manifest["build_id"] != first
        found = get(server.url + "/api/v1/search?site=demo&q=" + urllib.parse.quote("解約したい"))
        assert found["results"][0]["id"] == "ja-cancellation-how-to"
        time.sleep(0.3)
    finally:
        stop.set()
        worker.join(30)
        server.stop()
        services(app).close()
    assert not failures, failures[:3]
    assert len(done) > asked_before  # questions kept flowing across the swap


def test_a_reload_keeps_the_locales_that_did_not_change(small_content, tmp_path):
    from guide_server.search.engine import parse_weights
    from guide_server.search.live import LiveIndex

    index_dir = tmp_path / "idx"
    build(small_content, index_dir, MODELS, progress=False)
    live = LiveIndex(index_dir, MODELS, {loc: parse_weights("dense=1,bm25=1,fuzzy=0") for loc in MODELS}, "ja", interval=0)
    assert live.load()
    before = dict(live.current().indexes)
    path = small_content / "faq/ja/billing/plans.md"
    path.write_text(path.read_text(encoding="utf-8") + "\n年払いもあります。\n", encoding="utf-8")
    build(small_content, index_dir, MODELS, progress=False)
    assert live.load()
    after = live.current().indexes
    assert after["en"] is before["en"]  # hard-linked folder: the loaded index is reused
    assert after["ja"] is not before["ja"]
    assert "年払い" in after["ja"].faqs[after["ja"].by_id["ja-billing-plans"]].body
    assert live.current().search("forgot my password", locale="en").hits[0].faq.id == "en-security-password-reset"
