"""guide's gunicorn worker: gthread (requests on a pool of threads), plus chat WebSockets handed
to the process's chat hub, so that an open chat holds no thread.

``gunicorn -k guide_server.ops.worker.Worker`` (``gunicorn_conf`` sets it). The app finds
``environ["guide.adopt_socket"]``: calling it marks the connection as taken, and when the request
returns, the worker forgets the connection instead of closing it. On SIGTERM the worker first
marks the process as draining (``/readyz`` → 503) and sends every open chat a close frame
(1001, going away), then finishes its requests in flight as gthread does. After a content change
it asks the master for new workers that share the new build (``rotation``).
"""

from __future__ import annotations

import ssl
import threading

from gunicorn.workers.gthread import ThreadWorker

from ..chat import alerts, delivery, hub
from . import lifecycle, rotation

ADOPT = "guide.adopt_socket"
_ADOPTED = object()
_local = threading.local()


def _adopt(sock):
    def take():
        _local.adopted = True
        return sock

    return take


class Worker(ThreadWorker):
    def load_wsgi(self):
        super().load_wsgi()
        app = self.wsgi
        self.rotation = rotation.start_in_worker(self, app)
        if hasattr(app, "config"):  # escalations and alerts still to send, from before a restart: sent from here too
            delivery.start(app)
            alerts.start(app)

        def wsgi(environ, start_response):
            sock = environ.get("gunicorn.socket")
            if (sock is not None and not isinstance(sock, ssl.SSLSocket)  # TLS sockets stay on their thread
                    and environ.get("HTTP_UPGRADE", "").lower() == "websocket"):
                environ[ADOPT] = _adopt(sock)
            return app(environ, start_response)

        self.wsgi = wsgi

    def handle(self, conn):
        _local.adopted = False
        result = super().handle(conn)
        if _local.adopted:
            _local.adopted = False
            return _ADOPTED
        return result

    def finish_request(self, conn, fs):
        if not fs.cancelled() and fs.exception() is None and fs.result() is _ADOPTED:
            self.nr_conns -= 1  # the hub owns the socket now; gthread must not close it
            return
        super().finish_request(conn, fs)

    def handle_exit(self, sig, frame):
        lifecycle.start_draining()
        chats = hub.current()
        if chats is not None:
            threading.Thread(target=chats.drain, name="guide-chat-drain", daemon=True).start()
        super().handle_exit(sig, frame)

    def run(self):
        super().run()
        chats = hub.current()
        if chats is not None:
            chats.drain(wait=2.0)  # close frames written before the process exits
