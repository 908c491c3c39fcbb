"""WebSocket chat at /ws/chat: the same answers as the HTTP API, over one socket.

Messages are JSON objects with ``type`` and ``id``; every reply carries the
``id`` of the message it answers. A bad message gets an ``error`` reply and
the socket stays open.

Two ways to carry the socket, one way to answer (``reply_to``):

- under gunicorn with guide's worker class (``guide_server.ops.worker``), the request thread
  writes the handshake and hands the socket to this process's chat hub (``hub.py``): an open
  chat holds no thread, and a process keeps thousands of them;
- under any other server (``guide serve``, plain gthread), flask-sock keeps the socket on the
  request's thread for as long as it is open.
"""

from __future__ import annotations

import io
import json

from flask import Blueprint, Response, current_app, jsonify, request
from flask_sock import Sock

from ..web.errors import ApiError, client_error
from ..web.limits import new_socket, refuse_message
from ..web.sites import allowed_origin, request_origin
from . import answers, hub

sock = Sock()
bp = Blueprint("ws", __name__)

ADOPT = "guide.adopt_socket"  # set in the WSGI environ by guide's gunicorn worker
RATE_EXCEEDED = "message rate exceeded"  # the close reason past LIMIT_CHAT


def _message(kind: str, msg_id, **fields) -> str:
    return json.dumps({"type": kind, "id": msg_id, **fields}, ensure_ascii=False)


def _error(msg_id, exc: ApiError) -> str:
    return _message("error", msg_id, error={"code": exc.code, "message": exc.message, "status": exc.status})


def _check_size(raw) -> None:
    limit = current_app.config["MAX_WS_MESSAGE_BYTES"]
    size = len(raw.encode("utf-8")) if isinstance(raw, str) else len(raw)
    if size > limit:
        raise ApiError(f"message larger than {limit} bytes", 413, "message_too_large")


def _parse(raw) -> dict:
    # Frames are capped at 4x the limit, so parsing an oversized message to find its id (for
    # the error reply) stays cheap.
    try:
        msg = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ApiError("messages must be JSON objects", 400, "bad_json") from None
    if not isinstance(msg, dict):
        raise ApiError("messages must be JSON objects", 400, "bad_json")
    return msg


def _dispatch(msg: dict, site: str) -> str:
    kind, msg_id = msg.get("type"), msg.get("id")
    if kind == "ping":
        return _message("pong", msg_id)
    if kind == "ask":
        return _message("answer", msg_id, **answers.ask(msg, site, "ws"))
    if kind == "feedback":
        return _message("feedback", msg_id, **answers.feedback(msg, site))
    raise ApiError(f"unknown message type {kind!r}; use ask, feedback or ping", 400, "bad_type")


def reply_to(raw, site: str) -> str:
    """The reply to one message (within the app's request context)."""
    msg_id = None
    try:
        msg = _parse(raw)
        msg_id = msg.get("id")
        _check_size(raw)
        return _dispatch(msg, site)
    except Exception as exc:
        err = client_error(exc)
        if err is None:
            current_app.logger.exception("ws message failed")
            err = ApiError("internal error; the message was not processed", 500, "internal_error")
        return _error(msg_id, err)


# --- on the request's thread (any server) --------------------------------------------------------

@sock.route("/ws/chat", bp=bp)
def chat(ws):
    site = request.args.get("site")
    if site not in current_app.config["SITES"]:
        ws.send(_error(None, ApiError(f"unknown site {site!r}", 403, "unknown_site")))
        ws.close(reason=1008, message="unknown site")
        return
    socket = new_socket()
    while True:
        raw = ws.receive()
        if raw is None:
            return
        refused = refuse_message(site, socket)
        if refused is not None:  # past LIMIT_CHAT: why, then a close frame (1008, policy violation)
            ws.send(_error(None, refused))
            ws.close(reason=hub.POLICY, message=RATE_EXCEEDED)
            return
        ws.send(reply_to(raw, site))


# --- handed to the hub (guide's gunicorn worker) -------------------------------------------------

class _Adopted(Response):
    """The socket now belongs to the hub: the server must write nothing more on it."""

    def __call__(self, environ, start_response):
        raise StopIteration()


def limits(config) -> hub.Limits:
    return hub.Limits(max_sockets=config["WS_MAX_SOCKETS"], idle_timeout=config["WS_IDLE_TIMEOUT"],
                      max_message_bytes=config["MAX_WS_MESSAGE_BYTES"], threads=config["WS_THREADS"])


def _handle(context, text: str) -> str:
    app, environ, site = context
    with app.request_context(dict(environ, **{"wsgi.input": io.BytesIO()})):
        refused = refuse_message(site, environ.setdefault("guide.socket", new_socket()))  # one id a socket
        if refused is not None:
            raise hub.Close(hub.POLICY, RATE_EXCEEDED, _error(None, refused))
        return reply_to(text, site)


@bp.before_request
def _to_the_hub():
    if request.path != "/ws/chat":
        return None
    site = request.args.get("site")
    origin = request_origin()
    if site in current_app.config["SITES"] and origin is not None and not allowed_origin(origin, site):
        # refused before the upgrade, as the HTTP endpoints refuse it (web.sites)
        raise ApiError(f"this page's origin {origin} is not one of site {site!r}'s origins", 403, "origin_not_allowed")
    adopt = request.environ.get(ADOPT)
    if adopt is None or request.path != "/ws/chat" or site not in current_app.config["SITES"]:
        return None  # flask-sock's route carries it (and refuses an unknown site the same way)
    key = request.headers.get("Sec-WebSocket-Key", "")
    if request.headers.get("Sec-WebSocket-Version") != "13" or len(key) != 24:
        raise ApiError("a WebSocket handshake (version 13) is expected here", 400, "bad_handshake")
    chats = hub.hub(limits(current_app.config))
    environ = {k: v for k, v in request.environ.items() if isinstance(v, str)}
    if not chats.reserve():
        response = jsonify(ApiError("too many open chats; ask over HTTP (POST /api/v1/ask) for now",
                                    503, "chat_full").to_dict())
        response.status_code, response.headers["Retry-After"] = 503, "30"
        return response
    try:
        conn = adopt()  # from here on, the server leaves this connection to us
        conn.sendall(hub.handshake_response(key))
    except BaseException:
        chats.release()
        raise
    chats.adopt(conn, (current_app._get_current_object(), environ, site), _handle)
    return _Adopted()


def register_metrics() -> None:
    """The hub's figures as gauges of /metrics (zero in a process without a hub)."""
    from .. import metrics

    def read(field):
        return lambda: getattr(hub.current().stats, field) if hub.current() is not None else 0

    metrics.gauge("guide_ws_open", lambda: hub.current().open_count() if hub.current() is not None else 0)
    metrics.gauge("guide_ws_opened_total", read("opened"))
    metrics.gauge("guide_ws_refused_total", read("refused"))
    metrics.gauge("guide_ws_messages_total", read("messages"))
