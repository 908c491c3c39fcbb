"""/embed.js (minified, caching, compression, size budget) and the /demo app's pages."""

import gzip
import re

import pytest

from guide_server.web.context import services
from guide_server.widget.routes import DEMO_CSP
from guide_server.widget.script import WidgetScript, assemble, assemble_part, minify, part_names
from tests.support import ROOT

SOURCE = (ROOT / "embed.js").read_bytes()
DOCS = (ROOT / "docs" / "embed.md").read_text(encoding="utf-8")
SCRIPT = minify(SOURCE.decode("utf-8"))  # as served


def test_embed_js_has_an_etag_and_revalidates_with_304(client):
    first = client.get("/embed.js")
    assert first.status_code == 200
    assert first.mimetype == "text/javascript"
    assert first.data == SCRIPT
    etag = first.headers["ETag"]
    assert etag and "max-age=" in first.headers["Cache-Control"]
    assert "Accept-Encoding" in first.headers["Vary"]

    again = client.get("/embed.js", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert client.get("/embed.js", headers={"If-None-Match": '"stale"'}).status_code == 200


def test_embed_js_is_sent_gzipped_to_browsers_that_accept_it(client):
    packed = client.get("/embed.js", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.data) == SCRIPT
    plain_etag = client.get("/embed.js").headers["ETag"]
    assert packed.headers["ETag"] != plain_etag  # a cache must not hand one encoding for the other
    revalidated = client.get("/embed.js", headers={"Accept-Encoding": "gzip", "If-None-Match": packed.headers["ETag"]})
    assert revalidated.status_code == 304


def test_the_widget_is_served_minified_with_its_licence_header():
    assert len(SCRIPT) < 0.8 * len(SOURCE)
    assert SCRIPT.startswith(b"/*! guide embed.js") and b"MIT" in SCRIPT.splitlines()[0]
    assert b"// " not in SCRIPT and b"\n  " not in SCRIPT  # comments and indentation are gone
    assert b"`\n.r{all:initial;" in SCRIPT  # the stylesheet, a template literal, is kept as written


def test_embed_js_at_the_root_is_the_joined_sources():
    """Customers read /embed.js as the repository's embed.js: it must be what the server joins
    (run `python -m guide_server.widget.script` after editing guide_server/widget/js/)."""
    assert SOURCE.decode("utf-8") == assemble(), "embed.js is stale: python -m guide_server.widget.script"


def test_the_served_script_follows_changes_of_its_sources(app, client, tmp_path):
    (tmp_path / "10-a.js").write_text("// one\nvar a = 1;\n")
    (tmp_path / "20-b.js").write_text("var b = a + 1;\n")
    services(app).widget = WidgetScript(tmp_path)
    first = client.get("/embed.js")
    assert first.data.endswith(b"(function(w,d){'use strict';var a=1;var b=a+1;})(window,document);")
    assert client.get("/embed.js").headers["ETag"] == first.headers["ETag"]
    (tmp_path / "20-b.js").write_text("var b = 22;\n")
    second = client.get("/embed.js", headers={"If-None-Match": first.headers["ETag"]})
    assert second.status_code == 200 and second.data.endswith(b"var a=1;var b=22;})(window,document);")


def test_every_event_the_widget_sends_is_documented():
    """docs/embed.md lists every event the host page can listen to, and the browser tests record them all."""
    from .helpers import EVENTS

    text = SOURCE.decode("utf-8") + "".join(assemble_part(name) for name in part_names())  # embed.js and its parts
    sent = set(re.findall(r"emit\('(\w+)'", text))  # ready, settled
    sent |= set(re.findall(r"'([a-z]+:[a-z]+)'", text))  # tour:start, chat:open, ...
    assert {"ready", "settled", "tour:complete", "chat:answer"} <= sent
    documented = set(re.findall(r"^\| `([\w:]+)`(?:, `([\w:]+)`)? \|", DOCS, re.M))
    documented = {name for pair in documented for name in pair if name}
    assert sent - documented == set(), "events missing from docs/embed.md"
    assert sent == set(EVENTS)


def test_the_widget_stays_within_its_size_budget():
    assert len(gzip.compress(SCRIPT, 9)) <= 14 * 1024, "embed.js is over 14 KB gzipped as served (benchmarks/embed_size.py)"


def test_the_widget_needs_no_unsafe_csp_keywords():
    """The browser test under a strict CSP is the proof; this catches a slip before it runs."""
    text = SOURCE.decode("utf-8")
    for banned in ("eval(", "new Function", "setAttribute('style'", ".cssText"):
        assert banned not in text, banned
    # the one innerHTML: server-sanitised HTML, through the widget's Trusted Types policy
    assert text.count(".innerHTML") == 1 and "innerHTML = tt ? tt.createHTML(v) : v" in text


@pytest.mark.parametrize("path", ["/demo", "/demo/", "/demo/invoices", "/demo/invoices/new", "/demo/partners", "/demo/settings"])
def test_every_demo_page_is_the_app_shell_with_the_widget_under_a_strict_csp(client, path):
    page = client.get(path)
    assert page.status_code == 200
    assert page.headers["Content-Security-Policy"] == DEMO_CSP
    html = page.get_data(as_text=True)
    assert '<script src="/embed.js" data-site="demo" async></script>' in html
    assert "<style" not in html and " style=" not in html and "onclick" not in html


def test_the_demo_assets_are_served(client):
    for name, kind in (("app.js", "text/javascript"), ("app.css", "text/css")):
        asset = client.get(f"/demo/assets/{name}")
        assert asset.status_code == 200 and asset.mimetype == kind
