"""No production server with the default SECRET_KEY ('dev'): the documented gunicorn command and
`guide serve --prod` refuse to start, with a message that says what to set; `guide serve` (what
`make run` starts) only warns."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support import ROOT, free_port, guide

MESSAGE = "SECRET_KEY is the default 'dev'"


@pytest.fixture
def env(tmp_path):
    """A server environment with nothing set but its folders: SECRET_KEY is the default."""
    base = {k: v for k, v in os.environ.items() if k != "GUIDE_SECRET_KEY"}
    return {**base, "GUIDE_INSTANCE_PATH": str(tmp_path), "GUIDE_INDEX_DIR": str(tmp_path / "no-index"),
            "GUIDE_DATABASE_URL": f"sqlite:///{tmp_path / 'guide.db'}"}


@pytest.mark.parametrize("secret", [None, "dev", ""])
def test_the_production_gunicorn_command_refuses_the_default_secret(env, secret):
    if secret is not None:
        env["GUIDE_SECRET_KEY"] = secret
    proc = subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", "python:guide_server.ops.gunicorn_conf",
         "-b", f"127.0.0.1:{free_port()}", "guide_server:create_app()"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert MESSAGE in proc.stderr and "GUIDE_SECRET_KEY" in proc.stderr, proc.stderr[-2000:]
    assert "Booting worker" not in proc.stderr  # refused before anything started


def test_guide_serve_prod_refuses_the_default_secret(env):
    out = guide("serve", "--prod", "--port", str(free_port()), env=env)
    assert out.returncode == 2 and MESSAGE in out.stderr, out.stderr


def test_guide_serve_prod_takes_a_real_secret_and_plain_serve_only_warns(env):
    """Both get past the check and stop at the next one: there is no search index here."""
    good = {"GUIDE_SECRET_KEY": "a-long-random-value-0123456789-abcdefghij"}
    out = guide("serve", "--prod", "--port", str(free_port()), env={**env, **good})
    assert out.returncode == 1 and "index" in out.stderr and "SECRET_KEY" not in out.stderr, out.stderr
    out = guide("serve", "--port", str(free_port()), env=env)
    assert out.returncode == 1 and "index" in out.stderr and "forge" not in out.stderr, out.stderr
    assert "WARNING" in out.stderr and MESSAGE in out.stderr  # said, not refused
