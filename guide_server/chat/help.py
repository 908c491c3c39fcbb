"""Plain pages: /help (every public FAQ, the default target of answer links) and / (a search box
for editors checking their content in a browser)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template_string, request

from ..web.context import search
from . import answers

bp = Blueprint("help", __name__)

NO_SITE = ""  # searched as a site that no FAQ lists: only the FAQs every site may see

_PAGE = """<!doctype html>
<html lang="{{ faq.locale }}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{{ faq.title }}</title>
<style>body{font:16px/1.7 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#1f2933}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}:target{background:#fff7d6}</style></head>
<body><p><a href="{{ url_for('help.help_index') }}">{{ 'ヘルプセンター' if faq.locale == 'ja' else 'Help center' }}</a></p>
<h1>{{ faq.title }}</h1>{{ faq.html | safe }}</body></html>"""

_INDEX = """<!doctype html><html lang="ja"><head><meta charset="utf-8"><title>Help center</title>
<style>body{font:16px/1.7 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem}</style></head>
<body><h1>ヘルプセンター / Help center</h1>{% for loc, items in groups %}<h2>{{ loc }}</h2><ul>
{% for f in items %}<li><a href="{{ url_for('help.help_page', faq_id=f.id) }}">{{ f.title }}</a></li>{% endfor %}
</ul>{% endfor %}</body></html>"""

_HOME = """<!doctype html><html lang="ja"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>guide</title><style>body{font:16px/1.7 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem}
input{font:inherit;width:70%;padding:.3rem}li small{color:#52606d}</style></head><body>
<h1>guide</h1><p>ヘルプセンターを検索 / Search the help center
(<a href="{{ url_for('help.help_index') }}">all articles</a>, <a href="{{ url_for('health.health') }}">health</a>)</p>
<form method="get">{% if site %}<input type="hidden" name="site" value="{{ site }}">{% endif %}<input name="q" value="{{ q }}" placeholder="例: 請求書をメールで送りたい" autofocus>
<button>検索 / Search</button></form>
{% if result %}<p>{{ outcome }} &middot; answerable {{ '%.2f' % result.answerable }} &middot; confidence {{ '%.2f' % result.confidence }}</p>
<ol>{% for h in result.hits[:5] %}<li><a href="{{ url_for('help.help_page', faq_id=h.faq.id, site=site) }}">{{ h.faq.title }}</a>
<small>{{ h.faq.id }} &middot; {{ '%.2f' % h.score }}</small></li>{% endfor %}</ol>{% endif %}</body></html>"""


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
    groups = [(loc, sorted(faqs, key=lambda f: (f.category, f.title))) for loc, faqs in search().public_faqs().items()]
    return render_template_string(_INDEX, groups=groups)


@bp.get("/help/<faq_id>")
def help_page(faq_id: str):
    found = search().faq(faq_id, request.args.get("site"))
    if found is None:
        abort(404)
    # faq.html was sanitised with an allow-list when the index was built.
    return render_template_string(_PAGE, faq=found)
