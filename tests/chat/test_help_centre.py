"""The help centre at /help (chat/help.py): home, search, category and article pages in Japanese and
English, without a script, against the sample help center; the tenant rules against a small help
center of its own (a site's own FAQ shown only to a request that names the site)."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from guide_server import create_app
from guide_server.web.context import services
from tests.support import MODELS, write_content

SEND_JA = "/help/ja-invoices-send-email"
SEND_JA_TITLE = "請求書をメールで送付するには？"
SEND_EN_TITLE = "How do I send an invoice to my customer by email?"
NOT_FOUND_JA = "ページが見つかりません"


def page(resp) -> str:
    """A help page's markup without its inline stylesheet (whose class names would match anything)."""
    assert resp.mimetype == "text/html", resp.mimetype
    text = resp.get_data(as_text=True)
    assert "<script" not in text  # the pages work without a script, and their CSP allows none
    return re.sub(r"<style>.*?</style>", "", text, flags=re.S)


def links(text: str) -> list[str]:
    return [html.unescape(h) for h in re.findall(r'href="([^"]*)"', text)]


def results(text: str) -> list[str]:
    """The paths of a results page's articles, best first."""
    return [urlsplit(html.unescape(h)).path for h in re.findall(r'class="hc-result-title" href="([^"]*)"', text)]


def section(text: str, css_class: str) -> str:
    found = re.search(rf'<(nav|section|div|article) class="{css_class}"[^>]*>(.*?)</\1>', text, re.S)
    assert found, f"no .{css_class}"
    return found.group(2)


# --- home ---------------------------------------------------------------------------------------------


def test_home_is_japanese_by_default_and_lists_the_categories_with_their_articles(client):
    text = page(client.get("/help/"))
    assert '<html lang="ja">' in text and "<h1>ヘルプセンター</h1>" in text
    assert '<a href="/help/category/invoices?lang=ja">請求書の作成・送付</a>' in text
    assert '<a href="/help/category/security?lang=ja">セキュリティ・ログイン</a>' in text
    assert f'<a href="{SEND_JA}">{SEND_JA_TITLE}</a>' in text
    assert SEND_EN_TITLE not in text  # one language a page
    assert '<a class="hc-lang" href="/help/?lang=en"' in text
    # a category shows five articles and links to the rest
    assert re.search(r"すべての記事を見る（\d+件）", text)
    form = re.search(r'<form class="hc-search" method="get" action="/help/search"[^>]*>(.*?)</form>', text, re.S)
    assert form and 'name="q"' in form.group(1) and '<input type="hidden" name="lang" value="ja">' in form.group(1)


def test_home_in_english_by_query_or_accept_language(client):
    asked = client.get("/help/?lang=en")
    text = page(asked)
    assert '<html lang="en">' in text and "<h1>Help center</h1>" in text
    assert '<a href="/help/category/invoices?lang=en">Invoices</a>' in text
    assert SEND_EN_TITLE in text and SEND_JA_TITLE not in text
    assert '<a class="hc-lang" href="/help/?lang=ja"' in text
    assert "Accept-Language" not in asked.headers.get("Vary", "")

    negotiated = client.get("/help/", headers={"Accept-Language": "en-US,en;q=0.9,ja;q=0.5"})
    assert '<html lang="en">' in page(negotiated) and "Accept-Language" in negotiated.headers["Vary"]
    # ?lang= wins over the browser's languages; an unknown one falls back to them, then to Japanese
    assert '<html lang="ja">' in page(client.get("/help/?lang=ja", headers={"Accept-Language": "en"}))
    assert '<html lang="en">' in page(client.get("/help/?lang=fr", headers={"Accept-Language": "en"}))
    assert '<html lang="ja">' in page(client.get("/help/?lang=fr", headers={"Accept-Language": "fr, de"}))


# --- search -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang, q, expected", [
    ("ja", "請求書をメールで送りたい", "/help/ja-invoices-send-email"),
    ("ja", "2段階認証を設定したい", "/help/ja-security-2fa"),
    ("en", "How do I reset my password?", "/help/en-security-password-reset"),
])
def test_search_finds_the_article_that_answers(client, lang, q, expected):
    text = page(client.get("/help/search", query_string={"q": q, "lang": lang}))
    found = results(text)
    assert found and found[0] == expected, found
    assert f'<html lang="{lang}">' in text and html.escape(q, quote=False) in text  # kept in the title and box
    assert 'class="hc-snippet"' in text and 'class="hc-meta"' in text  # each result: category and snippet


def test_a_japanese_question_on_the_english_page_finds_japanese_articles(client):
    text = page(client.get("/help/search", query_string={"q": "請求書をメールで送りたい", "lang": "en"}))
    assert results(text)[0] == SEND_JA
    assert "Articles in Japanese" in text and 'lang="ja"' in text


def test_a_search_with_no_answer_says_so_and_leads_back_to_the_categories(client):
    text = page(client.get("/help/search", query_string={"q": "ロケット燃料の補給"}))
    assert results(text) == []
    assert "「ロケット燃料の補給」に一致する記事は見つかりませんでした。" in text
    assert '<a href="/help/?lang=ja#categories">カテゴリ一覧へ戻る</a>' in text
    assert 'id="categories"' in page(client.get("/help/?lang=ja"))  # where that link lands


@pytest.mark.parametrize("q", ["", "   ", "\u3000"])
def test_an_empty_search_asks_for_words(client, q):
    resp = client.get("/help/search", query_string={"q": q, "lang": "en"})
    assert resp.status_code == 200
    text = page(resp)
    assert "Type a word or a question to search for." in text and results(text) == []
    assert page(client.get("/help/search")).count("検索したい言葉や質問を入力してください。") == 1


def test_hostile_input_is_escaped_and_never_a_server_error(client, app):
    script = "<script>alert(1)</script>請求書"
    resp = client.get("/help/search", query_string={"q": script, "lang": '"><b>x'})
    assert resp.status_code == 200
    text = page(resp)  # asserts no <script at all
    assert "&lt;script&gt;alert(1)&lt;/script&gt;請求書" in text
    assert '<html lang="ja">' in text and "<b>x" not in text  # an unknown lang is not echoed

    limit = app.config["MAX_QUESTION_CHARS"]
    long_q = "請求書をメールで送りたい" * (limit // 5)
    resp = client.get("/help/search", query_string={"q": long_q})
    assert resp.status_code == 200
    text = page(resp)
    assert f"先頭の{limit}文字で検索しました" in text
    shown = re.search(r'name="q" value="([^"]*)"', text).group(1)
    assert len(html.unescape(shown)) == limit and results(text)  # the capped question is still searched

    for q in ("\x00", "a\x00b", "%", "{q}", "\ud800".encode("utf-8", "surrogatepass")):
        assert client.get("/help/search", query_string={"q": q}).status_code == 200, q
    for path in ("/help/category/%00", "/help/category/..%2f..%2fetc", "/help/%3Cscript%3E", "/help/category/{n}"):
        resp = client.get(path)
        assert resp.status_code == 404 and NOT_FOUND_JA in page(resp), path


# --- category -----------------------------------------------------------------------------------------


def test_a_category_page_lists_its_articles_only(client):
    text = page(client.get("/help/category/invoices"))
    crumbs = section(text, "hc-crumbs")
    assert '<a href="/help/?lang=ja">ヘルプセンター</a>' in crumbs and '<span aria-current="page">請求書の作成・送付</span>' in crumbs
    assert "<h1>請求書の作成・送付</h1>" in text
    articles = [h for h in links(text) if re.fullmatch(r"/help/[a-z0-9.-]+", h)]
    assert SEND_JA in articles and all(a.startswith("/help/ja-invoices-") for a in articles), articles
    assert f"{len(articles)}件の記事" in text and len(articles) >= 6  # more than the home page's preview
    assert '<a class="hc-lang" href="/help/category/invoices?lang=en"' in text

    english = page(client.get("/help/category/invoices?lang=en"))
    assert "<h1>Invoices</h1>" in english and SEND_EN_TITLE in english and SEND_JA_TITLE not in english


def test_an_unknown_category_is_a_404_page(client):
    resp = client.get("/help/category/no-such-category?lang=en")
    assert resp.status_code == 404 and "<h1>Page not found</h1>" in page(resp)


# --- article ------------------------------------------------------------------------------------------


def test_an_article_has_breadcrumb_contents_related_and_its_other_language(client):
    text = page(client.get(SEND_JA))
    assert '<html lang="ja">' in text and text.count("<h1>") == 1 and f"<h1>{SEND_JA_TITLE}</h1>" in text
    crumbs = section(text, "hc-crumbs")
    assert links(crumbs) == ["/help/?lang=ja", "/help/category/invoices?lang=ja"]
    assert f'<span aria-current="page">{SEND_JA_TITLE}</span>' in crumbs

    toc = section(text, "hc-toc")
    targets = [h.removeprefix("#") for h in links(toc)]
    assert len(targets) >= 2 and all(h.startswith("#") for h in links(toc))
    body = section(text, "hc-body")
    for anchor in targets:  # every entry lands on a heading of the article
        assert re.search(rf'<h2 id="{re.escape(anchor)}">', body), anchor
    assert "手順" in toc and "注意点" in toc

    related = links(section(text, "hc-related"))
    assert "/help/ja-invoices-create" in related and "/help/ja-invoices-postal-mail" in related
    assert '<a class="hc-lang" href="/help/en-invoices-send-email"' in text  # the same article in English
    assert 'action="/help/search"' in text  # the search box


def test_an_article_with_no_twin_links_to_the_other_languages_home(client):
    text = page(client.get("/help/ja-invoices-postal-mail"))
    assert client.get("/help/en-invoices-postal-mail").status_code == 404
    assert '<a class="hc-lang" href="/help/?lang=en"' in text


def test_an_unknown_article_is_a_styled_html_404(client):
    resp = client.get("/help/no-such-faq")
    assert resp.status_code == 404
    text = page(resp)
    assert f"<h1>{NOT_FOUND_JA}</h1>" in text and 'class="hc-top"' in text
    assert "--accent" in resp.get_data(as_text=True)  # the same stylesheet as every help page
    assert resp.headers["Content-Security-Policy"].startswith("default-src 'none'")
    english = client.get("/help/no-such-faq", headers={"Accept-Language": "en"})
    assert english.status_code == 404 and "<h1>Page not found</h1>" in page(english)


def test_the_editors_search_box_is_unchanged(client):
    text = client.get("/?q=請求書をメールで送りたい").get_data(as_text=True)
    assert "<h1>guide</h1>" in text and "answerable" in text and "/help/ja-invoices-send-email" in text


# --- tenants: a site's own FAQ ------------------------------------------------------------------------

ACME_TITLE = "アクメ社の経費を精算するには？"
ACME_QUESTION = "アクメ社の立替経費を精算したい"
ACME_CATEGORY = "経費精算"  # a Japanese category name: its page's URL is the quoted name
SHARED = """---
id: ja-shared
title: 領収書を添付するには？
questions: [領収書の画像を添付したい]
category: 経費精算
related: [ja-acme-expenses, ja-other]
---
明細画面で領収書の画像を添付できます。

## 手順
1. 明細を開きます。
"""
ACME = f"""---
id: ja-acme-expenses
title: {ACME_TITLE}
questions: [{ACME_QUESTION}]
category: 経費精算
sites: [acme]
---
アクメ社の経費は翌月10日に振り込みます。
"""
OTHER = """---
id: ja-other
title: 取引先を登録するには？
category: 取引先
---
取引先一覧から登録します。
"""


@pytest.fixture(scope="module")
def tenant_index(tmp_path_factory):
    from guide_server.search.builder import build

    root = tmp_path_factory.mktemp("help-tenants")
    content = write_content(root / "content", {"ja/shared.md": SHARED, "ja/acme.md": ACME, "ja/other.md": OTHER})
    build(content, root / "index", MODELS, progress=False)
    return root


@pytest.fixture
def tenant_client(tenant_index, tmp_path):
    app = create_app({"TESTING": True, "INDEX_DIR": str(tenant_index / "index"), "RELOAD_INTERVAL": 0,
                      "DATABASE_URL": f"sqlite:///{tmp_path / 'guide.db'}",
                      "SITES": {"acme": {"identity": "open"}, "beta": {"identity": "open"}}})
    yield app.test_client()
    services(app).close()


def test_a_japanese_category_name_has_a_working_page(tenant_client):
    text = page(tenant_client.get("/help/"))
    url = f"/help/category/{quote(ACME_CATEGORY)}?lang=ja"
    assert f'<a href="{url}">{ACME_CATEGORY}</a>' in text  # no label: shown by its own name
    category = page(tenant_client.get(url))
    assert f"<h1>{ACME_CATEGORY}</h1>" in category and "/help/ja-shared" in links(category)


@pytest.mark.parametrize("site", [None, "beta", "no-such-site"])
def test_a_sites_own_faq_stays_out_of_pages_for_anyone_else(tenant_client, site):
    params = {"site": site} if site else {}
    for path, extra in (("/help/", {}), ("/help/category/" + ACME_CATEGORY, {}), ("/help/ja-shared", {}),
                        ("/help/search", {"q": ACME_QUESTION})):
        resp = tenant_client.get(path, query_string={**params, **extra})
        assert resp.status_code == 200, path
        text = page(resp)
        assert ACME_TITLE not in text and "ja-acme-expenses" not in text, path
    assert tenant_client.get("/help/ja-acme-expenses", query_string=params).status_code == 404
    related = links(section(page(tenant_client.get("/help/ja-shared", query_string=params)), "hc-related"))
    assert [urlsplit(r).path for r in related] == ["/help/ja-other"]


def test_a_page_for_a_site_shows_its_faq_and_keeps_the_site_in_every_link(tenant_client):
    home = page(tenant_client.get("/help/?site=acme"))
    assert ACME_TITLE in home
    found = page(tenant_client.get("/help/search", query_string={"q": ACME_QUESTION, "site": "acme"}))
    assert results(found)[0] == "/help/ja-acme-expenses"
    assert '<input type="hidden" name="site" value="acme">' in found
    article = page(tenant_client.get("/help/ja-shared?site=acme"))
    assert [urlsplit(r).path for r in links(section(article, "hc-related"))] == ["/help/ja-acme-expenses", "/help/ja-other"]
    category = page(tenant_client.get(f"/help/category/{quote(ACME_CATEGORY)}?site=acme"))
    assert ACME_TITLE in category
    for text in (home, found, article, category, page(tenant_client.get("/help/ja-acme-expenses?site=acme"))):
        for href in links(text):
            if not href.startswith(("#", "data:")):  # in-page anchors and the empty icon lead nowhere
                assert parse_qs(urlsplit(href).query).get("site") == ["acme"], href
