"""Plain pages with no script: the help centre at /help (home, search, categories and articles, in
Japanese and English; the default target of answer links) and / (a search box for editors checking
their content in a browser)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from flask import Blueprint, current_app, make_response, render_template, render_template_string, request, url_for
from markupsafe import Markup

from ..content.rules import visible_to
from ..search.engine import Hit, Listed
from ..search.faq import Faq
from ..search.textnorm import detect_locale
from ..web.context import search
from . import answers
from .help_i18n import LABELLED_CATEGORIES, LANGS, category_label, translate

bp = Blueprint("help", __name__, template_folder="templates")

NO_SITE = ""  # searched as a site that no FAQ lists: only the FAQs every site may see
SEARCH_HITS = 10
CATEGORY_PREVIEW = 5  # articles a category shows on the home page before "see all"
# Inlined into each page: the help pages' CSP (web/headers.py) allows inline styles and no stylesheet URL.
STYLESHEET = Path(__file__).parent / "static" / "help.css"

_HOME = """<!doctype html><html lang="ja"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<link rel="icon" href="data:,"><title>guide</title><style>body{font:16px/1.7 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem}
input{font:inherit;width:70%;padding:.3rem}li small{color:#52606d}</style></head><body>
<h1>guide</h1><p>ヘルプセンターを検索 / Search the help center
(<a href="{{ url_for('help.help_index') }}">all articles</a>, <a href="{{ url_for('health.health') }}">health</a>)</p>
<form method="get">{% if site %}<input type="hidden" name="site" value="{{ site }}">{% endif %}<input name="q" value="{{ q }}" placeholder="例: 請求書をメールで送りたい" autofocus>
<button>検索 / Search</button></form>
{% if result %}<p>{{ outcome }} &middot; answerable {{ '%.2f' % result.answerable }} &middot; confidence {{ '%.2f' % result.confidence }}</p>
<ol>{% for h in result.hits[:5] %}<li><a href="{{ url_for('help.help_page', faq_id=h.faq.id, site=site) }}">{{ h.faq.title }}</a>
<small>{{ h.faq.id }} &middot; {{ '%.2f' % h.score }}</small></li>{% endfor %}</ol>{% endif %}</body></html>"""


@dataclass(frozen=True)
class Page:
    """What every help page knows of its request: its language and the site it is shown for."""

    lang: str
    site: str  # a known site of ?site=, else NO_SITE: a site's own FAQs only to a request naming it
    negotiated: bool = False  # the language came from Accept-Language (the response varies by it)

    @property
    def other_lang(self) -> str:
        return next(code for code in LANGS if code != self.lang)

    def t(self, key: str, **fields: object) -> str:
        return translate(self.lang, key, **fields)

    def url(self, endpoint: str, lang: str | None = None, **values: object) -> str:
        """A help page's URL in this page's language (or ``lang``), keeping its site."""
        return url_for(endpoint, lang=lang or self.lang, site=self.site or None, **values)

    def article_url(self, faq_id: str, anchor: str | None = None) -> str:
        # an article is written in one language, so its URL names none: the answers' links look the same
        return url_for("help.help_page", faq_id=faq_id, site=self.site or None, _anchor=anchor or None)

    def category_url(self, name: str, lang: str | None = None) -> str | None:
        return self.url("help.help_category", lang=lang, name=name) if name else None


@dataclass(frozen=True)
class Category:
    name: str
    label: str
    url: str | None  # None for the FAQs without a category
    articles: list[Listed]


@dataclass(frozen=True)
class Found:
    """One search result as the results page shows it."""

    title: str
    url: str
    locale: str
    category: str  # its label in the page's language
    category_url: str | None
    snippet: str


def _site() -> str:
    site = request.args.get("site")
    return site if site in current_app.config["SITES"] else NO_SITE


def _page(lang: str | None = None) -> Page:
    """The request's page: ``lang``, else ?lang=, else the best of Accept-Language, else Japanese."""
    if lang in LANGS:
        return Page(lang, _site())
    asked = request.args.get("lang")
    if asked in LANGS:
        return Page(asked, _site())
    return Page(request.accept_languages.best_match(LANGS, default=LANGS[0]), _site(), negotiated=True)


@functools.cache
def _stylesheet() -> Markup:
    return Markup(STYLESHEET.read_text(encoding="utf-8"))


def _render(template: str, page: Page, status: int = 200, **context: object):
    html = render_template(template, page=page, t=page.t, stylesheet=_stylesheet(), **context)
    response = make_response(html, status)
    if page.negotiated:
        response.vary.add("Accept-Language")
    return response


def _articles(page: Page, lang: str | None = None) -> list[Listed]:
    """The FAQs of one language this page's site may see."""
    faqs = search().listed().get(lang or page.lang, [])
    return [f for f in faqs if visible_to(f.sites, page.site)]


def _categories(page: Page) -> list[Category]:
    """The page language's categories of the FAQs its site may see, labelled ones first (in the
    labels' order), then the others by name, the FAQs without a category last."""
    by_name: dict[str, list[Listed]] = {}
    for faq in _articles(page):
        by_name.setdefault(faq.category, []).append(faq)

    def order(name: str) -> tuple:
        known = name in LABELLED_CATEGORIES
        return (name == "", not known, LABELLED_CATEGORIES.index(name) if known else 0, name)

    return [Category(name, category_label(page.lang, name), page.category_url(name),
                     sorted(faqs, key=lambda f: f.title))
            for name, faqs in sorted(by_name.items(), key=lambda item: order(item[0]))]


def _not_found(page: Page):
    return _render("help/not_found.html", page, 404, title=page.t("notfound.title"),
                   switch_url=page.url("help.help_index", lang=page.other_lang))


def _found(hit: Hit, page: Page) -> Found:
    faq = hit.faq
    sec = faq.sections[hit.section] if hit.section is not None and hit.section < len(faq.sections) else None
    text = sec.text if sec else (faq.sections[0].text if faq.sections else "")
    return Found(faq.title, page.article_url(faq.id, sec.anchor if sec else None), faq.locale,
                 category_label(page.lang, faq.category) if faq.category else "",
                 page.category_url(faq.category, lang=faq.locale), answers.snippet(text))


def _search_locale(q: str, lang: str) -> str:
    """A question in Japanese script searches the Japanese articles; any other (a product name, an
    English word on the Japanese page) searches the page's language."""
    return "ja" if detect_locale(q, lang) == "ja" else lang


def _counterpart(faq: Faq, site: str) -> Faq | None:
    """The same article in the other language, when its id differs only by the locale prefix
    (``ja-invoices-send-email`` and ``en-invoices-send-email``)."""
    prefix = faq.locale + "-"
    if not faq.id.startswith(prefix):
        return None
    for lang in LANGS:
        other = search().faq(lang + "-" + faq.id[len(prefix):], site) if lang != faq.locale else None
        if other is not None and other.locale == lang:
            return other
    return None


@bp.get("/")
def home():
    q = request.args.get("q", "")[: current_app.config["MAX_QUESTION_CHARS"]]
    # The FAQs of ?site= (a known site), else those every site may see: a site's own FAQs are shown
    # only to a request that names it, as on /help and the API. No FAQ lists NO_SITE in its sites.
    site = request.args.get("site")
    site = site if site in current_app.config["SITES"] else NO_SITE
    result = search().search(q, k=5, site=site) if q.strip() else None
    outcome = answers.decide(result).replace("_", " ") if result else ""
    return render_template_string(_HOME, q=q, result=result, outcome=outcome, site=site or None)


@bp.get("/help/")
def help_index():
    page = _page()
    return _render("help/home.html", page, categories=_categories(page), preview=CATEGORY_PREVIEW,
                   switch_url=page.url("help.help_index", lang=page.other_lang))


@bp.get("/help/search")
def help_search():
    page = _page()
    asked = request.args.get("q", "")
    limit = current_app.config["MAX_QUESTION_CHARS"]
    q = asked[:limit]
    found: list[Found] = []
    if q.strip():
        result = search().search(q, locale=_search_locale(q, page.lang), k=SEARCH_HITS, site=page.site)
        if answers.decide(result) != "no_answer":
            found = [_found(hit, page) for hit in result.hits]
    return _render("help/search.html", page, q=q.strip(), found=found, shortened=limit if len(asked) > limit else None,
                   title=page.t("search.title", q=q.strip()) if q.strip() else page.t("search.title.empty"),
                   switch_url=page.url("help.help_search", lang=page.other_lang, q=q or None))


@bp.get("/help/category/<path:name>")
def help_category(name: str):
    page = _page()
    articles = sorted((f for f in _articles(page) if f.category == name), key=lambda f: f.title)
    if not articles:
        return _not_found(page)
    other = page.other_lang
    has_other = any(f.category == name for f in _articles(page, other))
    label = category_label(page.lang, name)
    return _render("help/category.html", page, title=label, label=label, articles=articles,
                   switch_url=page.category_url(name, lang=other) if has_other else page.url("help.help_index", lang=other))


@bp.get("/help/<faq_id>")
def help_page(faq_id: str):
    site = _site()
    faq = search().faq(faq_id, site)
    if faq is None:
        return _not_found(_page())
    page = _page(faq.locale)
    # only the headed sections whose anchor the rendered article carries
    toc = [sec for sec in faq.sections if sec.heading and sec.anchor and f'id="{sec.anchor}"' in faq.html]
    # only the related FAQs this site may see: a public FAQ may name a site's own (as answers.hit_json)
    related = [r for r in (search().faq(rid, site) for rid in faq.related) if r is not None]
    twin = _counterpart(faq, site)
    switch_url = page.article_url(twin.id) if twin else page.url("help.help_index", lang=page.other_lang)
    return _render("help/article.html", page, title=faq.title, faq=faq, toc=toc, related=related,
                   category_label=category_label(page.lang, faq.category), switch_url=switch_url,
                   switch_is_article=twin is not None)
