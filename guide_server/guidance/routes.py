"""Tours, hints and checklists over HTTP: identify, list for a page, one tour, progress, track."""

from __future__ import annotations

import json
import re

from flask import Blueprint, current_app, jsonify, request

from .. import privacy
from ..content.fields import pick
from ..content.rules import visible_to
from ..web import identity, inputs
from ..web import preview as preview_token
from ..web.context import db, site_settings, stored_id, surveys, tours
from ..web.errors import ApiError
from ..web.sites import site_key
from . import progress as store
from .surveys import remember_seen, survey_for
from .targeting import (
    Page,
    Progress,
    Visitor,
    checklists_for_page,
    choose_autostart,
    library,
    page_of,
    task_done,
    tasks_satisfied,
    tours_for_page,
)
from .tours import Checklist, Tour, TourSet

bp = Blueprint("tours", __name__)

MAX_IDS = 500
STATUSES = ("active", "completed", "dismissed")
TAB = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_SEQ = 2**53 - 1  # what a browser counts exactly


# --- input ---------------------------------------------------------------------------------------

def _page(value) -> Page | None:
    url = inputs.url(value)
    return page_of(url) if url is not None else None


def _id_list(name: str) -> set[str]:
    raw = request.args.get(name, "")
    ids = {i.strip() for i in raw.split(",") if i.strip()}
    if len(ids) > MAX_IDS:
        raise ApiError(f"'{name}' lists more than {MAX_IDS} ids", 400, "bad_ids")
    return ids


def _tour_for_site(content: TourSet, tour_id, site: str, drafts: bool = False) -> Tour:
    """The tour of this site; a draft only when ``drafts`` (an editor's preview)."""
    if not isinstance(tour_id, str) or not tour_id:
        raise ApiError("'tour' must be a tour id", 400, "bad_tour")
    tour = content.tours.get(tour_id)
    if tour is None or not visible_to(tour.sites, site) or (tour.draft and not drafts):
        raise ApiError(f"no tour {tour_id[:100]!r} for this site", 404, "unknown_tour")
    return tour


def _visitor(content: TourSet, site: str, user: str | None) -> Visitor:
    """A known user's record; for anonymous users, what the widget sends (traits, done, dismissed, tasks)."""
    if user is not None:
        versions = {t.id: t.version for t in content.tours.values()}
        return store.load_visitor(db(), site, stored_id(site, user), versions)
    raw = request.args.get("traits")
    traits = {}
    if raw:
        try:
            traits = json.loads(raw)
        except ValueError:
            raise ApiError("'traits' must be a JSON object", 400, "bad_traits") from None
        traits = inputs.traits(traits)
    done, dismissed = _id_list("done"), _id_list("dismissed")
    tasks = set()
    for pair in _id_list("tasks"):  # checklist tasks the widget saw ticked in this browser
        checklist, sep, task = pair.partition(":")
        if not (sep and checklist and task):
            raise ApiError(f"'tasks' lists checklist:task pairs, not {pair[:100]!r}", 400, "bad_ids")
        tasks.add((checklist, task))
    visitor = Visitor(traits=traits, completed=done, tasks_done=tasks)
    for tour in content.tours.values():
        if tour.id in done:
            visitor.progress[tour.id] = Progress("completed", len(tour.steps) - 1, tour.version, True)
        elif tour.id in dismissed:
            visitor.progress[tour.id] = Progress("dismissed", 0, tour.version)
    return visitor


# --- output --------------------------------------------------------------------------------------

def progress_json(p: Progress) -> dict:
    return {"status": p.status, "step": p.step, "version": p.version}


def tour_json(tour: Tour, locale: str, progress: Progress) -> dict:
    return {
        "id": tour.id, "kind": tour.kind, "version": tour.version, "title": pick(tour.title, locale),
        "priority": tour.priority, "trigger": tour.trigger, "frequency": tour.frequency,
        "steps": [{
            "id": s.id, "target": s.target, "placement": s.placement, "title": pick(s.title, locale),
            "html": pick(s.html, locale) or "", "advance": s.advance, "url": s.url.source if s.url else None,
            "wait": s.wait, "missing": s.missing, "buttons": {k: pick(v, locale) for k, v in s.buttons.items()},
            "idle_after": s.idle_after,
        } for s in tour.steps],
        "progress": progress_json(progress),
    }


def checklist_json(checklist: Checklist, locale: str, visitor: Visitor, page: Page | None = None,
                   event: str | None = None) -> dict:
    tasks = [{"id": t.id, "title": pick(t.title, locale), "tour": t.tour,
              "done": task_done(checklist, t, visitor, page, event)} for t in checklist.tasks]
    for task, t in zip(tasks, checklist.tasks, strict=True):
        if t.element:  # the widget sends `event` when the user clicks or submits `selector`
            task["when"] = {"type": t.element[0], "selector": t.element[1], "event": t.element[2]}
    done = sum(t["done"] for t in tasks)
    return {"id": checklist.id, "title": pick(checklist.title, locale), "html": pick(checklist.html, locale),
            "tasks": tasks, "done": done, "total": len(tasks), "completed": done == len(tasks)}


def _locale_for(asked: str | None, visitor: Visitor) -> str:
    return asked or visitor.locale or current_app.config["DEFAULT_LOCALE"]


# --- routes --------------------------------------------------------------------------------------

@bp.post("/api/v1/identify")
def identify():
    payload = inputs.json_body()
    site = site_key(payload)
    who = identity.person(site, payload.get("user"), identity.token_of(payload))
    user = who.user
    if user is None:
        raise ApiError("'user' is required: the host app's id of the signed-in user", 400, "missing_user")
    unsigned = inputs.traits(payload.get("traits", {}))
    # a verified site targets by the traits its server signed; those the browser sent are not kept
    traits = (who.traits or {}) if who.claims else unsigned
    locale = inputs.locale(payload.get("locale"))
    try:
        merged = store.save_traits(db(), site, stored_id(site, user), traits, locale, inputs.MAX_TRAITS)
    except store.TooManyTraits as exc:
        raise ApiError(f"the user would have {exc.count} traits; at most {inputs.MAX_TRAITS}", 413,
                       "traits_too_big") from None
    remember_seen(db(), site, stored_id(site, user))
    return jsonify({"user": user, "traits": merged, "verified": bool(who.claims),
                    "ignored_traits": sorted(unsigned) if who.claims else []})


@bp.get("/api/v1/tours")
def page_tours():
    site = site_key()
    user = identity.person(site, request.args.get("user"), identity.token_of()).user
    page = _page(request.args.get("url"))
    asked = inputs.locale(request.args.get("locale"))
    content = tours()
    visitor = _visitor(content, site, user)
    if user is not None and page is not None:
        ticked = [(c.id, t.id) for c, t in tasks_satisfied(content, site, page=page)
                  if (c.id, t.id) not in visitor.tasks_done]  # no write on every page view
        store.mark_tasks(db(), site, stored_id(site, user), ticked)
        visitor.tasks_done.update(ticked)
    locale = _locale_for(asked, visitor)
    found = tours_for_page(content, site, page, visitor)
    return jsonify({
        "user": user, "locale": locale, "support": site_settings(site)["support"],
        "autostart": choose_autostart(found, site, page, visitor),
        "tours": [tour_json(t, locale, visitor.progress_of(t)) for t in found],
        "checklists": [checklist_json(c, locale, visitor, page) for c in checklists_for_page(content, site, page, visitor)],
        "library": [{"id": t.id, "title": pick(t.title, locale)} for t in library(content, site, visitor)],
        "survey": _survey(site, user, page, visitor, locale),
    })


def _survey(site: str, user: str | None, page: Page | None, visitor: Visitor, locale: str) -> dict | None:
    """The survey due for a signed-in user now (anonymous users are never asked)."""
    if user is None:
        return None
    found = survey_for(db(), surveys(), site, stored_id(site, user), page, visitor, locale)
    if found:  # "How likely are you to recommend {site}": the site's name in the user's language
        found["question"] = found["question"].replace("{site}", pick(site_settings(site)["names"], locale))
    return found


@bp.get("/api/v1/tours/<tour_id>")
def one_tour(tour_id: str):
    site = site_key()
    user = identity.person(site, request.args.get("user"), identity.token_of()).user
    asked = inputs.locale(request.args.get("locale"))
    content = tours()
    tour = _tour_for_site(content, tour_id, site)
    visitor = _visitor(content, site, user)
    return jsonify(tour_json(tour, _locale_for(asked, visitor), visitor.progress_of(tour)))


@bp.get("/api/v1/preview/<item_id>")
def preview(item_id: str):
    """An editor's preview (docs/tours.md): a tour, hint or checklist, drafts included, as GET
    /tours/<id> gives it to a new visitor, for a token the review desk signed for this item and site."""
    site = site_key()
    preview_token.check(current_app.config["SECRET_KEY"], request.args.get("token"), item_id, site)
    locale = inputs.locale(request.args.get("locale")) or current_app.config["DEFAULT_LOCALE"]
    content = tours()
    checklist = content.checklists.get(item_id)
    if checklist is not None and visible_to(checklist.sites, site):
        return jsonify(checklist_json(checklist, locale, Visitor()))
    tour = _tour_for_site(content, item_id, site, drafts=True)
    return jsonify(tour_json(tour, locale, Progress(version=tour.version)))


def _updated_checklists(content: TourSet, site: str, user: str | None, locale: str | None, ticked: list,
                        event: str | None = None, completed: str | None = None) -> list[dict]:
    """The checklists that hold a task this call ticked, as this user now sees them."""
    if user is not None:
        visitor = store.load_visitor(db(), site, stored_id(site, user), {})
    else:  # nothing is remembered for anonymous users: only this call counts
        visitor = Visitor(completed={completed} if completed else set())
    locale = _locale_for(locale, visitor)
    ids = dict.fromkeys(c.id for c, _ in ticked)
    return [checklist_json(content.checklists[i], locale, visitor, event=event) for i in ids]


@bp.post("/api/v1/tours/progress")
def tour_progress():
    payload = inputs.json_body()
    site = site_key(payload)
    user = identity.person(site, payload.get("user"), identity.token_of(payload)).user
    content = tours()
    tour = _tour_for_site(content, payload.get("tour"), site)
    version, step, status = payload.get("version"), payload.get("step"), payload.get("status")
    if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= tour.version:
        raise ApiError(f"'version' must be a whole number from 1 to {tour.version} (the tour's version)", 400, "bad_version")
    if not isinstance(step, int) or isinstance(step, bool) or step < 0 or (version == tour.version and step >= len(tour.steps)):
        raise ApiError(f"'step' must be a step index from 0 to {len(tour.steps) - 1}", 400, "bad_step")
    if status not in STATUSES:
        raise ApiError(f"'status' must be one of {', '.join(STATUSES)}", 400, "bad_status")
    url = inputs.url(payload.get("url"))
    locale = inputs.locale(payload.get("locale"))
    event = _missing_target(payload.get("event"))
    tab, seq = _save_order(payload)
    if event is not None:  # reports of missing targets are kept for anonymous users too
        store.record_event(db(), site, stored_id(site, user), tour.id, version, event["step_id"], event["action"],
                           privacy.mask(url))
    if user is not None:
        saved = store.save_progress(db(), site, stored_id(site, user), tour.id, version, step, status, tab, seq)
    else:
        saved = Progress(status, step, version, status == "completed")
    completed = tour.id if status == "completed" else None
    ticked = tasks_satisfied(content, site, tour_completed=completed) if completed else []
    return jsonify({"progress": progress_json(saved),
                    "checklists": _updated_checklists(content, site, user, locale, ticked, completed=completed)})


def _missing_target(event) -> dict | None:
    """``event``: the report of a step whose target was missing, {type: target_missing, step_id, action}."""
    if event is None:
        return None
    if not isinstance(event, dict) or event.get("type") != "target_missing":
        raise ApiError("'event' must be {type: 'target_missing', step_id, action: skip|center|abort}", 400, "bad_event")
    try:
        return {"step_id": inputs.step_id(event.get("step_id"), "event.step_id"),
                "action": inputs.step_action(event.get("action"), "event.action")}
    except ApiError as exc:  # the field's own rule and message, under the code of the field that holds it
        raise ApiError(exc.message, 400, "bad_event") from None


def _save_order(payload: dict) -> tuple[str | None, int | None]:
    """``tab`` (the browser tab's id) and ``seq`` (its running number of saves) come together or not at all."""
    tab, seq = payload.get("tab"), payload.get("seq")
    if tab is None and seq is None:
        return None, None
    if not isinstance(tab, str) or not TAB.match(tab):
        raise ApiError("'tab' must be 1 to 64 letters, digits, '-' or '_', sent with 'seq'", 400, "bad_tab")
    if not isinstance(seq, int) or isinstance(seq, bool) or not 0 <= seq <= MAX_SEQ:
        raise ApiError(f"'seq' must be a whole number from 0 to {MAX_SEQ}, sent with 'tab'", 400, "bad_seq")
    return tab, seq


@bp.post("/api/v1/track")
def track():
    payload = inputs.json_body()
    site = site_key(payload)
    user = identity.person(site, payload.get("user"), identity.token_of(payload)).user
    name = inputs.event_name(payload.get("name"))
    inputs.props(payload.get("props"))
    inputs.url(payload.get("url"))
    locale = inputs.locale(payload.get("locale"))
    content = tours()
    ticked = tasks_satisfied(content, site, event=name)
    if user is not None:
        store.mark_tasks(db(), site, stored_id(site, user), [(c.id, t.id) for c, t in ticked])
    return jsonify({"checklists": _updated_checklists(content, site, user, locale, ticked, event=name)})
