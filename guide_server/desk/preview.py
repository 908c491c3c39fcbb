"""Editors' previews: /admin/tours lists every tour, hint and checklist of a site (drafts marked),
each with a form that opens it on the customer's real page; /admin/preview signs a preview token
(``web.preview``) and sends the browser there with ``guide_preview=<id>.<token>`` in the query.

The page must be http(s) and, when the site lists its ``origins``, on one of them: the desk never
redirects anywhere a link could name (an open redirect). A site without origins takes any http(s)
page, and /admin/tours says so. These routes are on the desk's page blueprint (``pages.bp``), so
its login, role, CSRF and error handling apply; both need the editor role (roles.WRITE).
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit, urlunsplit

from flask import current_app, make_response, redirect, request

from ..content.fields import pick
from ..content.rules import visible_to
from ..web import preview as preview_token
from ..web.context import tours
from ..web.errors import ApiError
from ..web.headers import DESK_CSP
from . import figures as fig
from .pages import bp, respond
from .roles import WRITE
from .tables import TableData, col
from .web import audit, current_access, current_admin, current_lang, needs

MAX_URL = 2000


def _title(text: dict | None, lang: str) -> str:
    return pick(text, lang) or ""


def items_of(site: str, lang: str) -> list[dict]:
    """Every tour, hint and checklist ``site`` may show, drafts included, in file order."""
    content = tours()
    found = list(content.tours.values()) + list(content.checklists.values())
    return [{"id": i.id, "kind": i.kind, "title": _title(i.title, lang), "path": i.path, "draft": i.draft}
            for i in found if visible_to(i.sites, site)]


def _example_url(site: str) -> str:
    origins = current_app.config["SITES"][site].get("origins") or []
    return origins[0] + "/" if origins else ""


@bp.get("/tours")
@needs(WRITE)
def tour_list():
    site = fig.site_param(request.args, current_access())
    origins = current_app.config["SITES"][site].get("origins") or []
    items = items_of(site, current_lang())
    # the CSV's titles do not follow the desk's language: the file's default ("*") or first title
    as_written = {i["id"]: i["title"] for i in items_of(site, "*")}
    table = TableData("tours", [col("id", label="tours.col_id"), col("kind", "code", label="col.kind"),
                                col("title", label="tours.col_title"), col("path", label="col.file"),
                                col("state", "code", label="tours.col_state")],
                      [{**i, "state": "draft_item" if i["draft"] else "published", "_csv:title": as_written[i["id"]]}
                       for i in items])
    response = make_response(respond("admin/tours.html", None, [table], site=site, items=items, origins=origins,
                                      example=_example_url(site)))
    # the Preview forms submit here and are redirected to the site's pages: the policy must allow
    # those (a form's redirect is checked against form-action); /admin/preview checks the page itself
    allowed = " ".join(origins) or "http: https:"
    response.headers["Content-Security-Policy"] = DESK_CSP.replace("form-action 'self'", f"form-action 'self' {allowed}")
    return response


@bp.get("/preview")
@needs(WRITE)
def preview():
    """Sign a preview token and go to the page with it (``site``, ``tour``: any item's id, ``url``);
    without ``tour``, the list to choose from."""
    if not request.args.get("tour"):
        return tour_list()
    site = fig.site_param(request.args, current_access())
    item = fig.text_param(request.args, "tour")
    if item not in {i["id"] for i in items_of(site, current_lang())}:
        raise ApiError(f"no tour, hint or checklist {item[:100]!r} for site {site!r}", 404, "unknown_item",
                       {"tour": item[:100], "site": site})
    url = page_url(fig.text_param(request.args, "url"), current_app.config["SITES"][site].get("origins") or [])
    token = preview_token.sign(current_app.config["SECRET_KEY"], item, site, current_admin().name)
    audit("preview", site=site, tour=item, url=url)
    return redirect(with_preview(url, preview_token.link_value(item, token)), 303)


def page_url(url: str, origins: list[str]) -> str:
    """``url`` when it is an http(s) page on one of ``origins`` (any host when the site lists none);
    else a 400 that says why."""
    if len(url) > MAX_URL or any(ord(c) < 33 or c == "\\" for c in url):
        raise ApiError("the page URL may not hold spaces, control characters or backslashes", 400, "bad_page_url")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ApiError("the page URL is not valid", 400, "bad_page_url") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username is not None or parts.password is not None:
        raise ApiError("give the page's full address, starting with https:// (or http://)", 400, "bad_page_url")
    origin = f"{parts.scheme}://{parts.hostname}" + (f":{port}" if port is not None else "")
    if origins and origin not in origins:
        raise ApiError(f"{origin} is not one of this site's origins ({', '.join(origins)})", 400, "page_not_allowed",
                       {"origin": origin, "origins": ", ".join(origins)})
    return url


def with_preview(url: str, value: str) -> str:
    """``url`` with ``guide_preview=value`` in its query (any old one replaced); the rest of the
    query and the #fragment (a hash route too) stay as they were."""
    parts = urlsplit(url)
    kept = [p for p in parts.query.split("&") if p and p.split("=")[0] != preview_token.PARAM]
    query = "&".join(kept + [f"{preview_token.PARAM}={quote(value, safe='.-_~')}"])
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", query, parts.fragment))
