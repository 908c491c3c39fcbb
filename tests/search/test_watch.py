"""``index_builder.py --watch`` publishes every good change and holds back only the broken FAQ
files; a duplicate id is blamed on the new file; the errors reach ``/api/v1/health``."""

from __future__ import annotations

import time

import pytest

from guide_server import create_app
from guide_server.search.builder import BuildMemory, build, load_indexes
from guide_server.search.errors import BuildError
from guide_server.search.problems import read_problems
from guide_server.web.context import services
from tests.cli.test_cli import start_watch
from tests.guidance.test_tours import _bump as rewrite
from tests.support import FAQ_JA, MODELS

BROKEN = "---\ntitle: [\n---\nx\n"


def body_of(out, faq_id: str) -> str | None:
    _, indexes = load_indexes(out)
    index = indexes[faq_id.split("-")[0]]
    return index.faqs[index.by_id[faq_id]].body if faq_id in index.by_id else None



def test_a_watched_build_publishes_the_good_changes_and_holds_back_the_broken_files(small_content, tmp_path):
    out, memory = tmp_path / "idx", BuildMemory()
    build(small_content, out, MODELS, progress=False, memory=memory, hold_back=True)
    faq = small_content / "faq/ja"
    rewrite(faq / "billing/plans.md", (faq / "billing/plans.md").read_text(encoding="utf-8") + "\n年払いもあります。\n")
    rewrite(faq / "invoices/send-email.md", BROKEN)  # published before: its last version stays
    rewrite(faq / "billing/new.md", BROKEN)  # never published: left out
    manifest = build(small_content, out, MODELS, progress=False, memory=memory, hold_back=True)
    assert "年払い" in body_of(out, "ja-billing-plans")
    assert "メールで送付" in body_of(out, "ja-invoices-send-email")
    assert body_of(out, "ja-billing-new") is None
    assert manifest["held_back"] == ["ja/invoices/send-email.md"]
    assert [(p["file"], p["line"]) for p in read_problems(out)] == [("faq/ja/billing/new.md", 2),
                                                                     ("faq/ja/invoices/send-email.md", 2)]
    rewrite(faq / "invoices/send-email.md", FAQ_JA.replace("送付できます", "送れます"))
    (faq / "billing/new.md").unlink()
    manifest = build(small_content, out, MODELS, progress=False, memory=memory, hold_back=True)
    assert manifest["held_back"] == [] and manifest["content_errors"] == [] and read_problems(out) == []
    assert "送れます" in body_of(out, "ja-invoices-send-email")


@pytest.mark.parametrize("hold_back", [True, False])
def test_a_duplicate_id_is_blamed_on_the_new_file_not_the_published_one(small_content, tmp_path, hold_back):
    out = tmp_path / "idx"
    build(small_content, out, MODELS, progress=False)
    # sorted first, so a check in file order would blame the published plans.md
    rewrite(small_content / "faq/ja/billing/copy.md", "---\nid: ja-billing-plans\ntitle: コピー\n---\n写しです。\n")
    expected = "ja/billing/copy.md:2: duplicate id 'ja-billing-plans' (also in ja/billing/plans.md)"
    if hold_back:
        manifest = build(small_content, out, MODELS, progress=False, hold_back=True)
        assert manifest["content_errors"] == [expected]
    else:
        with pytest.raises(BuildError) as failed:
            build(small_content, out, MODELS, progress=False)
        assert [str(e) for e in failed.value.errors] == [expected]
    assert "スタンダード" in body_of(out, "ja-billing-plans")
    assert read_problems(out) == [{"file": "faq/ja/billing/copy.md", "line": 2,
                                   "message": "duplicate id 'ja-billing-plans' (also in ja/billing/plans.md)"}]


def test_build_errors_reach_the_health_endpoint(small_content, tmp_path):
    out = tmp_path / "idx"
    build(small_content, out, MODELS, progress=False)
    rewrite(small_content / "faq/ja/billing/new.md", BROKEN)
    build(small_content, out, MODELS, progress=False, hold_back=True)
    app = create_app({"TESTING": True, "CONTENT_DIR": str(small_content), "INDEX_DIR": str(out),
                      "DATABASE_URL": f"sqlite:///{tmp_path / 'guide.db'}", "RELOAD_INTERVAL": 0})
    try:
        body = app.test_client().get("/api/v1/health").get_json()
    finally:
        services(app).close()
    assert body["status"] == "degraded"
    assert body["content_errors"] == [{"file": "faq/ja/billing/new.md", "line": 2,
                                       "message": read_problems(out)[0]["message"]}]
    assert body["warnings"][0].startswith("content error: faq/ja/billing/new.md:2: bad YAML front matter")


def test_watch_goes_on_publishing_while_a_file_is_broken(small_content, tmp_path):
    out = tmp_path / "idx"
    proc, lines = start_watch(small_content, out)
    try:
        assert lines.next().startswith("built ")
        assert lines.next().startswith("watching ")
        rewrite(small_content / "faq/ja/invoices/send-email.md", BROKEN)
        assert lines.next().startswith("built ")  # published as it was, the broken file held back
        plans = small_content / "faq/ja/billing/plans.md"
        rewrite(plans, plans.read_text(encoding="utf-8") + "\n年払いもあります。\n")
        assert lines.next().startswith("built ")
        deadline = time.monotonic() + 30
        while not any("held back" in err for err in lines.stderr) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    errors = "".join(lines.stderr)
    assert "ja/invoices/send-email.md:2: bad YAML front matter" in errors
    assert "kept in their last published version: ja/invoices/send-email.md" in errors
    assert "年払い" in body_of(out, "ja-billing-plans") and "メールで送付" in body_of(out, "ja-invoices-send-email")
