"""Teaching the bot from the desk: "this question is answered by FAQ X".

For a group of questions (or one question), the desk lists the closest FAQs of the site and locale
(searched by the group's label, or by what the editor types in ``faq_q``); "Answer with this FAQ"
appends the group's wordings to that FAQ's ``questions:`` in its content file (``content.faqedit``:
every other byte kept) and starts an index rebuild (``desk.rebuild``), so the next ask is answered.
Teaching writes into CONTENT_DIR itself, whatever DRAFTS_MODE says: its point is the next answer.

The page showed a version of the file (its sha256); a file changed since is refused (409) rather than
edited blind. A refusal re-renders the page the form was on, with the message at the group, in the
reader's language. Routes are on the page blueprint (login, role, CSRF); teaching needs roles.WRITE.
"""

from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from flask import current_app, flash, g, make_response, redirect, request, url_for

from ..chat.store import question_wordings
from ..content.faqedit import FaqEditError, add_questions, digest, replace_file
from ..search.errors import SearchError
from ..web.context import db, search
from ..web.errors import ApiError
from . import figures as fig
from .draftgit import store_draft
from .drafts import Draft, DraftError, asked_questions, check_draft, references, suggest_slug
from .pages import bp
from .rebuild import read_status, rebuilder
from .roles import WRITE
from .web import audit, current_access, needs, refusal_text, t

TEACH_HITS = 5  # FAQs offered per group
SUGGESTED_GROUPS = 20  # groups of a page offered FAQs before anything is typed (a search each); the rest on a search
MAX_FAQ_QUERY = 200  # characters of a search typed on the desk
MAX_IDS = 500  # question ids one request may name
PAGES_WITH_FORMS = ("admin.unanswered", "admin.step")  # where the teach and draft forms are: re-rendered on a refusal
_write_lock = threading.Lock()  # two teachings of one file in this process never interleave


@dataclass(frozen=True)
class Taught:
    faq_id: str
    file: str  # relative to CONTENT_DIR, e.g. faq/ja/billing/plans.md
    added: list[str]


@bp.app_template_global()
def group_key(question_ids: list[str]) -> str:
    """A short name for a group of questions, the same on every page that shows the same questions."""
    return hashlib.sha256("\n".join(sorted(question_ids)).encode()).hexdigest()[:12]


def faq_path(content_dir: Path, relpath: str) -> Path:
    """The file of an indexed FAQ (``relpath``: relative to faq/), which must still be in the content folder."""
    folder = (content_dir / "faq").resolve()
    path = (folder / relpath).resolve()
    if not path.is_relative_to(folder) or not path.is_file():
        raise ApiError(f"the FAQ's file faq/{relpath} is not in the content folder (moved or removed since the "
                       "last build?)", 404, "faq_file_missing", {"file": f"faq/{relpath}"})
    return path


def teach_faq(content_dir: Path, site: str, faq_id: str, ids: list[str], expected: str | None) -> Taught:
    """Append the wordings of the questions ``ids`` of ``site`` to the FAQ ``faq_id``'s ``questions:``;
    ``expected``: the sha256 of the file as the page showed it (None: not checked)."""
    try:
        faq = search().faq(faq_id, site)
    except SearchError as exc:
        raise ApiError(f"the search index is not available ({exc})", 503, "index_unavailable") from None
    if faq is None:
        raise ApiError(f"no FAQ {faq_id[:100]!r} for site {site!r}", 404, "unknown_faq", {"faq": faq_id[:100], "site": site})
    found = question_wordings(db(), site, ids[:MAX_IDS])
    asked = [found[i] for i in ids[:MAX_IDS] if i in found]
    if not asked:
        raise ApiError("none of these questions was asked on this site", 400, "no_questions")
    if any(locale != faq.locale for _, locale in asked):
        raise ApiError(f"the questions are not in the FAQ's language ({faq.locale})", 400, "wrong_locale",
                       {"faq": faq.id, "locale": faq.locale})
    path = faq_path(content_dir, faq.path)
    file = f"faq/{faq.path}"
    with _write_lock:
        raw = path.read_bytes()
        if expected is not None and digest(raw) != expected:
            raise ApiError(f"{file} changed since the page was shown: look at it again", 409, "faq_changed", {"file": file})
        try:
            edited, added = add_questions(raw, [text for text, _ in asked])
        except FaqEditError as exc:
            raise ApiError(f"{file} cannot be edited here: {exc}", 422, "faq_not_editable",
                           {"file": file, "reason": str(exc)}) from None
        if added:
            replace_file(path, edited)
    return Taught(faq.id, file, added)


def after_teaching(taught: Taught, site: str, by: str) -> bool:
    """The audit entry, and a rebuild when the file changed; True when one was started."""
    audit("teach", site=site, file=taught.file, faq=taught.faq_id, wordings=len(taught.added))
    if taught.added:
        rebuilder().request(by)
    return bool(taught.added)


@bp.post("/teach")
@needs(WRITE)
def teach():
    """The "Answer with this FAQ" button: back to the page it was on, at the group."""
    q = fig.parse_query(request.form, current_access())
    ids = request.form.getlist("question_id")
    key = _form_group(ids)
    try:
        taught = teach_faq(Path(current_app.config["CONTENT_DIR"]), q.site, fig.text_param(request.form, "faq"),
                           ids, fig.text_param(request.form, "hash"))
    except ApiError as err:
        return redisplay(err, key, "teach")
    if after_teaching(taught, q.site, current_access().name):
        flash(t("teach.done", n=len(taught.added), file=taught.file))
    else:
        flash(t("teach.nothing_new", file=taught.file))
    return redirect(page_url(key), 303)


@bp.post("/unanswered/draft")
@needs(WRITE)
def draft():
    """"Draft an FAQ" for a group: the proposal stored as DRAFTS_MODE says, then back to the page."""
    q = fig.parse_query(request.form, current_access())
    ids = request.form.getlist("question_id")
    try:
        where, n = propose_draft(q.site, request.form.get("locale", ""), request.form.get("slug", ""),
                                 request.form.get("title", ""), ids, current_access().name)
    except DraftError as exc:
        return redisplay(ApiError(str(exc), exc.status, exc.code, exc.details or None), _form_group(ids), "draft")
    audit("draft", site=q.site, file=where, questions=n)
    in_git = current_app.config["DRAFTS_MODE"] != "folder"
    flash(t("draft.written_git" if in_git else "draft.written", path=where, n=n))
    return redirect(page_url(_form_group(ids)), 303)


def propose_draft(site: str, locale: str, slug: str, title: str, ids: list[str], author: str) -> tuple[str, int]:
    """The desk's and the API's draft from the questions ``ids`` of ``site``: their wordings, and the
    closest FAQs' sections quoted; stored as DRAFTS_MODE says. Returns where, and how many of the ids
    were found (asks of the same wording are one question in the file)."""
    asked = asked_questions(db(), site, ids)
    slug = slug.strip() or suggest_slug(title, asked)
    title, wordings = check_draft(locale, slug, title, asked)
    try:
        quoted = references(search(), site, locale, [title, *wordings])
    except SearchError:  # no index yet: a draft without quotes
        quoted = ()
    return store_draft(current_app.config, Draft(locale, slug, title, wordings, author, quoted)), len(asked)


def page_url(key: str | None = None) -> str:
    """The page the form came from (its query string kept), at the group's box."""
    return url_for(_form_page(), **request.args.to_dict(flat=False)) + (f"#teach-{key}" if key else "")


def _form_group(ids: list[str]) -> str:
    """The group the form was shown in (its ``group`` field; else the key of the ids it sent)."""
    sent = request.form.get("group", "")
    return sent if re.fullmatch(r"[0-9a-f]{12}", sent) else group_key(ids)


def _form_page() -> str:
    endpoint = request.form.get("page", "")
    return endpoint if endpoint in PAGES_WITH_FORMS else "admin.unanswered"


def redisplay(err: ApiError, key: str, form: str):
    """The page the form was on, again, with ``err`` shown at the group's ``form`` ("teach" or "draft",
    in the reader's language) and the form's values kept; with err's status."""
    g.desk_page = _form_page()
    g.desk_problem = {"key": key, "kind": form, "message": refusal_text(err), "form": request.form}
    response = make_response(current_app.view_functions[g.desk_page]())
    response.status_code = err.status
    return response


# --- what the pages show ---------------------------------------------------------------------------

@bp.app_template_global()
def desk_page() -> str:
    """The endpoint of the page being shown (a refused form re-renders its page under the form's URL)."""
    return g.get("desk_page") or request.endpoint


@bp.app_template_global()
def desk_here() -> str:
    """The address of the page being shown, with its query: after a refused form, the page the form
    was on (its address carried the page's query), never the form's POST-only address."""
    if g.get("desk_page"):
        return url_for(g.desk_page, **request.args.to_dict(flat=False))
    return request.full_path


@bp.app_template_global()
def desk_problem(key: str, form: str) -> dict | None:
    """The refusal to show at the group ``key``'s ``form``, with the values that form was sent with."""
    problem = g.get("desk_problem")
    return problem if problem and problem["key"] == key and problem["kind"] == form else None


@bp.app_template_global()
def teach_choices(group: dict) -> dict:
    """What a group's teach box shows: the FAQs closest to what the editor typed for it, else to its
    label, and the forms' addresses (the macro is imported without the page's context)."""
    key = group_key(group["question_ids"])
    typed = (request.args.get("faq_q") or "").strip()[:MAX_FAQ_QUERY] if request.args.get("teach") == key else ""
    choices = {"key": key, "query": typed, "faqs": [], "unavailable": False, "later": False, "page": desk_page(),
               "write": current_access().may(WRITE), "problem": desk_problem(key, "teach"),
               "search_action": url_for(desk_page()),
               "keep": [(k, v) for k, vs in request.args.lists() if k not in ("faq_q", "teach") for v in vs],
               "action": url_for("admin.teach", **request.args.to_dict(flat=False))}
    g.teach_boxes = g.get("teach_boxes", 0) + 1
    if not choices["write"] or (not typed and g.teach_boxes > SUGGESTED_GROUPS):
        return {**choices, "later": choices["write"]}
    try:
        result = search().search(typed or group["label"], locale=group["locale"], k=TEACH_HITS, site=g.admin_query.site)
    except SearchError:
        return {**choices, "unavailable": True}
    content = Path(current_app.config["CONTENT_DIR"])
    for hit in result.hits:
        if hit.faq.locale == group["locale"]:
            try:
                version = digest(faq_path(content, hit.faq.path).read_bytes())
            except (ApiError, OSError):
                continue  # its file is gone: nothing to teach it
            choices["faqs"].append({"id": hit.faq.id, "title": hit.faq.title, "hash": version,
                                    "url": url_for("help.help_page", faq_id=hit.faq.id)})
    return choices


@bp.app_template_global()
def rebuild_status():
    """The desk's last index rebuild, when worth showing (running, failed, or just done)."""
    status = read_status(Path(current_app.config["INDEX_DIR"]))
    return status if status is not None and status.shown else None
