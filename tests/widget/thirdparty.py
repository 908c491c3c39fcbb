"""A real third-party single-page app, fetched from a package registry, with our widget tag injected.

The app: the AngularJS example of TodoMVC, as published on npm by the TodoMVC project itself.

- package: ``todomvc`` version 0.1.1 on npm (https://www.npmjs.com/package/todomvc), the only version;
  tarball https://registry.npmjs.org/todomvc/-/todomvc-0.1.1.tgz, 11,466,904 bytes,
  integrity ``sha512-gd6+DoObD0yzXEpbvHvkSoOd9/krxd/wvUTbzvKe7uTjAM2v9wG6zy4Icl6aUcMpDof53Cz2l5O/9mdN3Jk+ag==``
  (sha1 ``df27b3d3025df676facc5540cdbc342e1c9d9660``), as the registry's metadata gives them.
- upstream: TodoMVC, https://github.com/tastejs/todomvc (https://todomvc.com), by Addy Osmani, Sindre
  Sorhus, Pascal Hartig, Stephen Sawchuk and contributors. We use ``examples/angularjs`` (AngularJS
  1.3.0 + angular-route, by Christoph Burgdorf, Eric Bidelman, Jacob Mumm and Igor Minar).
- licence: MIT (the package's ``license.md``: "Everything in this repo is MIT License unless otherwise
  specified"; AngularJS itself is MIT too). The licence file is kept beside the app in the cache.

Why this one: it is a real, published app that nobody here wrote, and its tarball holds it ready to run:
``index.html`` plus its scripts and their vendored libraries (``bower_components``), no build step, no
CDN (``todomvc-common/base.js`` only loads Google Analytics on todomvc.com itself). It routes by the
URL's hash (``#/``, ``#/active``, ``#/completed``, through ``$routeProvider``) and adds a todo through a
real ``<form id="todo-form" ng-submit=...>``, so a tour on it exercises hash-route and form-submit steps.
Of the tarball's 60-odd examples only ``examples/angularjs`` (18 files, about 1 MB) and the licence are
extracted. Note for whoever serves it: the app asks ``GET /api`` first and, if that answers 200, uses it
as its backend instead of localStorage; on our server ``/api`` is a 404, as it must stay.

Rejected: ``todomvc-react`` (built, but no hash routes and root-absolute asset URLs), ``react-todomvc``
(a component library, no page), ``todomvc-app-css``/``todomvc-common`` (CSS and helpers only),
``backbone`` (library only, its examples are not in the tarball), ``docsify`` (a library: the site,
its markdown pages and the search box would all be ours to write).
"""

from __future__ import annotations

import base64
import hashlib
import html
import os
import re
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from flask import Blueprint, Response, abort, redirect, send_from_directory

REPO = Path(__file__).resolve().parents[2]
CACHE = REPO / ".cache" / "thirdparty"

PACKAGE = "todomvc"
VERSION = "0.1.1"
INTEGRITY = "sha512-gd6+DoObD0yzXEpbvHvkSoOd9/krxd/wvUTbzvKe7uTjAM2v9wG6zy4Icl6aUcMpDof53Cz2l5O/9mdN3Jk+ag=="
SHA1 = "df27b3d3025df676facc5540cdbc342e1c9d9660"
SIZE = 11_466_904
APP = "examples/angularjs"  # inside the tarball's package/ folder
KEEP = ("license.md",)  # other files of the package kept beside it
DEFAULT_REGISTRY = "https://registry.npmjs.org/"


def registry() -> str:
    """The npm registry to fetch from: npm's own setting if the environment gives one, else npmjs.org.
    (Proxies: urllib follows HTTPS_PROXY / https_proxy / NO_PROXY by itself.)"""
    url = os.environ.get("npm_config_registry") or os.environ.get("NPM_CONFIG_REGISTRY") or DEFAULT_REGISTRY
    return url if url.endswith("/") else url + "/"


def tarball_url() -> str:
    return f"{registry()}{PACKAGE}/-/{PACKAGE}-{VERSION}.tgz"


def _unavailable(message: str):
    """No registry: skip on a developer's machine, but fail under CI, where it must not hide."""
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def _verify(data: bytes) -> None:
    algorithm, _, expected = INTEGRITY.partition("-")
    got = base64.b64encode(hashlib.new(algorithm, data).digest()).decode()
    if got != expected or hashlib.sha1(data).hexdigest() != SHA1:
        raise AssertionError(f"{PACKAGE}-{VERSION}.tgz does not match its pinned integrity {INTEGRITY} "
                             f"(got {algorithm}-{got}, {len(data)} bytes); refusing to use it")


def _download(url: str, cache: Path, timeout: float = 120) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": "guide-tests (third-party fixture)"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.read()
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        _unavailable(f"cannot fetch the third-party test app {PACKAGE}@{VERSION} from {url}: {exc} "
                     f"(needs the npm registry, or a filled cache at {cache})")
        raise  # not reached: skip and fail raise


def _extract(tgz: Path, into: Path) -> None:
    """Write the app's files (and the licence) into ``into``: regular files and folders only, each
    checked to stay inside it; links, devices and anything else in the tarball are refused."""
    wanted = f"package/{APP}/"
    root = into.resolve()
    with tarfile.open(tgz, "r:gz") as tar:
        count = 0
        for member in tar:
            name = member.name
            if not (name.startswith(wanted) or name in {f"package/{k}" for k in KEEP}):
                continue
            parts = name.split("/")[1:]  # without package/
            if name.startswith("/") or "\\" in name or any(p in ("", ".", "..") for p in parts[:-1]) or parts[-1] in ("", ".", ".."):
                raise AssertionError(f"unsafe path in {tgz.name}: {name!r}")
            target = root.joinpath(*parts).resolve()
            if not target.is_relative_to(root):
                raise AssertionError(f"path outside the folder in {tgz.name}: {name!r}")
            if member.isdir():
                target.mkdir(parents=True, exist_ok=True)
            elif member.isreg():
                target.parent.mkdir(parents=True, exist_ok=True)
                source = tar.extractfile(member)
                with source, open(target, "wb") as out:
                    shutil.copyfileobj(source, out)
                count += 1
            else:
                raise AssertionError(f"refusing {name!r} in {tgz.name}: not a regular file (type {member.type!r})")
    if not (root / APP / "index.html").is_file():
        raise AssertionError(f"{tgz.name} has no {APP}/index.html ({count} files taken)")


def third_party_app(cache_dir: Path | str | None = None) -> Path:
    """The folder holding the app's index.html, downloaded, verified and unpacked on first use.

    The cache (default ``.cache/thirdparty/`` in the repository) keeps the verified tarball and the
    unpacked files; a folder is only put in place, by a rename, once it is complete."""
    cache = Path(cache_dir) if cache_dir is not None else CACHE
    done = cache / f"{PACKAGE}-{VERSION}"
    app = done / APP
    if (app / "index.html").is_file():
        return app
    cache.mkdir(parents=True, exist_ok=True)
    tgz = cache / f"{PACKAGE}-{VERSION}.tgz"
    if tgz.is_file():
        try:
            _verify(tgz.read_bytes())
        except AssertionError:
            tgz.unlink()  # a broken or truncated cache: fetch again
    if not tgz.is_file():
        data = _download(tarball_url(), cache)
        _verify(data)
        partial = tgz.with_name(f"{tgz.name}.{os.getpid()}.part")
        partial.write_bytes(data)
        os.replace(partial, tgz)
    work = Path(tempfile.mkdtemp(prefix=f".{PACKAGE}-", dir=cache))
    try:
        _extract(tgz, work)
        try:
            work.rename(done)
        except OSError:  # another process got there first
            if not (app / "index.html").is_file():
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return app


def widget_tag(site: str) -> str:
    return f'<script src="/embed.js" data-site="{html.escape(site)}" async></script>'


def inject(page: str, tag: str) -> str:
    """The page with ``tag`` just before ``</head>`` (else ``</body>``, else at the end); nothing else changes."""
    for closing in (r"</head\s*>", r"</body\s*>"):
        found = re.search(closing, page, re.IGNORECASE)
        if found:
            return page[:found.start()] + tag + page[found.start():]
    return page + tag


def third_party_blueprint(folder: Path, *, app: str = "todo", site: str = "todo") -> Blueprint:
    """Serve ``folder`` at ``/x/<app>/``: its files as they are, except index.html (the page itself),
    which gets our widget tag for ``site``."""
    folder = Path(folder).resolve()
    bp = Blueprint(f"thirdparty_{app}", __name__)
    tag = widget_tag(site)

    @bp.get(f"/x/{app}")
    def bare():
        return redirect(f"/x/{app}/")  # the app's URLs are relative to its folder

    @bp.get(f"/x/{app}/")
    @bp.get(f"/x/{app}/<path:name>")
    def serve(name: str = "index.html"):
        if name == "index.html":
            page = (folder / "index.html").read_text(encoding="utf-8")
            response = Response(inject(page, tag), mimetype="text/html")
            response.headers["Cache-Control"] = "no-store"
            return response
        if not (folder / name).resolve().is_relative_to(folder):
            abort(404)
        return send_from_directory(folder, name)

    return bp
