"""The package as users install it: a wheel built with `python -m build`, installed into a new
virtualenv, serving the widget, the demo and answers from a content folder of their own, with
no checkout of the repository anywhere on its path."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import pytest

from guide_server.widget.script import source_files
from tests.support import FAQ_EN, FAQ_JA, FAQ_PLANS, ROOT, write_content

TOUR = """\
id: hello
title: {ja: ようこそ, en: Welcome}
steps:
  - id: one
    body: {ja: 最初の一歩です。, en: The first step.}
"""


def _run(cmd, **kwargs):
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=900, **kwargs)
    assert out.returncode == 0, f"{cmd}\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
    return out


def _get(url: str, data: bytes | None = None) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(request, timeout=60) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel, built from a copy of the checkout (the build writes build/ and *.egg-info beside the sources)."""
    pytest.importorskip("build", reason="building the wheel needs the 'build' package (pip install -e '.[test]')")
    root = tmp_path_factory.mktemp("wheel")
    src = root / "src"
    tracked = _run(["git", "ls-files", "-z"], cwd=ROOT).stdout.split("\0")
    for rel in filter(None, tracked):
        if (ROOT / rel).is_file():
            (src / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, src / rel)
    _run([sys.executable, "-m", "build", "--wheel", "--outdir", str(root / "dist"), str(src)])
    (found,) = (root / "dist").glob("guide-*.whl")
    return found


def test_the_wheel_carries_the_widget_templates_and_models(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("guide_server/search/calibration.json", "guide_server/widget/templates/demo/index.html",
                   "guide_server/widget/static/demo/app.js", "guide_server/desk/templates/admin/base.html",
                   "guide_server/desk/static/admin.css"):
        assert needed in names, needed
    shipped = sorted(n.removeprefix("guide_server/widget/js/") for n in names if n.startswith("guide_server/widget/js/"))
    assert shipped == source_files()  # every source of the widget, and nothing else there
    assert not any(n.startswith(("tests/", "content/", "benchmarks/")) for n in names)


def test_an_installed_wheel_serves_the_widget_the_demo_and_answers(wheel, tmp_path):
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = venv / "bin" / "python"
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", "--quiet", str(wheel)])
    # The dependencies (torch, the models: gigabytes) come from this test run's environment; a
    # path added by a .pth line does not run that folder's own .pth files, so the checkout's
    # editable install of guide_server stays out of sight.
    site = Path(sysconfig.get_paths(vars={"base": str(venv), "platbase": str(venv)})["purelib"])
    (site / "test-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    content = write_content(tmp_path / "content", {"ja/invoices/send-email.md": FAQ_JA, "ja/billing/plans.md": FAQ_PLANS,
                                                    "en/security/password-reset.md": FAQ_EN})
    (content / "tours").mkdir()
    (content / "tours" / "hello.yml").write_text(TOUR, encoding="utf-8")
    env = {**os.environ, "GUIDE_CONTENT_DIR": str(content), "GUIDE_INSTANCE_PATH": str(tmp_path / "instance"),
           "HF_HUB_OFFLINE": "1", "PYTHONPATH": ""}
    where = _run([str(python), "-c", "import guide_server; print(guide_server.__file__)"], cwd=tmp_path, env=env)
    assert Path(where.stdout.strip()).is_relative_to(venv), where.stdout  # the installed copy, not the checkout

    built = _run([str(venv / "bin" / "guide"), "build-index", "--quiet"], cwd=tmp_path, env=env)
    assert "ja: 2 FAQs, en: 1 FAQs" in built.stdout, built.stdout
    port = _free_port()
    server = subprocess.Popen([str(venv / "bin" / "guide"), "serve", "--port", str(port)], cwd=tmp_path, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                status, _, body = _get(base + "/api/v1/health")
                if status == 200:
                    break
            except OSError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, server.stdout.read() if server.poll() else "timeout"
            time.sleep(0.5)
        assert json.loads(body)["tours"]["tours"] == 1  # content/tours of the given folder

        status, headers, script = _get(base + "/embed.js")
        assert status == 200 and headers["Content-Type"].startswith("text/javascript")
        assert script.startswith(b"/*! guide embed.js") and b"Guide" in script and len(script) > 10_000

        status, _, page = _get(base + "/demo")
        assert status == 200 and b'<script src="/embed.js" data-site="demo" async></script>' in page
        assert _get(base + "/demo/assets/app.js")[0] == 200
        status, _, login = _get(base + "/admin/login")
        assert status == 200 and _get(base + "/admin/static/admin.css")[0] == 200

        question = json.dumps({"site": "demo", "question": "請求書をメールで送りたい"}).encode()
        status, _, answer = _get(base + "/api/v1/ask", question)
        answer = json.loads(answer)
        assert status == 200 and answer["outcome"] == "answered", answer
        assert answer["answer"]["id"] == "ja-invoices-send-email"
    finally:
        server.terminate()
        server.wait(30)
