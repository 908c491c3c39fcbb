import json

import pytest
import websocket


def connect(server, site="demo"):
    return websocket.create_connection(f"ws://127.0.0.1:{server.port}/ws/chat?site={site}", timeout=20)


def roundtrip(ws, message):
    ws.send(json.dumps(message) if not isinstance(message, str) else message)
    return json.loads(ws.recv())


def test_ask_feedback_ping_over_one_socket(live_server):
    ws = connect(live_server)
    try:
        answer = roundtrip(ws, {"type": "ask", "id": "a1", "question": "請求書をPDFでダウンロードしたい",
                                "context": {"url": "/invoices"}})
        assert answer["type"] == "answer" and answer["id"] == "a1"
        assert answer["outcome"] in ("answered", "suggested")
        fb = roundtrip(ws, {"type": "feedback", "id": "f1", "question_id": answer["question_id"], "helpful": True})
        assert fb == {"type": "feedback", "id": "f1", "feedback_id": fb["feedback_id"], "ok": True}
        assert roundtrip(ws, {"type": "ping", "id": 7}) == {"type": "pong", "id": 7}
    finally:
        ws.close()


@pytest.mark.parametrize("message, code", [
    ("not json", "bad_json"),
    ("[1, 2]", "bad_json"),
    ({"type": "dance", "id": "x"}, "bad_type"),
    ({"type": "ask", "id": "x", "question": ""}, "empty_question"),
    ({"type": "ask", "id": "x", "question": "x" * 20000}, "message_too_large"),
    ({"type": "feedback", "id": "x", "question_id": "nope", "helpful": True}, "unknown_question"),
])
def test_bad_messages_get_an_error_and_the_socket_stays_usable(live_server, message, code):
    ws = connect(live_server)
    try:
        reply = roundtrip(ws, message)
        assert reply["type"] == "error" and reply["error"]["code"] == code
        if isinstance(message, dict):
            assert reply["id"] == "x"
        assert roundtrip(ws, {"type": "ping", "id": 1}) == {"type": "pong", "id": 1}
    finally:
        ws.close()


def test_unknown_site_is_refused(live_server):
    ws = connect(live_server, site="ghost")
    try:
        reply = json.loads(ws.recv())
        assert reply["type"] == "error" and reply["error"]["status"] == 403
    finally:
        ws.close()
