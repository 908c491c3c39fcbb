"""WebSocket chat at /ws/chat: the same answers as the HTTP API, over one socket.

Messages are JSON objects with ``type`` and ``id``; every reply carries the
``id`` of the message it answers. A bad message gets an ``error`` reply and
the socket stays open.
"""

from __future__ import annotations

import json

from flask import current_app, request
from flask_sock import Sock

from ..web.errors import ApiError, client_error
from . import answers

sock = Sock()


def _reply(ws, kind: str, msg_id, **fields) -> None:
    ws.send(json.dumps({"type": kind, "id": msg_id, **fields}, ensure_ascii=False))


def _error(ws, msg_id, exc: ApiError) -> None:
    _reply(ws, "error", msg_id, error={"code": exc.code, "message": exc.message, "status": exc.status})


def _check_size(raw) -> None:
    limit = current_app.config["MAX_WS_MESSAGE_BYTES"]
    size = len(raw.encode("utf-8")) if isinstance(raw, str) else len(raw)
    if size > limit:
        raise ApiError(f"message larger than {limit} bytes", 413, "message_too_large")


def _parse(raw) -> dict:
    # The socket library caps frames at 4x the limit, so parsing an oversized
    # message to find its id (for the error reply) stays cheap.
    try:
        msg = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ApiError("messages must be JSON objects", 400, "bad_json") from None
    if not isinstance(msg, dict):
        raise ApiError("messages must be JSON objects", 400, "bad_json")
    return msg


def _dispatch(ws, msg: dict, site: str) -> None:
    kind, msg_id = msg.get("type"), msg.get("id")
    if kind == "ping":
        _reply(ws, "pong", msg_id)
    elif kind == "ask":
        _reply(ws, "answer", msg_id, **answers.ask(msg, site, "ws"))
    elif kind == "feedback":
        _reply(ws, "feedback", msg_id, **answers.feedback(msg, site))
    else:
        raise ApiError(f"unknown message type {kind!r}; use ask, feedback or ping", 400, "bad_type")


@sock.route("/ws/chat")
def chat(ws):
    site = request.args.get("site")
    if site not in current_app.config["SITES"]:
        _error(ws, None, ApiError(f"unknown site {site!r}", 403, "unknown_site"))
        ws.close(reason=1008, message="unknown site")
        return
    while True:
        raw = ws.receive()
        if raw is None:
            return
        msg_id = None
        try:
            msg = _parse(raw)
            msg_id = msg.get("id")
            _check_size(raw)
            _dispatch(ws, msg, site)
        except Exception as exc:
            err = client_error(exc)
            if err is None:
                current_app.logger.exception("ws message failed")
                err = ApiError("internal error; the message was not processed", 500, "internal_error")
            _error(ws, msg_id, err)
