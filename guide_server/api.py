"""The public JSON API under /api/v1 and the plain FAQ pages under /help."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, render_template_string, request

from . import answers
from .errors import ApiError
from .search import Hit
from .sites import site_key
from .textnorm import LOCALES

bp = Blueprint("api", __name__)


def json_body():
    data = request.get_json(silent=True, force=True)
    if data is None:
        raise ApiError("the body must be JSON (UTF-8)", 400, "bad_json")
    if not isinstance(data, dict):
        raise ApiError("the body must be a JSON object", 400, "bad_request")
    return data


@bp.post("/api/v1/ask")
def ask():
    payload = json_body()
    return jsonify(answers.ask(payload, site_key(payload), "http"))


@bp.post("/api/v1/feedback")
def feedback():
    payload = json_body()
    return jsonify(answers.feedback(payload, site_key(payload))), 201


@bp.get("/api/v1/search")
def search():
    site = site_key()
    q = request.args.get("q", "")
    locale = request.args.get("locale") or None
    try:
        k = int(request.args.get("k", 10))
    except ValueError:
        raise ApiError("'k' must be a whole number", 400, "bad_k") from None
    if not 1 <= k <= 50:
        raise ApiError("'k' must be between 1 and 50", 400, "bad_k")
    if len(q) > current_app.config["MAX_QUESTION_CHARS"]:
        raise ApiError("the query is too long", 413, "question_too_long")
    if locale is not None and locale not in LOCALES:
        raise ApiError(f"unknown locale {locale!r}", 400, "bad_locale")
    result = current_app.extensions["guide.index"].current().search(q, locale=locale, k=k, site=site)
    return jsonify({"query": q, "locale": result.locale, "confidence": round(result.confidence, 4),
                    "results": [answers.hit_json(h, site) for h in result.hits]})


def _find_faq(faq_id: str, site: str | None):
    """The FAQ with this id if ``site`` may see it (FAQs without ``sites:`` are public)."""
    engine = current_app.extensions["guide.index"].current()
    for index in engine.indexes.values():
        row = index.by_id.get(faq_id)
        if row is not None:
            faq = index.faqs[row]
            if faq.sites is None or site in faq.sites:
                return faq
    return None


@bp.get("/api/v1/faq/<faq_id>")
def faq(faq_id: str):
    site = site_key()
    found = _find_faq(faq_id, site)
    if found is None:
        raise ApiError(f"no FAQ {faq_id!r}", 404, "unknown_faq")
    body = answers.hit_json(Hit(found, 0.0, {}), site, full=True)
    body.pop("score")
    body["questions"] = found.questions
    body["tags"] = found.tags
    body["sections"] = [{"anchor": s.anchor, "heading": s.heading} for s in found.sections if s.anchor]
    return jsonify(body)


@bp.get("/api/v1/health")
def health():
    live = current_app.extensions["guide.index"]
    tours = current_app.extensions["guide.tours"].status()
    try:
        live.current()
    except ApiError as exc:
        return jsonify({"status": "unavailable", "error": exc.message, "tours": tours}), 503
    locales = {k: v["faqs"] for k, v in live.manifest["locales"].items()}
    return jsonify({"status": "ok", "build_id": live.build_name, "faqs": locales, "reload_error": live.last_error,
                    "tours": tours})


_PAGE = """<!doctype html>
<html lang="{{ faq.locale }}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{{ faq.title }}</title>
<style>body{font:16px/1.7 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#1f2933}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}:target{background:#fff7d6}</style></head>
<body><p><a href="{{ url_for('api.help_index') }}">{{ 'ヘルプセンター' if faq.locale == 'ja' else 'Help center' }}</a></p>
<h1>{{ faq.title }}</h1>{{ faq.html | safe }}</body></html>"""

_INDEX = """<!doctype html><html lang="ja"><head><meta charset="utf-8"><title>Help center</title>
<style>body{font:16px/1.7 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem}</style></head>
<body><h1>ヘルプセンター / Help center</h1>{% for loc, items in groups %}<h2>{{ loc }}</h2><ul>
{% for f in items %}<li><a href="{{ url_for('api.help_page', faq_id=f.id) }}">{{ f.title }}</a></li>{% endfor %}
</ul>{% endfor %}</body></html>"""


_HOME = """<!doctype html><html lang="ja"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>guide</title><style>body{font:16px/1.7 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem}
input{font:inherit;width:70%;padding:.3rem}li small{color:#52606d}</style></head><body>
<h1>guide</h1><p>ヘルプセンターを検索 / Search the help center
(<a href="{{ url_for('api.help_index') }}">all articles</a>, <a href="{{ url_for('api.health') }}">health</a>)</p>
<form method="get"><input name="q" value="{{ q }}" placeholder="例: 請求書をメールで送りたい" autofocus>
<button>検索 / Search</button></form>
{% if result %}<p>{{ outcome }} &middot; answerable {{ '%.2f' % result.answerable }} &middot; confidence {{ '%.2f' % result.confidence }}</p>
<ol>{% for h in result.hits[:5] %}<li><a href="{{ url_for('api.help_page', faq_id=h.faq.id) }}">{{ h.faq.title }}</a>
<small>{{ h.faq.id }} &middot; {{ '%.2f' % h.score }}</small></li>{% endfor %}</ol>{% endif %}</body></html>"""


@bp.get("/")
def home():
    """A search box over the built index, for editors checking their content in a browser."""
    q = request.args.get("q", "")[: current_app.config["MAX_QUESTION_CHARS"]]
    result = current_app.extensions["guide.index"].current().search(q, k=5) if q.strip() else None
    outcome = answers.decide(result).replace("_", " ") if result else ""
    return render_template_string(_HOME, q=q, result=result, outcome=outcome)


@bp.get("/help/")
def help_index():
    engine = current_app.extensions["guide.index"].current()
    groups = [(loc, sorted((f for f in idx.faqs if f.sites is None), key=lambda f: (f.category, f.title)))
              for loc, idx in engine.indexes.items()]
    return render_template_string(_INDEX, groups=groups)


@bp.get("/help/<faq_id>")
def help_page(faq_id: str):
    found = _find_faq(faq_id, request.args.get("site"))
    if found is None:
        abort(404)
    # faq.html was sanitised with an allow-list when the index was built.
    return render_template_string(_PAGE, faq=found)
