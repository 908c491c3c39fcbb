"""gunicorn settings of the documented production command:

    gunicorn -c python:guide_server.ops.gunicorn_conf -b 0.0.0.0:8000 'guide_server:create_app()'

- guide's worker class: gthread (2 workers × 8 threads) for requests, and chat WebSockets handed to
  one asyncio loop per worker, so open chats hold no thread (docs/architecture.md, "Serving");
- ``preload_app``: the app (models, tokenizer dictionary, search index) is loaded once in the
  master and shared by the forked workers, copy-on-write; what keeps those pages shared is below
  (``pre_fork``, ``_fewer_heaps``) and in docs/operations.md, "Memory";
- a short graceful timeout: on SIGTERM, chats get a close frame and requests in flight finish;
- JSON logs on stderr, with the request log as the access log (``LOG_FORMAT``);
- no start with the default ``SECRET_KEY`` (``_refuse_default_secret``).

Anything given on the command line (``-w 4``, ``--threads 16``, ``-b``) wins over this file.
"""

import ctypes
import gc
import os

os.environ.setdefault("GUIDE_LOG_FORMAT", "json")

worker_class = "guide_server.ops.worker.Worker"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = 8
preload_app = True
bind = ["127.0.0.1:8000"]
timeout = 30  # a worker silent this long is killed and replaced
graceful_timeout = 5  # SIGTERM: close frames at once, requests in flight get this long
keepalive = 5
worker_connections = 1000  # HTTP connections per worker (kept-alive included); open chats are not counted
accesslog = None  # the app writes the request log: one JSON line per request (ops.requests)
control_socket_disable = True  # gunicorn's control socket is one per user: two instances on a host would share it


def _fewer_heaps() -> None:
    """glibc gives each thread that allocates its own heap ("arena"), up to 8 per core, and keeps
    what was freed in each: 8 request threads, the chat loop and the event writer kept ~60 MB per
    worker. Two arenas hold ~40 MB (benchmarks/memory.py). Set here, in the master, before the
    app loads and before any thread starts; a C library without mallopt is left as it is."""
    try:
        ctypes.CDLL(None).mallopt(-8, 2)  # M_ARENA_MAX
    except (OSError, AttributeError):
        pass


def pre_fork(server, worker):
    """The master loads the build ``CURRENT`` names, if it is not the one it has (new workers after
    a content change then share it: ``ops.rotation``). Then everything it loaded goes to the
    garbage collector's permanent generation: a worker's collections never write to those
    objects, which would copy their pages."""
    if server.cfg.preload_app:
        from guide_server.ops import rotation

        rotation.in_master()
    gc.freeze()


def _refuse_default_secret() -> None:
    """Stop at once, before the preloaded app loads its models, when SECRET_KEY is the default:
    a server with it signs desk sessions that anyone can forge. (``guide serve --prod`` likewise;
    bad settings are left for the app to report.)"""
    from guide_server.config import instance_path, load_config
    from guide_server.desk.auth import default_secret_problem

    try:
        problem = default_secret_problem(load_config(instance_path()))
    except ValueError:
        return
    if problem:
        raise SystemExit(f"error: {problem}")


_fewer_heaps()
_refuse_default_secret()
