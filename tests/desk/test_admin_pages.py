"""The review desk's pages: login required everywhere, the figures of a hand-made fixture on every
page in both languages, the SVG funnel, drill-down, CSV downloads and FAQ drafts."""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from html import unescape
from pathlib import Path

import pytest
from sqlalchemy import select

from guide_server.db.schema import questions
from guide_server.desk.charts import funnel_svg
from guide_server.desk.i18n import STRINGS
from guide_server.desk.tables import csv_cell
from guide_server.search.faq import faq_files, parse_faq
from guide_server.web.context import services

from .admin_seed import (
    EXPECTED,
    INJECTION,
    STUCK_QUESTION,
    TOUR,
    UNANSWERED_JA,
    csrf_of,
    seeded_app,
    signed_in,
)

PAGES = ["/admin/", "/admin/funnels", "/admin/stuck", f"/admin/step?tour={TOUR}&version=1&step=new-button",
         "/admin/user?user={u3}", "/admin/unanswered", "/admin/feedback", "/admin/onboarding", "/admin/nps"]


@pytest.fixture
def app(tmp_path):
    app = seeded_app(tmp_path)
    yield app
    services(app).close()


@pytest.fixture
def desk(app):
    return signed_in(app)


def _page(path: str, app) -> str:
    return path.format(u3=app.seeded["pseudo"]["u3"])


def _text(resp) -> str:
    return resp.get_data(as_text=True)


# --- nothing without a login ---------------------------------------------------------------------

def _desk_routes(app):
    """Every route of the desk's page blueprint, so a page added later is covered without editing this test."""
    out = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("admin."):
            path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", "x", rule.rule)
            out += [(m, path) for m in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return out


def test_every_page_needs_a_login(app):
    routes = _desk_routes(app)
    assert {p for _, p in routes} >= {"/admin/", "/admin/stuck", "/admin/unanswered/draft", "/admin/nps"}
    client = app.test_client()
    for method, path in routes:
        resp = client.open(path, method=method, data={"csrf_token": csrf_of(client.get("/admin/login"))}
                           if method == "POST" else None)
        if method == "GET":
            assert resp.status_code == 302 and "/admin/login?next=" in resp.headers["Location"], (method, path)
        else:
            assert resp.status_code == 401, (method, path)
        assert "first-invoice" not in _text(resp)
    drafts = Path(app.config["CONTENT_DIR"]) / "faq" / "ja" / "drafts"
    assert not drafts.exists()


def test_csv_needs_a_login_too(app):
    resp = app.test_client().get("/admin/stuck?format=csv")
    assert resp.status_code == 302


# --- the pages show the fixture's figures ---------------------------------------------------------

@pytest.mark.parametrize("lang", ["ja", "en"])
def test_every_page_renders_in_both_languages_without_missing_words(app, desk, lang):
    desk.get(f"/admin/lang/{lang}")
    for path in PAGES:
        resp = desk.get(_page(path, app))
        html = _text(resp)
        assert resp.status_code == 200, (path, html[:500])
        assert f'<html lang="{lang}">' in html
        # a word without a translation shows as its key
        keys = {k.split(".")[0] for k in STRINGS} - {"app"}  # "app.example" is data
        shown = re.sub(r"<[^>]+>", " ", html)
        assert not re.findall(rf"\b(?:{'|'.join(keys)})\.[a-z_]+", shown), path
        assert resp.headers["Content-Security-Policy"].startswith("default-src 'none'")
        assert resp.headers["X-Frame-Options"] == "DENY"
        assert "<script" not in html


def test_overview_shows_the_kpis(desk):
    html = _text(desk.get("/admin/"))
    kpi = dict(re.findall(r'id="kpi-(\w+)".*?gd-kpi-value">([^<]*)<', html, re.S))
    assert kpi["users"] == "4"
    assert kpi["nps"] == "33.3"
    assert kpi["onboarding_rate"] == "50.0%"
    assert kpi["tours_started"] == "4" and kpi["tours_completed"] == "1"
    assert kpi["no_answer"] == "5"  # the stuck question, three repeats and one in English


def test_funnel_svg_carries_the_right_counts(desk):
    html = _text(desk.get("/admin/funnels"))
    svg = re.search(r"<svg.*?</svg>", html, re.S).group(0)
    root = ET.fromstring(svg)
    ns = {"s": "http://www.w3.org/2000/svg"}
    assert root.get("role") == "img"
    title_id, desc_id = root.get("aria-labelledby").split()
    assert root.find("s:title", ns).get("id") == title_id and root.find("s:desc", ns).get("id") == desc_id
    steps = root.findall(".//s:g[@class='gd-step']", ns)
    got = [(g.get("data-step"), int(g.get("data-reached")), int(g.get("data-completed"))) for g in steps]
    assert got == [(s, r, c) for s, r, c, _ in EXPECTED["funnel"]]
    counts = [g.find("s:text[@class='gd-count']", ns).text for g in steps]
    assert counts == ["4", "4", "2"]
    drops = [g.find("s:text[@class='gd-drop']", ns).text for g in steps]
    assert drops == ["離脱 0%", "離脱 50%", "離脱 50%"]
    heights = [float(g.findall("s:rect", ns)[0].get("height")) for g in steps]
    assert heights[0] == heights[1] == 2 * heights[2]  # bars scale with users reached
    desc = root.find("s:desc", ns).text
    assert "ステップ2 new-button: 到達 4人、完了 2人、離脱 50%" in desc
    # the table alternative has the same numbers
    table = re.search(r'<table id="table-funnels">.*?</table>', html, re.S).group(0)
    assert re.findall(r'<td class="k-int">(\d+)</td><td class="k-text">new-button</td><td class="k-text"></td>'
                      r'<td class="k-int">(\d+)</td><td class="k-int">(\d+)</td>', table) == [("1", "4", "2")]  # no title


def test_funnel_svg_escapes_step_names_and_draws_empty_tours():
    t = lambda key, **kw: key  # noqa: E731
    svg = funnel_svg("f", "tour", 1, [{"step": "<script>x</script>", "step_index": 0, "reached": 0, "completed": 0,
                                       "dropoff": None, "median_advance_s": None}], t)
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    ET.fromstring(str(svg))  # still well-formed
    ET.fromstring(str(funnel_svg("g", "tour", 1, [], t)))


def test_stuck_list_puts_the_stalled_step_first_with_its_question(desk):
    html = _text(desk.get("/admin/stuck"))
    first = re.search(r'<ol class="gd-stuck">\s*<li>(.*?)</li>\s*<li>', html, re.S).group(1)
    assert f"· 2. {EXPECTED['top_stuck']}</a>" in first
    assert STUCK_QUESTION in first
    assert "停滞 ×1" in first and "連打 ×1" in first


def test_drill_down_from_stuck_point_to_step_to_user(app, desk):
    html = _text(desk.get("/admin/stuck"))
    step_url = unescape(re.search(r'<ol class="gd-stuck">\s*<li>\s*<h2><a href="([^"]+)"', html).group(1))
    step = _text(desk.get(step_url))
    assert STUCK_QUESTION in step
    users = re.search(r'<table id="table-step-users">.*?</table>', step, re.S).group(0)
    pseudo = app.seeded["pseudo"]
    assert sorted(re.findall(r">([0-9a-f]{32})</a>", users)) == sorted(pseudo.values())
    assert "u3" not in users  # only pseudonyms reach the desk
    user_url = unescape(re.search(rf'href="([^"]+user={pseudo["u3"]})"', users).group(1))
    timeline = _text(desk.get(user_url))
    assert "停滞" in timeline and STUCK_QUESTION in timeline  # the idle signal, in words


def test_unanswered_groups_largest_first_with_a_draft_form(desk):
    html = _text(desk.get("/admin/unanswered"))
    first = re.search(r'<section class="gd-group" id="group-0">(.*?)</section>', html, re.S).group(1)
    label, count = EXPECTED["unanswered_top"]
    assert label in first and f"{count}件" in first
    assert len(re.findall(r'name="question_id"', first)) == count
    assert 'name="csrf_token"' in first and 'method="post"' in first


def test_feedback_and_nps_pages(desk):
    html = _text(desk.get("/admin/feedback"))
    assert "ja-invoices-send-email" in html and INJECTION.replace('"', "&#34;") in html
    # the 👎 answer was passed over for the related FAQ the person opened instead (no index: its id)
    rows = {r["outcome"]: r for r in csv.DictReader(io.StringIO(desk.get("/admin/feedback?format=csv&table=feedback").data.decode("utf-8-sig")))}
    assert (rows["answered"]["passed_over"], rows["answered"]["went_to"]) == ("1", "ja-invoices-download-pdf (1)")
    assert rows["no_answer"]["passed_over"] == ""  # only an answer lists related FAQs
    nps = _text(desk.get("/admin/nps"))
    assert re.search(r'id="nps-score">33.3<', nps)
    assert "動作が遅い" in nps and 'class="gd-nps"' in nps


# --- bad input is a 4xx page, never a 500 ---------------------------------------------------------

@pytest.mark.parametrize("query", [
    "/admin/?from=2026-13-01", "/admin/?from=yesterday", "/admin/?from=2026-11-10&to=2026-11-01",
    "/admin/?site=nope", "/admin/?from=1900-01-01", "/admin/stuck?format=xml", "/admin/stuck?format=csv&table=nope",
    "/admin/stuck?limit=0", "/admin/stuck?limit=x", "/admin/step?tour=t&version=x&step=s", "/admin/step?tour=t&version=1",
    "/admin/user", "/admin/user?user=" + "x" * 300, "/admin/?from=2000-01-01&to=2100-01-01",
])
def test_bad_parameters_get_a_400_page(desk, query):
    resp = desk.get(query)
    assert resp.status_code == 400
    assert resp.mimetype == "text/html" and "gd-error" in _text(resp)


def test_unknown_desk_page_is_a_404_page(desk):
    resp = desk.get("/admin/nothing-here")
    assert resp.status_code == 404 and resp.mimetype == "text/html"


def test_date_range_and_site_select_the_data(desk):
    assert "first-invoice" not in _text(desk.get("/admin/funnels?from=2020-01-01&to=2020-01-31"))
    assert "first-invoice" not in _text(desk.get("/admin/funnels?site=other"))
    html = _text(desk.get("/admin/funnels?site=other"))
    assert '<option value="other" selected>' in html


# --- CSV -----------------------------------------------------------------------------------------

def _csv_links(html: str) -> list[str]:
    return [unescape(u) for u in re.findall(r'<p class="gd-csv"><a href="([^"]+)"', html)]


def test_every_table_downloads_as_csv_with_a_bom(app, desk):
    seen = set()
    for path in PAGES:
        html = _text(desk.get(_page(path, app)))
        links = _csv_links(html)
        assert len(links) == html.count("<table "), path
        for url in links:
            resp = desk.get(url)
            assert resp.status_code == 200, url
            assert resp.mimetype == "text/csv" and resp.data.startswith(b"\xef\xbb\xbf")
            assert "attachment" in resp.headers["Content-Disposition"]
            assert "from=" in url and "to=" in url  # the download holds the figures the page shows
            rows = list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"))))
            assert rows and all(len(r) == len(rows[0]) for r in rows)
            seen.add(re.search(r"table=([\w-]+)", url).group(1))
    assert seen >= {"overview", "funnels", "stuck-points", "step-users", "step-questions", "timeline", "unanswered",
                    "feedback", "feedback-comments", "onboarding", "nps-weeks", "nps-comments"}


def test_csv_holds_the_figures_and_guards_against_formulas(desk):
    rows = list(csv.reader(io.StringIO(desk.get("/admin/stuck?format=csv").data.decode("utf-8-sig"))))
    assert rows[0][:5] == ["rank", "score", "tour_id", "version", "step_id"]  # English: test_exports.py
    assert rows[1][4:6] == ["new-button", ""] and rows[1][6:9] == ["4", "2", "0.5"]  # no title; drop-off a fraction
    comments = desk.get("/admin/feedback?format=csv&table=feedback-comments").data.decode("utf-8-sig")
    cells = [c for row in csv.reader(io.StringIO(comments)) for c in row]
    assert "'" + INJECTION in cells and INJECTION not in cells
    assert "not_helpful" in cells and "役に立たなかった" not in cells  # codes, not the page's words
    nps = desk.get("/admin/nps?format=csv&table=nps-comments").data.decode("utf-8-sig")
    assert "'@SUM(1,1) 便利です" in nps


@pytest.mark.parametrize("value, kind, cell", [
    ("=1+1", "text", "'=1+1"), ("+81 3", "text", "'+81 3"), ("-x", "text", "'-x"), ("@a", "text", "'@a"),
    ("\tx", "text", "'\tx"), ("a=b", "text", "a=b"), (["=x", "y"], "list", "'=x\ny"),
    (-20.0, "num", "-20"), (0.125, "pct", "0.125"), (33.3, "num", "33.3"), (None, "int", ""), (3, "int", "3"),
    (1764828000, "time", "2025-12-04T06:00:00Z"),
])
def test_csv_cells(value, kind, cell):
    assert csv_cell(value, kind) == cell


# --- drafting an FAQ -----------------------------------------------------------------------------

def _draft_form(desk) -> dict:
    html = _text(desk.get("/admin/unanswered"))
    form = re.search(r'<section class="gd-group" id="group-0">.*?<form(.*?)</form>', html, re.S).group(1)
    fields: dict = {}
    for name, value in re.findall(r'name="([^"]+)" value="([^"]*)"', form):
        fields.setdefault(name, []).append(unescape(value))
    return fields


def test_draft_an_faq_writes_a_stub_with_the_grouped_questions(app, desk):
    fields = _draft_form(desk)
    fields["slug"] = ["invoice-number"]
    resp = desk.post("/admin/unanswered/draft", data=fields)
    assert resp.status_code == 303
    path = Path(app.config["CONTENT_DIR"]) / "faq" / "ja" / "drafts" / "invoice-number.md"
    raw = path.read_bytes()
    faq = parse_faq(raw, "ja/drafts/invoice-number.md")  # a valid FAQ file for the editor to finish
    assert faq.title == UNANSWERED_JA
    assert faq.questions == [UNANSWERED_JA]  # three asks of the same text: one entry
    assert faq.category == "drafts" and "TODO" in faq.body
    assert "drafts/invoice-number.md" not in faq_files(Path(app.config["CONTENT_DIR"]) / "faq")  # never indexed
    assert "invoice-number.md" in _text(desk.get("/admin/unanswered"))  # the flash message

    again = desk.post("/admin/unanswered/draft", data={**fields, "title": ["別のタイトル"]})
    assert again.status_code == 409 and again.mimetype == "text/html"
    assert path.read_bytes() == raw  # never overwritten


def test_draft_from_several_different_questions_keeps_them_all(app, desk):
    with services(app).db.connect() as conn:
        ids = [r.id for r in conn.execute(select(questions.c.id).where(questions.c.outcome == "no_answer")
                                          .order_by(questions.c.created_at))]
    fields = _draft_form(desk)
    fields.update(question_id=ids, slug=["mixed"], title=["Mixed questions"])
    assert desk.post("/admin/unanswered/draft", data=fields).status_code == 303
    faq = parse_faq((Path(app.config["CONTENT_DIR"]) / "faq/ja/drafts/mixed.md").read_bytes(), "ja/drafts/mixed.md")
    assert set(faq.questions) == {STUCK_QUESTION, UNANSWERED_JA, "Can I pay by bank transfer?"}


@pytest.mark.parametrize("change", [
    {"slug": ["../../../evil"]}, {"slug": ["..%2Fevil"]}, {"slug": ["a/b"]}, {"slug": ["UPPER"]}, {"slug": ["x" * 100]},
    {"locale": ["../ja"]}, {"locale": ["fr"]}, {"title": [""]}, {"title": ["t" * 300]},
    {"question_id": ["not-a-question"]}, {"site": ["nope"]},
])
def test_bad_drafts_are_refused_and_nothing_is_written(app, desk, change):
    before = sorted(str(p) for p in Path(app.config["CONTENT_DIR"]).rglob("*"))
    resp = desk.post("/admin/unanswered/draft", data={**_draft_form(desk), "slug": ["ok"], **change})
    assert resp.status_code == 400
    assert sorted(str(p) for p in Path(app.config["CONTENT_DIR"]).rglob("*")) == before
    assert not (Path(app.config["CONTENT_DIR"]).parent / "evil.md").exists()


def test_questions_of_another_site_are_not_drafted(app, desk):
    fields = _draft_form(desk)
    resp = desk.post("/admin/unanswered/draft", data={**fields, "site": ["other"], "slug": ["x"]})
    assert resp.status_code == 400  # the ids belong to "demo": none found for "other"


def test_drafting_needs_the_csrf_token(app, desk):
    fields = _draft_form(desk)
    del fields["csrf_token"]
    assert desk.post("/admin/unanswered/draft", data={**fields, "slug": ["no-token"]}).status_code == 400
    assert desk.post("/admin/unanswered/draft", data={**fields, "slug": ["no-token"], "csrf_token": "x"}).status_code == 400
    assert not (Path(app.config["CONTENT_DIR"]) / "faq/ja/drafts/no-token.md").exists()


@pytest.mark.parametrize("title", ["CSVで取引先を一括登録できますか", "インボイス", "Can I pay by bank transfer?", "...",
                                   "../../etc/passwd", "A" * 300, "請求書 / 領収書", ""])
def test_suggested_file_names_are_always_valid_slugs(title):
    from guide_server.desk.drafts import SLUG, suggest_slug

    slug = suggest_slug(title)
    assert SLUG.match(slug) and "/" not in slug and ".." not in slug
    if not title.isascii():
        assert slug.startswith("draft-")  # "csv" alone would not tell drafts apart
