"""Tours, hints and checklists over HTTP: identify, list for a page, one tour, progress, track."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

from flask import Blueprint, Flask, current_app, jsonify, request

from . import privacy, surveys
from . import progress as db
from .api import json_body
from .errors import ApiError
from .sites import site_key
from .targeting import (
    Page,
    Progress,
    Visitor,
    checklists_for_page,
    choose_autostart,
    for_site,
    page_of,
    task_done,
    tasks_satisfied,
    tours_for_page,
)
from .textnorm import LOCALES
from .tour_library import TourLibrary, TourSet
from .tours import Checklist, Tour, pick

bp = Blueprint("tours", __name__)

MAX_TRAITS = 50
MAX_TRAIT_KEY = 100
MAX_TRAIT_TEXT = 500
MAX_USER = 200
MAX_URL = 4096
MAX_IDS = 500
STATUSES = ("active", "completed", "dismissed")
ACTIONS = ("skip", "center", "abort")
TAB = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_SEQ = 2**53 - 1  # what a browser counts exactly


def init_app(app: Flask) -> None:
    """Register the routes and load content/tours once, so errors show at start-up."""
    app.register_blueprint(bp)
    library = TourLibrary(Path(app.config["CONTENT_DIR"]) / "tours")
    library.current()
    app.extensions["guide.tours"] = library


def _content() -> TourSet:
    return current_app.extensions["guide.tours"].current()


# --- input ---------------------------------------------------------------------------------------

def _user(value) -> str | None:
    """The host app's user id: text or a whole number; absent or empty means anonymous."""
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or len(value) > MAX_USER or not value.strip():
        raise ApiError(f"'user' must be text of at most {MAX_USER} characters, or a number", 400, "bad_user")
    return value


def _stored(site: str, user: str | None) -> str | None:
    """What the database holds for a user id: its keyed pseudonym (the API still answers with the id)."""
    return privacy.pseudonymise(current_app, site, user) if user is not None else None


def _traits(value) -> dict:
    if not isinstance(value, dict):
        raise ApiError("'traits' must be a JSON object", 400, "bad_traits")
    if len(value) > MAX_TRAITS:
        raise ApiError(f"at most {MAX_TRAITS} traits per user", 413, "traits_too_big")
    for key, v in value.items():
        if not 1 <= len(key) <= MAX_TRAIT_KEY:
            raise ApiError(f"trait names have 1 to {MAX_TRAIT_KEY} characters", 400, "bad_traits")
        if isinstance(v, str):
            if len(v) > MAX_TRAIT_TEXT:
                raise ApiError(f"trait {key!r} is longer than {MAX_TRAIT_TEXT} characters", 413, "traits_too_big")
        elif isinstance(v, float) and not math.isfinite(v):
            raise ApiError(f"trait {key!r} must be a finite number", 400, "bad_traits")
        elif v is not None and not isinstance(v, (int, float, bool)):
            raise ApiError(f"trait {key!r} must be a string, number or boolean", 400, "bad_traits")
    return value


def _locale(value) -> str | None:
    if value is None or value == "":
        return None
    if value not in LOCALES:
        raise ApiError(f"unknown locale {value!r}; use one of {', '.join(LOCALES)}", 400, "bad_locale")
    return value


def _page(value) -> Page | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > MAX_URL:
        raise ApiError(f"'url' must be a URL or path of at most {MAX_URL} characters", 400, "bad_url")
    try:
        return page_of(value)
    except ValueError:  # e.g. a broken IPv6 host: "http://[::1"
        raise ApiError(f"'url' is not a URL: {value[:100]!r}", 400, "bad_url") from None


def _id_list(name: str) -> set[str]:
    raw = request.args.get(name, "")
    ids = {i.strip() for i in raw.split(",") if i.strip()}
    if len(ids) > MAX_IDS:
        raise ApiError(f"'{name}' lists more than {MAX_IDS} ids", 400, "bad_ids")
    return ids


def _tour_for_site(content: TourSet, tour_id, site: str) -> Tour:
    if not isinstance(tour_id, str) or not tour_id:
        raise ApiError("'tour' must be a tour id", 400, "bad_tour")
    tour = content.tours.get(tour_id)
    if tour is None or not for_site(tour, site):
        raise ApiError(f"no tour {tour_id!r} for this site", 404, "unknown_tour")
    return tour


def _visitor(content: TourSet, site: str, user: str | None) -> Visitor:
    """A known user's record; for anonymous users, what the widget sends (traits, done, dismissed, tasks)."""
    if user is not None:
        versions = {t.id: t.version for t in content.tours.values()}
        return db.load_visitor(current_app.extensions["guide.db"], site, _stored(site, user), versions)
    raw = request.args.get("traits")
    traits = {}
    if raw:
        try:
            traits = json.loads(raw)
        except ValueError:
            raise ApiError("'traits' must be a JSON object", 400, "bad_traits") from None
        traits = _traits(traits)
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
    done = sum(t["done"] for t in tasks)
    return {"id": checklist.id, "title": pick(checklist.title, locale), "html": pick(checklist.html, locale),
            "tasks": tasks, "done": done, "total": len(tasks), "completed": done == len(tasks)}


def _locale_for(asked: str | None, visitor: Visitor) -> str:
    return asked or visitor.locale or current_app.config["DEFAULT_LOCALE"]


# --- routes --------------------------------------------------------------------------------------

@bp.post("/api/v1/identify")
def identify():
    payload = json_body()
    site = site_key(payload)
    user = _user(payload.get("user"))
    if user is None:
        raise ApiError("'user' is required: the host app's id of the signed-in user", 400, "missing_user")
    traits = _traits(payload.get("traits", {}))
    locale = _locale(payload.get("locale"))
    try:
        merged = db.save_traits(current_app.extensions["guide.db"], site, _stored(site, user), traits, locale, MAX_TRAITS)
    except db.TooManyTraits as exc:
        raise ApiError(f"the user would have {exc.count} traits; at most {MAX_TRAITS}", 413, "traits_too_big") from None
    surveys.remember_seen(current_app.extensions["guide.db"], site, _stored(site, user))
    return jsonify({"user": user, "traits": merged})


@bp.get("/api/v1/tours")
def tours():
    site = site_key()
    user = _user(request.args.get("user"))
    page = _page(request.args.get("url"))
    asked = _locale(request.args.get("locale"))
    content = _content()
    visitor = _visitor(content, site, user)
    if user is not None and page is not None:
        ticked = [(c.id, t.id) for c, t in tasks_satisfied(content, site, page=page)
                  if (c.id, t.id) not in visitor.tasks_done]  # no write on every page view
        db.mark_tasks(current_app.extensions["guide.db"], site, _stored(site, user), ticked)
        visitor.tasks_done.update(ticked)
    locale = _locale_for(asked, visitor)
    found = tours_for_page(content, site, page, visitor)
    return jsonify({
        "user": user, "locale": locale, "support": current_app.config["SITES"][site]["support"],
        "autostart": choose_autostart(found, site, page, visitor),
        "tours": [tour_json(t, locale, visitor.progress_of(t)) for t in found],
        "checklists": [checklist_json(c, locale, visitor, page) for c in checklists_for_page(content, site, page, visitor)],
        "survey": _survey(site, user, page, visitor, locale),
    })


def _survey(site: str, user: str | None, page: Page | None, visitor: Visitor, locale: str) -> dict | None:
    """The survey due for a signed-in user now (anonymous users are never asked)."""
    if user is None:
        return None
    return surveys.survey_for(current_app.extensions["guide.db"], current_app.extensions["guide.surveys"].current(),
                              site, _stored(site, user), page, visitor, locale)


@bp.get("/api/v1/tours/<tour_id>")
def one_tour(tour_id: str):
    site = site_key()
    user = _user(request.args.get("user"))
    asked = _locale(request.args.get("locale"))
    content = _content()
    tour = _tour_for_site(content, tour_id, site)
    visitor = _visitor(content, site, user)
    return jsonify(tour_json(tour, _locale_for(asked, visitor), visitor.progress_of(tour)))


def _updated_checklists(content: TourSet, site: str, user: str | None, locale: str | None, ticked: list,
                        event: str | None = None, completed: str | None = None) -> list[dict]:
    """The checklists that hold a task this call ticked, as this user now sees them."""
    if user is not None:
        visitor = db.load_visitor(current_app.extensions["guide.db"], site, _stored(site, user), {})
    else:  # nothing is remembered for anonymous users: only this call counts
        visitor = Visitor(completed={completed} if completed else set())
    locale = _locale_for(locale, visitor)
    ids = dict.fromkeys(c.id for c, _ in ticked)
    return [checklist_json(content.checklists[i], locale, visitor, event=event) for i in ids]


@bp.post("/api/v1/tours/progress")
def tour_progress():
    payload = json_body()
    site = site_key(payload)
    user = _user(payload.get("user"))
    content = _content()
    tour = _tour_for_site(content, payload.get("tour"), site)
    version, step, status = payload.get("version"), payload.get("step"), payload.get("status")
    if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= tour.version:
        raise ApiError(f"'version' must be a whole number from 1 to {tour.version} (the tour's version)", 400, "bad_version")
    if not isinstance(step, int) or isinstance(step, bool) or step < 0 or (version == tour.version and step >= len(tour.steps)):
        raise ApiError(f"'step' must be a step index from 0 to {len(tour.steps) - 1}", 400, "bad_step")
    if status not in STATUSES:
        raise ApiError(f"'status' must be one of {', '.join(STATUSES)}", 400, "bad_status")
    _page(payload.get("url"))
    url = payload.get("url") or None
    event = payload.get("event")
    if event is not None:
        if (not isinstance(event, dict) or event.get("type") != "target_missing" or event.get("action") not in ACTIONS
                or not isinstance(event.get("step_id"), str) or not 1 <= len(event["step_id"]) <= 200):
            raise ApiError("'event' must be {type: 'target_missing', step_id, action: skip|center|abort}", 400, "bad_event")
    engine = current_app.extensions["guide.db"]
    if event is not None:  # reports of missing targets are kept for anonymous users too
        db.record_event(engine, site, _stored(site, user), tour.id, version, event["step_id"], event["action"],
                        privacy.mask(url))
    tab, seq = _save_order(payload)
    if user is not None:
        saved = db.save_progress(engine, site, _stored(site, user), tour.id, version, step, status, tab, seq)
    else:
        saved = Progress(status, step, version, status == "completed")
    completed = tour.id if status == "completed" else None
    ticked = tasks_satisfied(content, site, tour_completed=completed) if completed else []
    return jsonify({"progress": progress_json(saved),
                    "checklists": _updated_checklists(content, site, user, _locale(payload.get("locale")), ticked,
                                                      completed=completed)})


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
    payload = json_body()
    site = site_key(payload)
    user = _user(payload.get("user"))
    name = payload.get("name")
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= 100:
        raise ApiError("'name' must be an event name of 1 to 100 characters", 400, "bad_name")
    if payload.get("props") is not None and not isinstance(payload["props"], dict):
        raise ApiError("'props' must be a JSON object", 400, "bad_props")
    _page(payload.get("url"))
    name = name.strip()
    content = _content()
    ticked = tasks_satisfied(content, site, event=name)
    if user is not None:
        db.mark_tasks(current_app.extensions["guide.db"], site, _stored(site, user), [(c.id, t.id) for c, t in ticked])
    return jsonify({"checklists": _updated_checklists(content, site, user, _locale(payload.get("locale")), ticked,
                                                      event=name)})
