"""FAQ drafts for review in git: DRAFTS_MODE=patch writes a mail that `git am` applies to the content's
repository (the FAQ at its real place); DRAFTS_MODE=branch commits it on faq-drafts/<name> and leaves
the work tree, the index and the checked-out branch as they were. Real git, on a temporary repository."""

from __future__ import annotations

import os
import re
import subprocess

import pytest
from sqlalchemy import select

from guide_server.db import schema
from guide_server.desk.auth import create_token
from guide_server.search.faq import parse_faq
from guide_server.web.context import services

from .admin_seed import UNANSWERED_JA, login, make_admin, make_app, seed

GIT_ENV = {**os.environ, "GIT_AUTHOR_NAME": "editor", "GIT_AUTHOR_EMAIL": "editor@example.org",
           "GIT_COMMITTER_NAME": "editor", "GIT_COMMITTER_EMAIL": "editor@example.org", "GIT_CONFIG_NOSYSTEM": "1",
           "HOME": "/nonexistent"}


def git(cwd, *args) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, env=GIT_ENV, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _app(tmp_path, mode: str, repo: bool = True):
    app = make_app(tmp_path, DRAFTS_MODE=mode)  # content copied to tmp_path/content
    if repo:
        git(tmp_path, "init", "-q", "-b", "main")
        git(tmp_path, "add", "content")
        git(tmp_path, "commit", "-q", "-m", "content")
    seed(app)
    return app


@pytest.fixture
def drafts(tmp_path):
    """``drafts(mode)``: the app with DRAFTS_MODE=mode (its content in a git repository unless ``repo`` is
    off), and a function that drafts UNANSWERED_JA's group through the API under a file name."""
    apps = []

    def start(mode: str, repo: bool = True):
        app = _app(tmp_path, mode, repo)
        apps.append(app)
        with services(app).db.connect() as conn:
            ids = conn.execute(select(schema.questions.c.id).where(schema.questions.c.question == UNANSWERED_JA)).scalars().all()
        token = create_token(services(app).db, "bot", write=True)

        def post(slug: str):
            return app.test_client().post("/api/v1/admin/drafts", headers={"Authorization": f"Bearer {token}"},
                                          json={"site": "demo", "locale": "ja", "title": "インボイス登録番号", "slug": slug,
                                                "question_ids": ids})
        return post

    yield start
    for app in apps:
        services(app).close()


def test_a_patch_draft_is_applied_by_git_am_at_the_faqs_place(drafts, tmp_path):
    post = drafts("patch")
    head = git(tmp_path, "rev-parse", "HEAD")
    resp = post("invoice-number")
    assert resp.status_code == 201, resp.get_data(as_text=True)
    assert resp.get_json()["path"] == "faq/ja/drafts/0001-faq-draft-invoice-number.patch"
    assert post("invoice-number").status_code == 409  # the same name again
    assert post("second").get_json()["path"] == "faq/ja/drafts/0002-faq-draft-second.patch"
    assert git(tmp_path, "rev-parse", "HEAD") == head and not git(tmp_path, "status", "--porcelain", "--untracked-files=no")

    patch = tmp_path / "content/faq/ja/drafts/0001-faq-draft-invoice-number.patch"
    git(tmp_path, "am", "-q", str(patch))
    added = tmp_path / "content/faq/ja/invoice-number.md"
    faq = parse_faq(added.read_bytes(), "ja/invoice-number.md")
    assert faq.title == "インボイス登録番号" and faq.questions == [UNANSWERED_JA] and "TODO" in faq.body
    assert git(tmp_path, "log", "-1", "--format=%an|%s") == "token bot|FAQ draft: インボイス登録番号"
    assert git(tmp_path, "diff", "--name-only", "HEAD~1") == "content/faq/ja/invoice-number.md"
    # once the FAQ is there, a draft of that name is refused rather than a patch that cannot apply
    assert post("invoice-number").status_code == 409


def test_a_branch_draft_is_a_commit_on_its_own_branch_and_nothing_else_moves(drafts, tmp_path):
    post = drafts("branch")
    (tmp_path / "content/faq/ja/billing/plans.md").write_text("an editor's unsaved work\n", encoding="utf-8")
    git(tmp_path, "add", "content/faq/ja/billing/plans.md")  # staged, not committed
    before = {what: git(tmp_path, *args) for what, args in {
        "head": ("rev-parse", "HEAD"), "branch": ("symbolic-ref", "HEAD"), "status": ("status", "--porcelain"),
        "staged": ("diff", "--cached", "--name-only"), "files": ("ls-files", "-o", "--exclude-standard")}.items()}

    resp = post("invoice-number")
    assert resp.status_code == 201, resp.get_data(as_text=True)
    assert resp.get_json()["path"] == "branch faq-drafts/invoice-number"
    assert {what: git(tmp_path, *args) for what, args in {
        "head": ("rev-parse", "HEAD"), "branch": ("symbolic-ref", "HEAD"), "status": ("status", "--porcelain"),
        "staged": ("diff", "--cached", "--name-only"), "files": ("ls-files", "-o", "--exclude-standard")}.items()} == before
    assert not (tmp_path / "content/faq/ja/invoice-number.md").exists()

    branch = "faq-drafts/invoice-number"
    assert git(tmp_path, "rev-parse", f"{branch}~1") == before["head"]
    assert git(tmp_path, "diff", "--name-status", before["head"], branch) == "A\tcontent/faq/ja/invoice-number.md"
    raw = git(tmp_path, "show", f"{branch}:content/faq/ja/invoice-number.md").encode() + b"\n"
    faq = parse_faq(raw, "ja/invoice-number.md")
    assert faq.questions == [UNANSWERED_JA]
    assert git(tmp_path, "log", "-1", "--format=%an|%cn", branch) == "token bot|guide review desk"
    again = post("invoice-number")
    assert again.status_code == 409 and "faq-drafts/invoice-number" in again.get_json()["error"]["message"]


def test_branch_mode_outside_a_git_work_tree_says_so(drafts):
    resp = drafts("branch", repo=False)("nowhere")
    assert resp.status_code == 409 and resp.get_json()["error"]["code"] == "drafts_git"
    assert "not in a git work tree" in resp.get_json()["error"]["message"]


def test_the_desk_says_where_a_branch_draft_went(tmp_path):
    app = _app(tmp_path, "branch")
    make_admin(app)
    try:
        client = app.test_client()
        assert login(client).status_code == 303
        page = client.get("/admin/unanswered").get_data(as_text=True)
        form = page.split('class="gd-draft"', 1)[1].split("</form>", 1)[0]
        fields: dict[str, list[str]] = {}
        for name, value in re.findall(r'name="([^"]+)" value="([^"]*)"', form):
            fields.setdefault(name, []).append(value)
        resp = client.post("/admin/unanswered/draft", data={**fields, "slug": ["from-desk"]}, follow_redirects=True)
        assert "branch faq-drafts/from-desk" in resp.get_data(as_text=True) and "git でレビュー" in resp.get_data(as_text=True)
    finally:
        services(app).close()


def test_a_drafts_dir_the_builder_would_publish_is_refused_at_start(tmp_path):
    with pytest.raises(ValueError, match="DRAFTS_DIR"):
        make_app(tmp_path, DRAFTS_DIR=str(tmp_path / "content" / "faq" / "ja" / "pending"))
    with pytest.raises(ValueError, match="DRAFTS_MODE"):
        make_app(tmp_path / "b", DRAFTS_MODE="email")
