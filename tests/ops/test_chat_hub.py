"""Chat WebSockets under the production command: an open chat holds no thread, a full process
refuses with 503, idle sockets are closed, and SIGTERM sends every chat a close frame."""

from __future__ import annotations

import json
import signal
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
import websocket

from guide_server.chat import hub

from .conftest import SITES

ASK_JA = {"type": "ask", "id": "q", "question": "請求書をPDFでダウンロードしたい"}


def connect(server, timeout=20):
    return websocket.create_connection(f"ws://127.0.0.1:{server.port}/ws/chat?site=demo", timeout=timeout)


def get(server, path, timeout=10):
    with urllib.request.urlopen(server.url + path, timeout=timeout) as r:
        return r.status, json.loads(r.read())


def roundtrip(ws, message):
    ws.send(json.dumps(message))
    return json.loads(ws.recv())


def test_open_chats_hold_no_thread(serve):
    """One worker of 2 threads keeps 60 chats open and still answers HTTP and every chat; with a
    thread per socket, the third socket would have frozen it."""
    server = serve(("-w", "1", "--threads", "2"))
    chats = [connect(server) for _ in range(60)]
    try:
        status, body = get(server, "/api/v1/health")
        assert status == 200 and body["status"] == "ok"
        assert roundtrip(chats[-1], ASK_JA)["type"] == "answer"
        for i, ws in enumerate(chats[::10]):
            assert roundtrip(ws, {"type": "ping", "id": i}) == {"type": "pong", "id": i}
        metrics = urllib.request.urlopen(server.url + "/metrics", timeout=10).read().decode()
        assert "guide_ws_open 60" in metrics
    finally:
        for ws in chats:
            ws.close()


@pytest.mark.parametrize("message, code", [
    ("not json", "bad_json"),
    ({"type": "dance", "id": "x"}, "bad_type"),
    ({"type": "ask", "id": "x", "question": "x" * 20000}, "message_too_large"),
    ({"type": "feedback", "id": "x", "question_id": "nope", "helpful": True}, "unknown_question"),
])
def test_bad_messages_get_the_same_errors_as_on_a_thread(serve, message, code):
    server = serve()
    ws = connect(server)
    try:
        ws.send(message if isinstance(message, str) else json.dumps(message))
        reply = json.loads(ws.recv())
        assert reply["type"] == "error" and reply["error"]["code"] == code
        assert roundtrip(ws, {"type": "ping", "id": 1}) == {"type": "pong", "id": 1}
    finally:
        ws.close()


def test_a_message_past_four_times_the_limit_closes_the_socket_with_1009(serve):
    server = serve()
    ws = connect(server)
    try:
        ws.send("x" * (4 * 16384 + 10))
        opcode, data = ws.recv_data(control_frame=True)
        assert opcode == websocket.ABNF.OPCODE_CLOSE
        assert int.from_bytes(data[:2], "big") == 1009
    finally:
        ws.close()


def test_a_full_process_refuses_new_chats_with_503_and_retry_after(serve):
    server = serve(("-w", "1"), WS_MAX_SOCKETS="3")
    chats = [connect(server) for _ in range(3)]
    try:
        with pytest.raises(websocket.WebSocketBadStatusException) as refused:
            connect(server)
        assert refused.value.status_code == 503
        assert refused.value.resp_headers.get("retry-after") == "30"
        assert json.loads(refused.value.resp_body)["error"]["code"] == "chat_full"
        chats.pop().close()
        deadline = time.monotonic() + 10
        while True:  # the slot comes back once the hub has seen the close
            try:
                chats.append(connect(server))
                break
            except websocket.WebSocketBadStatusException:
                assert time.monotonic() < deadline
                time.sleep(0.1)
    finally:
        for ws in chats:
            ws.close()


def test_handshakes_at_once_get_no_more_chats_than_the_limit(serve):
    """Ten handshakes at the same moment on a process of three slots: three chats, seven 503s."""
    server = serve(("-w", "1", "--threads", "8"), WS_MAX_SOCKETS="3")
    start = threading.Barrier(10)

    def one(_):
        start.wait()
        try:
            return connect(server)
        except websocket.WebSocketBadStatusException as refused:
            return refused.status_code

    with ThreadPoolExecutor(10) as pool:
        got = list(pool.map(one, range(10)))
    chats = [g for g in got if not isinstance(g, int)]
    try:
        assert len(chats) == 3 and sorted(g for g in got if isinstance(g, int)) == [503] * 7
    finally:
        for ws in chats:
            ws.close()


def test_a_slot_is_taken_by_the_check_and_given_back_by_release():
    """The check takes the slot, before the 101 goes out: a client that opens its next chat as soon
    as it has its 101 must not find the slot still free (it did, now and then, on a loaded machine,
    when the slot was taken only once the socket was handed to the hub)."""
    chats = hub.Hub(hub.Limits(max_sockets=3, threads=1))
    assert [chats.reserve() for _ in range(5)] == [True, True, True, False, False]
    assert chats.stats.refused == 2
    chats.release()
    assert chats.reserve() and not chats.reserve()


def test_an_idle_chat_is_closed_by_the_server(serve):
    server = serve(WS_IDLE_TIMEOUT="1")
    ws = connect(server, timeout=30)
    try:
        opcode, data = ws.recv_data(control_frame=True)  # nothing said: the next frame is the close
        while opcode == websocket.ABNF.OPCODE_PING:
            opcode, data = ws.recv_data(control_frame=True)
        assert opcode == websocket.ABNF.OPCODE_CLOSE
        assert int.from_bytes(data[:2], "big") == 1000 and data[2:] == b"idle"
    finally:
        ws.close()


def test_sigterm_sends_every_chat_a_close_frame_and_the_server_exits(serve):
    server = serve()
    chats = [connect(server) for _ in range(20)]
    assert roundtrip(chats[0], ASK_JA)["type"] == "answer"
    server.proc.send_signal(signal.SIGTERM)
    codes = []
    for ws in chats:
        opcode, data = ws.recv_data(control_frame=True)
        codes.append((opcode, int.from_bytes(data[:2], "big")))
        ws.close()
    assert codes == [(websocket.ABNF.OPCODE_CLOSE, 1001)] * 20
    server.proc.wait(timeout=30)  # the figure (seconds to exit) is in BENCHMARKS.md, not asserted here
    assert server.proc.returncode == 0, server.output()


def test_the_hub_refuses_a_foreign_pages_handshake_and_takes_the_sites_own(serve):
    """Under gunicorn the socket is adopted by the hub before flask-sock sees it: the origin check
    must come first there too (a page of another origin, or of another site, gets 403, no socket)."""
    sites = {**SITES, "other": {"identity": "open", "origins": ["http://other.example"]}}
    server = serve(SITES=sites)
    url = f"ws://127.0.0.1:{server.port}/ws/chat?site=demo"
    for origin in ("http://evil.example", "http://other.example", "null"):
        with pytest.raises(websocket.WebSocketBadStatusException) as refused:
            websocket.create_connection(url, timeout=10, origin=origin)
        assert refused.value.status_code == 403, origin
        assert json.loads(refused.value.resp_body)["error"]["code"] == "origin_not_allowed"
    ws = websocket.create_connection(url, timeout=10, origin="http://host.example")
    try:
        assert roundtrip(ws, {"type": "ping", "id": 1}) == {"type": "pong", "id": 1}
    finally:
        ws.close()
