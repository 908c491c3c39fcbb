"""What the desk pages, their CSV downloads and the admin JSON API share: the request's site and
date range (``Query``), and one call per figure into ``analytics`` with what the live content
and index know (step names, FAQ titles, encoders). ``tables`` lays the results out."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as dtime
from zoneinfo import ZoneInfo

from flask import current_app

from ..analytics import chat as chat_figures
from ..analytics import escalations as escalation_figures
from ..analytics import overview as overview_figures
from ..analytics import targets as target_figures
from ..analytics import tours as tour_figures
from ..content.rules import visible_to
from ..search.errors import IndexUnavailable
from ..web.context import db, search, tours
from ..web.errors import ApiError
from .roles import Access

DEFAULT_DAYS = 30
MAX_DAYS = 3660
MAX_TEXT_PARAM = 200


@dataclass(frozen=True)
class Query:
    """A request's site and date range: ``start``/``end`` are epoch seconds, ``end`` exclusive."""

    site: str
    first: date
    last: date  # inclusive
    start: float
    end: float

    def params(self) -> dict[str, str]:
        return {"site": self.site, "from": self.first.isoformat(), "to": self.last.isoformat()}


def zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["ADMIN_TIMEZONE"])  # checked at start-up (web.init_app)


def local_time(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, zone())


def bad(message: str, code: str = "bad_param") -> ApiError:
    return ApiError(message, 400, code)


def _date(args, name: str, default: date) -> date:
    raw = args.get(name)
    if raw is None or raw == "":
        return default
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
        raise bad(f"'{name}' must be a date as YYYY-MM-DD")
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        raise bad(f"'{name}' is not a real date: {raw!r}") from None
    if not 2000 <= value.year <= 2100:
        raise bad(f"'{name}' must be between 2000 and 2100")
    return value


def site_param(args, access: Access) -> str:
    """The site asked for (default: the first the asker may see); another site is a 403, whoever asks."""
    configured = current_app.config["SITES"]
    mine = access.visible(configured)
    if not mine:
        raise ApiError("no site configured on this server is given to this account or token", 403, "no_sites")
    site = args.get("site") or mine[0]
    if not isinstance(site, str) or site not in configured:
        raise bad(f"unknown site {str(site)[:MAX_TEXT_PARAM]!r}; known: {', '.join(mine)}", "bad_site")
    if not access.sees(site):
        raise ApiError(f"no access to site {site!r}; this account or token has: {', '.join(mine)}", 403,
                       "forbidden_site", {"site": site, "sites": ", ".join(mine)})
    return site


def parse_query(args, access: Access) -> Query:
    """The site (default: the first ``access`` may see) and the from/to dates (default: the last 30 days)."""
    site = site_param(args, access)
    tz = zone()
    last = _date(args, "to", datetime.now(tz).date())
    first = _date(args, "from", last - timedelta(days=DEFAULT_DAYS - 1))
    if first > last:
        raise bad("'from' is after 'to'")
    if (last - first).days >= MAX_DAYS:
        raise bad(f"the date range may span at most {MAX_DAYS} days")
    start = datetime.combine(first, dtime(0), tz).timestamp()
    end = datetime.combine(last + timedelta(days=1), dtime(0), tz).timestamp()
    return Query(site, first, last, start, end)


def text_param(args, name: str, required: bool = True) -> str | None:
    value = args.get(name)
    if not value:
        if required:
            raise bad(f"'{name}' is required")
        return None
    if len(value) > MAX_TEXT_PARAM:
        raise bad(f"'{name}' is too long")
    return value


def int_param(args, name: str, default: int | None = None, low: int = 0, high: int = 10**9) -> int:
    raw = args.get(name)
    if raw is None or raw == "":
        if default is None:
            raise bad(f"'{name}' is required")
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad(f"'{name}' must be a whole number") from None
    if not low <= value <= high:
        raise bad(f"'{name}' must be between {low} and {high}")
    return value


def step_params(args) -> tuple[str, int, str]:
    """The tour step a drill-down is about: ``tour``, ``version`` and ``step`` (its id)."""
    return text_param(args, "tour"), int_param(args, "version", low=0, high=10**6), text_param(args, "step")


# --- figures (analytics) -------------------------------------------------------------------------

def encoder_for_locale(locale: str):
    """The live index's first dense encoder for ``locale``, or None when there is no index."""
    try:
        index = search().indexes.get(locale)
    except IndexUnavailable:
        return None
    return index.encoders[0] if index is not None and index.encoders else None


def hint_ids() -> set[str]:
    """The ids the current content defines as hints (``kind: hint``), whatever their sites: their
    events are not a tour's, whichever site sent them."""
    return {tour.id for tour in tours().tours.values() if tour.kind == "hint"}


def overview(q: Query) -> dict:
    return overview_figures.overview(db(), q.site, q.start, q.end, hints=hint_ids())


def funnels(q: Query) -> list[dict]:
    """Funnels of the tours users started, with every step the current content defines for the site
    (events may name any tour: another site's steps are never added to them); no hints."""
    defined = {(tour.id, tour.version): [step.id for step in tour.steps] for tour in tours().tours.values()
               if visible_to(tour.sites, q.site) and tour.kind != "hint"}
    return tour_figures.tour_funnels(db(), q.site, q.start, q.end, defined=defined, hints=hint_ids())


def hints(q: Query) -> list[dict]:
    """Per hint: people who saw it, closed it and acknowledged it; every hint the site's content
    serves has a row (drafts do not)."""
    listed = [tour.id for tour in tours().tours.values()
              if tour.kind == "hint" and not tour.draft and visible_to(tour.sites, q.site)]
    return tour_figures.hint_figures(db(), q.site, q.start, q.end, hint_ids(), listed=listed)


def stuck_points(q: Query, limit: int = 50) -> list[dict]:
    return tour_figures.stuck_points(db(), q.site, q.start, q.end, limit=limit, hints=hint_ids())


def broken_targets(sites: list[str], now: float | None = None) -> list[dict]:
    """The steps of ``sites`` whose target was missing for too many people over the last
    TARGET_MISSING_HOURS (not the desk's dates: it says what is broken now), with their selectors."""
    cfg = current_app.config
    end = time.time() if now is None else now
    targets = {(tour.id, step.id): step.target for tour in tours().tours.values() for step in tour.steps}
    return target_figures.broken_targets(db(), sites, end - cfg["TARGET_MISSING_HOURS"] * 3600, end,
                                         cfg["TARGET_MISSING_ALERT"], cfg["TARGET_MISSING_MIN_PEOPLE"], targets)


def step_users(q: Query, tour: str, version: int, step: str) -> list[dict]:
    return tour_figures.step_users(db(), q.site, q.start, q.end, tour, version, step)


def user_timeline(site: str, user: str) -> list[dict]:
    return tour_figures.user_timeline(db(), site, user)


def faq_titles() -> dict[str, str]:
    try:
        return search().titles()
    except IndexUnavailable:
        return {}


def faq_feedback(q: Query) -> list[dict]:
    return chat_figures.faq_feedback(db(), q.site, q.start, q.end, faq_titles())


def unanswered(q: Query) -> list[dict]:
    return chat_figures.unanswered_groups(db(), q.site, q.start, q.end, encoder_for_locale)


def onboarding(q: Query) -> list[dict]:
    return overview_figures.onboarding(db(), q.site, q.start, q.end, tz=zone())  # weeks in the desk's time zone


def nps(q: Query) -> dict:
    return overview_figures.nps(db(), q.site, q.start, q.end, tz=zone())


def escalations(q: Query, escalation_id: str | None = None) -> list[dict]:
    """The site's escalations of the period, newest first (or the one named by ``id``)."""
    return escalation_figures.listing(db(), q.site, q.start, q.end, escalation_id)
