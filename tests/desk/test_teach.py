"""Teaching the bot from the desk: the YAML list editor on many file shapes (every other byte kept),
"Answer with this FAQ" on the desk and through the API (ask, teach, ask again: answered), refusals
(a file changed since the page, another locale, a viewer, a read-only token), the audit entry, and
the draft form's refusals in the reader's language with the form kept."""

from __future__ import annotations

import re
import shutil
from html import unescape
from pathlib import Path

import pytest
import yaml

from guide_server.content.faqedit import FaqEditError, add_questions, digest
from guide_server.desk import audit
from guide_server.desk.auth import create_admin, create_token
from guide_server.desk.drafts import suggest_slug
from guide_server.desk.rebuild import read_status, rebuilder
from guide_server.desk.teach import after_teaching, teach_faq
from guide_server.search.faq import parse_faq
from guide_server.web.context import services

from .admin_seed import PASSWORD, STUCK_QUESTION, csrf_of, make_app, seed, signed_in

# --- the YAML list editor ----------------------------------------------------------------------------

BODY = "本文です。\n\n## 手順\n1. 開く\n"


@pytest.mark.parametrize("front, expected", [
    # block list, indented; a comment after the list belongs to what follows and stays there
    ("title: T\nquestions:\n  - a\n  - b  # why b\n# about tags\ntags: [x]\n",
     "title: T\nquestions:\n  - a\n  - b  # why b\n  - 新しい質問\n# about tags\ntags: [x]\n"),
    # block list at column 0, and as the last key
    ("title: T\nquestions:\n- a\n", "title: T\nquestions:\n- a\n- 新しい質問\n"),
    # a block scalar item ends where the next line starts
    ("questions:\n  - |\n    a\n    b\ntitle: T\n", "questions:\n  - |\n    a\n    b\n  - 新しい質問\ntitle: T\n"),
    # flow lists: one line, several lines, empty
    ("title: T\nquestions: [a, \"b\"]  # kept\n", "title: T\nquestions: [a, \"b\", 新しい質問]  # kept\n"),
    ("title: T\nquestions: [a,\n  b]\ncategory: c\n", "title: T\nquestions: [a,\n  b, 新しい質問]\ncategory: c\n"),
    ("title: T\nquestions: []\n", "title: T\nquestions: [新しい質問]\n"),
    # no questions yet: the key with nothing, an explicit null, a single string, no key at all
    ("title: T\nquestions:\ncategory: c\n", "title: T\nquestions:\n  - 新しい質問\ncategory: c\n"),
    ("title: T\nquestions: ~\n", "title: T\nquestions: [新しい質問]\n"),
    ("title: T\nquestions: a\n", "title: T\nquestions: [a, 新しい質問]\n"),
    ("title: T  # the canonical question\ncategory: c\n", "title: T  # the canonical question\ncategory: c\nquestions:\n  - 新しい質問\n"),
])
def test_a_wording_is_added_and_nothing_else_changes(front, expected):
    raw = f"---\n{front}---\n{BODY}".encode()
    out, added = add_questions(raw, ["新しい質問"])
    assert added == ["新しい質問"]
    assert out.decode() == f"---\n{expected}---\n{BODY}"
    assert parse_faq(out, "ja/x.md").questions[-1] == "新しい質問"


def test_crlf_files_and_a_byte_order_mark_stay_as_they_were():
    raw = b"\xef\xbb\xbf---\r\ntitle: T\r\nquestions:\r\n  - a\r\n---\r\n" + BODY.replace("\n", "\r\n").encode()
    out, _ = add_questions(raw, ["b"])
    assert out == raw.replace(b"  - a\r\n", b"  - a\r\n  - b\r\n")
    absent, _ = add_questions(b"---\r\ntitle: T\r\n---\r\nbody\r\n", ["b"])
    assert absent == b"---\r\ntitle: T\r\nquestions:\r\n  - b\r\n---\r\nbody\r\n"


@pytest.mark.parametrize("wording", ["yes", "123", "a: b", "#hashtag", "[x]", "'quoted'", "null", "- dash", 'say "hi"',
                                     "{x}", "? q", "ok, fine"])
def test_wordings_that_yaml_would_misread_are_quoted(wording):
    for front in ("questions:\n  - a\n", "questions: [a]\n", ""):
        out, added = add_questions(f"---\ntitle: T\n{front}---\nbody\n".encode(), [wording])
        assert added == [wording]
        assert parse_faq(out, "ja/x.md").questions[-1] == wording, out.decode()


def test_wordings_are_deduplicated_against_the_title_the_questions_and_each_other():
    raw = "---\ntitle: CSVで出力するには？\nquestions:\n  - 請求書を  メールで送りたい\n---\nbody\n".encode()
    out, added = add_questions(raw, ["ＣＳＶで出力するには？", "請求書を メールで送りたい", " 新しい  質問 ", "新しい質問", "別の質問"])
    assert added == ["新しい 質問", "別の質問"]  # full-width letters (NFKC), case and spaces folded
    assert yaml.safe_load(out.decode().split("---")[1])["questions"] == ["請求書を  メールで送りたい", "新しい 質問", "別の質問"]
    same, none = add_questions(raw, ["csvで出力するには？"])
    assert none == [] and same == raw


@pytest.mark.parametrize("raw", [b"no front matter\n", b"---\ntitle: [unclosed\n---\nbody\n", b"---\n- a list\n---\nbody\n",
                                 b"---\ntitle: T\nquestions: {a: b}\n---\nbody\n", b"---\ntitle: T\n", b"\xff\xfe---\n"])
def test_files_it_cannot_edit_safely_are_refused(raw):
    with pytest.raises(FaqEditError):
        add_questions(raw, ["x"])


# --- on the desk ---------------------------------------------------------------------------------------

ASKED = "社内の稟議を電子化したい"  # no answer in the sample help centre...
FAQ_ID = "ja-approval-setup-flow"  # ...though the approval-flow FAQ answers it
FAQ_FILE = "faq/ja/approval/setup-flow.md"


@pytest.fixture
def app(tmp_path, sample_index):
    index = tmp_path / "index"
    shutil.copytree(sample_index, index)  # rebuilt here: the session's index stays as it is
    app = make_app(tmp_path, INDEX_DIR=str(index))
    seed(app)
    for name, role in (("alice", "admin"), ("eddie", "editor"), ("vera", "viewer")):
        create_admin(services(app).db, name, PASSWORD, role=role)
    yield app
    services(app).close()


def _ask(client, text: str = ASKED) -> dict:
    resp = client.post("/api/v1/ask", json={"site": "demo", "question": text})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()



def _teach_form(html: str, faq_id: str) -> dict:
    """The "Answer with this FAQ" form of ``faq_id`` in the box of the group that asked ASKED."""
    box = re.search(r'<div class="gd-teach" id="(teach-[0-9a-f]+)">(?:(?!<div class="gd-teach").)*?name="faq" value="'
                    + re.escape(faq_id) + r'".*?</form>', html, re.S)
    assert box, f"no teach form for {faq_id}"
    form = html[:box.end()].rsplit("<form", 1)[1]
    fields: dict[str, list[str]] = {}
    for name, value in re.findall(r'name="([^"]+)" value="([^"]*)"', form):
        fields.setdefault(name, []).append(unescape(value))
    action = unescape(re.search(r'action="([^"]+)"', form).group(1))
    return {"action": action, "fields": fields}


def _search_page(client, html: str, typed: str) -> str:
    """The unanswered page after searching ``typed`` in the box of ASKED's group."""
    key = re.search(r'id="teach-([0-9a-f]+)"', html.split(ASKED, 1)[1]).group(1)
    return client.get("/admin/unanswered", query_string={"teach": key, "faq_q": typed}).get_data(as_text=True)


def test_ask_teach_ask_again_answered(app):
    asker = app.test_client()
    assert _ask(asker)["outcome"] == "no_answer"
    eddie = signed_in(app, name="eddie")
    page = eddie.get("/admin/unanswered").get_data(as_text=True)
    assert 'class="gd-teach"' in page and "近いFAQ" in page  # FAQs suggested before anything is typed
    page = _search_page(eddie, page, "承認フローを設定")
    assert "「承認フローを設定」に近いFAQ" in page
    form = _teach_form(page, FAQ_ID)
    path = Path(app.config["CONTENT_DIR"]) / FAQ_FILE
    before = path.read_bytes()
    assert form["fields"]["hash"] == [digest(before)]

    resp = eddie.post(form["action"], data=form["fields"])
    assert resp.status_code == 303 and "#teach-" in resp.headers["Location"] and "faq_q=" in resp.headers["Location"]
    after = path.read_bytes()
    assert after.startswith(before.split(b"\ncategory:")[0]) and f"  - {ASKED}\n".encode() in after
    assert after.replace(f"  - {ASKED}\n".encode(), b"") == before  # that line added, nothing else
    rebuilder(app).join()
    status = read_status(Path(app.config["INDEX_DIR"]))
    assert status.state == "done" and status.by == "eddie", status
    page = eddie.get(resp.headers["Location"]).get_data(as_text=True)
    assert "言い回しを 1件追加しました" in page and "FAQインデックスを再構築しました" in page

    again = _ask(asker)
    assert again["outcome"] == "answered" and again["answer"]["id"] == FAQ_ID
    entry = audit.entries(services(app).db, action="teach")[0]
    assert entry["actor"] == "eddie" and entry["site"] == "demo"
    assert entry["detail"] == {"file": FAQ_FILE, "faq": FAQ_ID, "wordings": 1}

    # the same again: nothing new, no rebuild
    page = _search_page(eddie, eddie.get("/admin/unanswered").get_data(as_text=True), "承認フローを設定")
    repeat = _teach_form(page, FAQ_ID)
    assert eddie.post(repeat["action"], data=repeat["fields"], follow_redirects=True).status_code == 200
    assert path.read_bytes() == after


def test_a_question_asked_on_a_tour_step_is_taught_from_the_step_page(app):
    """Any question, not only a group: the step page offers a teach box for each question asked there,
    and teaching goes back to that step page."""
    step = "/admin/step?tour=first-invoice&version=1&step=new-button"
    assert 'class="gd-teach"' not in signed_in(app, name="vera").get(step).get_data(as_text=True)  # a viewer: no box
    eddie = signed_in(app, name="eddie")
    page = eddie.get(step).get_data(as_text=True)
    assert STUCK_QUESTION in page and 'class="gd-teach"' in page
    form = _teach_form(page, "ja-invoices-create")
    assert form["fields"]["page"] == ["admin.step"] and len(form["fields"]["question_id"]) == 1
    resp = eddie.post(form["action"], data=form["fields"])
    assert resp.status_code == 303, resp.get_data(as_text=True)
    assert resp.headers["Location"].startswith("/admin/step?") and "step=new-button" in resp.headers["Location"]
    path = Path(app.config["CONTENT_DIR"]) / "faq" / "ja" / "invoices" / "create.md"
    assert f"  - {STUCK_QUESTION}\n" in path.read_text(encoding="utf-8")
    rebuilder(app).join()
    assert read_status(Path(app.config["INDEX_DIR"])).state == "done"


def test_a_file_changed_since_the_page_is_refused_in_the_readers_language_and_the_page_kept(app):
    _ask(app.test_client())
    eddie = signed_in(app, name="eddie")
    page = _search_page(eddie, eddie.get("/admin/unanswered").get_data(as_text=True), "承認フローを設定")
    form = _teach_form(page, FAQ_ID)
    path = Path(app.config["CONTENT_DIR"]) / FAQ_FILE
    path.write_bytes(path.read_bytes() + "\n編集者の変更\n".encode())
    changed = path.read_bytes()
    resp = eddie.post(form["action"], data=form["fields"])
    text = resp.get_data(as_text=True)
    assert resp.status_code == 409 and resp.mimetype == "text/html"
    assert "ページを表示した後に変更されました" in text and FAQ_FILE in text
    assert "「承認フローを設定」に近いFAQ" in text and 'value="承認フローを設定"' in text  # the search kept
    assert path.read_bytes() == changed
    # the page's own links lead back to that page, not to the form's POST-only address
    assert '<form class="gd-filter" method="get" action="/admin/unanswered">' in text
    assert re.search(r'href="/admin/lang/en\?next=/admin/unanswered\?teach%3D[0-9a-f]+%26faq_q%3D', text), "the language link"
    assert re.search(r'href="/admin/unanswered\?[^"]*" aria-current="page"', text), "the navigation"
    assert "/admin/teach" not in text.split('id="main"')[0]  # nothing in the header points at the form
    eddie.get("/admin/lang/en")
    assert "changed since this page was shown" in eddie.post(form["action"], data=form["fields"]).get_data(as_text=True)


@pytest.mark.parametrize("change, status, words", [
    ({"faq": ["no-such-faq"]}, 404, "FAQ「no-such-faq」はありません"),
    ({"faq": ["en-billing-payment-method"]}, 400, "言語が FAQ"),
    ({"question_id": ["not-a-question"]}, 400, "質問が見つかりません"),
])
def test_bad_teachings_are_refused_and_nothing_is_written(app, change, status, words):
    _ask(app.test_client())
    eddie = signed_in(app, name="eddie")
    page = _search_page(eddie, eddie.get("/admin/unanswered").get_data(as_text=True), "承認フローを設定")
    form = _teach_form(page, FAQ_ID)
    content = Path(app.config["CONTENT_DIR"])
    before = {p: p.read_bytes() for p in content.rglob("*.md")}
    resp = eddie.post(form["action"], data={**form["fields"], **change})
    assert resp.status_code == status and words in resp.get_data(as_text=True)
    assert {p: p.read_bytes() for p in content.rglob("*.md")} == before


def test_a_broken_file_elsewhere_is_held_back_and_named_and_a_failed_build_is_shown(app, monkeypatch):
    content = Path(app.config["CONTENT_DIR"])
    (content / "faq/ja/broken.md").write_text("---\ntitle: [unclosed\n---\n本文\n", encoding="utf-8")
    qid = _ask(app.test_client())["question_id"]
    with app.test_request_context():
        taught = teach_faq(content, "demo", FAQ_ID, [qid], None)
        assert after_teaching(taught, "demo", "eddie")
    rebuilder(app).join()
    status = read_status(Path(app.config["INDEX_DIR"]))
    assert status.state == "done" and any("ja/broken.md" in e for e in status.errors), status
    assert _ask(app.test_client())["outcome"] == "answered"  # the teaching went live all the same
    page = signed_in(app, name="eddie").get("/admin/unanswered").get_data(as_text=True)
    assert "公開されなかったファイルがあります" in page and "ja/broken.md" in page

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("guide_server.desk.rebuild.build", fail)
    rebuilder(app).request("eddie")
    rebuilder(app).join()
    page = signed_in(app, name="eddie").get("/admin/unanswered").get_data(as_text=True)
    assert "再構築に失敗しました" in page and "OSError: disk full" in page


def test_past_the_first_groups_the_faqs_are_listed_on_a_search(app, monkeypatch):
    monkeypatch.setattr("guide_server.desk.teach.SUGGESTED_GROUPS", 0)
    _ask(app.test_client())
    eddie = signed_in(app, name="eddie")
    page = eddie.get("/admin/unanswered").get_data(as_text=True)
    assert "検索するとFAQが表示されます" in page and 'name="faq"' not in page
    assert f'value="{FAQ_ID}"' in _search_page(eddie, page, "承認フローを設定")


def test_a_viewer_sees_no_teach_box_and_may_not_teach(app):
    _ask(app.test_client())
    eddie, vera = signed_in(app, name="eddie"), signed_in(app, name="vera")
    form = _teach_form(_search_page(eddie, eddie.get("/admin/unanswered").get_data(as_text=True), "承認フロー"), FAQ_ID)
    assert 'class="gd-teach"' not in vera.get("/admin/unanswered").get_data(as_text=True)
    fields = {**form["fields"], "csrf_token": [csrf_of(vera.get("/admin/"))]}
    resp = vera.post(form["action"], data=fields)
    assert resp.status_code == 403 and "権限が必要です" in resp.get_data(as_text=True)
    assert ASKED not in (Path(app.config["CONTENT_DIR"]) / FAQ_FILE).read_text(encoding="utf-8")


def test_the_api_teaches_with_a_write_token_only(app):
    qid = _ask(app.test_client())["question_id"]
    client = app.test_client()
    body = {"site": "demo", "faq_id": FAQ_ID, "question_ids": [qid]}

    def post(token, **change):
        return client.post("/api/v1/admin/teach", json={**body, **change}, headers={"Authorization": f"Bearer {token}"})

    reader = create_token(services(app).db, "bi")
    resp = post(reader)
    assert resp.status_code == 403 and resp.get_json()["error"]["code"] == "forbidden_role"
    writer = create_token(services(app).db, "bot", write=True)
    assert post(writer, hash="0" * 64).status_code == 409
    assert post(writer, question_ids="x").status_code == 400
    resp = post(writer)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.get_json() == {"site": "demo", "faq_id": FAQ_ID, "file": FAQ_FILE, "added": [ASKED], "rebuilding": True}
    rebuilder(app).join()
    assert _ask(app.test_client())["outcome"] == "answered"
    assert audit.entries(services(app).db, action="teach")[0]["actor"] == "bot"


# --- the draft form's refusals ------------------------------------------------------------------------

def _draft_fields(html: str) -> dict:
    form = html.split('class="gd-draft"', 1)[1].split("</form>", 1)[0]
    fields: dict[str, list[str]] = {}
    for name, value in re.findall(r'name="([^"]+)" value="([^"]*)"', form):
        fields.setdefault(name, []).append(unescape(value))
    return fields


def test_a_refused_draft_says_why_in_the_readers_language_and_keeps_the_form(app):
    eddie = signed_in(app, name="eddie")
    fields = _draft_fields(eddie.get("/admin/unanswered").get_data(as_text=True))
    resp = eddie.post("/admin/unanswered/draft", data={**fields, "title": ["私のタイトル"], "slug": ["Bad Name"]})
    text = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "半角の英小文字・数字" in text
    assert 'value="私のタイトル"' in text and 'value="Bad Name"' in text  # what was typed is still there
    ok = {**fields, "slug": ["invoice-number"]}
    assert eddie.post("/admin/unanswered/draft", data=ok).status_code == 303
    again = eddie.post("/admin/unanswered/draft", data=ok)
    text = again.get_data(as_text=True)
    assert again.status_code == 409 and "faq/ja/drafts/invoice-number.md は既にあります" in text
    assert "exists" not in text  # one language


def test_a_draft_proposes_the_closest_faqs_sections(app):
    _ask(app.test_client())
    eddie = signed_in(app, name="eddie")
    page = eddie.get("/admin/unanswered").get_data(as_text=True)
    section = page.split(ASKED, 1)[0].rsplit('<section class="gd-group"', 1)[1] + page.split(ASKED, 1)[1]
    fields = _draft_fields(section)
    assert eddie.post("/admin/unanswered/draft", data={**fields, "slug": ["ringi"]}).status_code == 303
    raw = (Path(app.config["CONTENT_DIR"]) / "faq/ja/drafts/ringi.md").read_bytes()
    faq = parse_faq(raw, "ja/drafts/ringi.md")
    assert faq.title == ASKED and faq.questions == [ASKED] and faq.category == "drafts"
    assert "TODO: ここに回答を書いてください" in faq.body and "参考（近いFAQ" in faq.body
    assert len(re.findall(r"\*\*\[[^\]]+\]\(/help/ja-[a-z0-9-]+(?:#[^)]*)?\)\*\*", faq.body)) == 3


def test_japanese_draft_names_carry_the_date_and_any_latin_words():
    from datetime import date

    day = date(2026, 12, 4)
    assert re.fullmatch(r"draft-2026-12-04-[0-9a-f]{6}", suggest_slug("インボイスの登録番号", day=day))
    assert re.fullmatch(r"draft-2026-12-04-csv-[0-9a-f]{6}", suggest_slug("CSVで取引先を登録", day=day))
    assert re.fullmatch(r"draft-2026-12-04-line-[0-9a-f]{6}", suggest_slug("連携したい", ["LINEと連携できますか"], day=day))
    assert suggest_slug("Can I pay by bank transfer?") == "can-i-pay-by-bank-transfer"
