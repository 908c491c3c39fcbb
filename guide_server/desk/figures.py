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

from ..analytics import alerts as alert_figures
from ..analytics import chat as chat_figures
from ..analytics import escalations as escalation_figures
from ..analytics import outcomes as outcome_figures
from ..analytics import overview as overview_figures
from ..analytics import people
from ..analytics import targets as target_figures
from ..analytics import tours as tour_figures
from ..analytics.segment import EVERYONE, Segment, known_traits, resolve
from ..content.fields import pick
from ..content.rules import LOCALES, visible_to
from ..search.errors import IndexUnavailable
from ..web.context import db, search, services, stored_id, stored_person, tours
from ..web.errors import ApiError
from .i18n import current_lang  # the desk's language, or the API asker's Accept-Language
from .roles import Access

DEFAULT_DAYS = 30
MAX_DAYS = 3660
MAX_TEXT_PARAM = 200
MAX_TRAITS = 5  # trait filters in one request


@dataclass(frozen=True)
class Query:
    """A request's site, date range and segment: ``start``/``end`` are epoch seconds, ``end`` exclusive."""

    site: str
    first: date
    last: date  # inclusive
    start: float
    end: float
    segment: Segment = EVERYONE

    def params(self) -> dict[str, str | list[str]]:
        """The query as URL parameters, so links, CSV downloads and forms keep every filter."""
        return {"site": self.site, "from": self.first.isoformat(), "to": self.last.isoformat(),
                **self.segment.params()}

    def previous(self) -> Query:
        """The period of the same length just before this one, same site and segment."""
        days = timedelta(days=(self.last - self.first).days + 1)
        return _period(self.site, self.first - days, self.first - timedelta(days=1), self.segment)


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
    """The site (default: the first ``access`` may see), the from/to dates (default: the last 30 days)
    and the segment (``locale``, ``trait=name:value`` repeated; default everyone)."""
    site = site_param(args, access)
    last = _date(args, "to", datetime.now(zone()).date())
    first = _date(args, "from", last - timedelta(days=DEFAULT_DAYS - 1))
    if first > last:
        raise bad("'from' is after 'to'")
    if (last - first).days >= MAX_DAYS:
        raise bad(f"the date range may span at most {MAX_DAYS} days")
    locale, traits = segment_params(args)
    return _period(site, first, last, resolve(db(), site, locale, traits))


def _period(site: str, first: date, last: date, segment: Segment) -> Query:
    tz = zone()
    start = datetime.combine(first, dtime(0), tz).timestamp()
    end = datetime.combine(last + timedelta(days=1), dtime(0), tz).timestamp()
    return Query(site, first, last, start, end, segment)


def segment_params(args) -> tuple[str | None, dict[str, str]]:
    """``locale`` (one of LOCALES) and the ``trait`` filters as {name: value}; empty ones are no filter."""
    locale = args.get("locale") or None
    if locale is not None and locale not in LOCALES:
        raise ApiError(f"'locale' must be one of {', '.join(LOCALES)}", 400, "bad_locale", {"locales": ", ".join(LOCALES)})
    raw = [t.strip() for t in (args.getlist("trait") if hasattr(args, "getlist") else [args.get("trait")])
           if isinstance(t, str) and t.strip()]
    traits: dict[str, str] = {}
    for text in raw:
        name, colon, value = (part.strip() for part in text.partition(":"))
        if len(raw) > MAX_TRAITS or not (colon and name and value) or len(text) > MAX_TEXT_PARAM or name in traits:
            raise ApiError(f"each 'trait' is name:value (plan:pro), a name at most once, at most {MAX_TRAITS} of them "
                           f"and {MAX_TEXT_PARAM} characters each; got {text[:50]!r}", 400, "bad_trait",
                           {"most": MAX_TRAITS, "chars": MAX_TEXT_PARAM})
        traits[name] = value
    return locale, traits


def trait_choices(site: str) -> list[str]:
    """The ``name:value`` pairs the filter form offers for ``site``."""
    return known_traits(db(), site)


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


def step_titles(site: str) -> dict[tuple[str, str], str]:
    """(tour id, step id) -> the step's title in the desk's language, for the tours the content shows
    on ``site`` (events may name another site's tour: its titles are not told). A step keeps its id
    across versions, so older versions are named by the current text."""

    lang = current_lang()
    return {(tour.id, step.id): pick(step.title, lang) or "" for tour in tours().tours.values()
            if visible_to(tour.sites, site) for step in tour.steps}


def with_titles(site: str, items: list[dict]) -> list[dict]:
    """``items`` (each with ``tour`` and ``step`` ids) with ``step_title`` beside ``step`` ("" when unknown)."""
    titles = step_titles(site)
    for item in items:
        item["step_title"] = titles.get((item.get("tour"), item.get("step")), "")
    return items


def overview(q: Query) -> dict:
    return overview_figures.overview(db(), q.site, q.start, q.end, hints=hint_ids(), encoder_for_locale=encoder_for_locale,
                                     minutes=current_app.config["RESOLUTION_MINUTES"], segment=q.segment)


def funnels(q: Query) -> list[dict]:
    """Funnels of the tours users started, one per version with the steps and titles that version had
    when it was served (``tour_versions``), else with every step the current content defines; both
    only for tours the current content gives the site (events may name any tour: another site's
    steps are never added to them); no hints."""
    mine = {tour.id for tour in tours().tours.values() if visible_to(tour.sites, q.site) and tour.kind != "hint"}
    recorded = {key: steps for key, steps in services().tours.recorded().items() if key[0] in mine}
    defined = {(tour.id, tour.version): [step.id for step in tour.steps] for tour in tours().tours.values()
               if tour.id in mine}
    found = tour_figures.tour_funnels(db(), q.site, q.start, q.end, defined=defined, hints=hint_ids(),
                                      segment=q.segment,
                                      recorded={key: [s["id"] for s in steps] for key, steps in recorded.items()})
    titles = step_titles(q.site)
    for funnel in found:
        then = version_titles(recorded.get((funnel["tour"], funnel["version"]), []))
        for step in funnel["steps"]:
            step["step_title"] = then.get(step["step"]) or titles.get((funnel["tour"], step["step"]), "")
    return found


def version_titles(steps: list[dict]) -> dict[str, str]:
    """Step id -> its title in the desk's language, from the steps a tour version was recorded with."""

    lang = current_lang()
    return {s["id"]: pick(s["title"], lang) or "" for s in steps}


def hints(q: Query) -> list[dict]:
    """Per hint: people who saw it, closed it and acknowledged it; every hint the site's content
    serves has a row (drafts do not)."""
    listed = [tour.id for tour in tours().tours.values()
              if tour.kind == "hint" and not tour.draft and visible_to(tour.sites, q.site)]
    return tour_figures.hint_figures(db(), q.site, q.start, q.end, hint_ids(), listed=listed, segment=q.segment)


def stuck_points(q: Query, limit: int = 50) -> list[dict]:
    return with_titles(q.site, tour_figures.stuck_points(db(), q.site, q.start, q.end, limit=limit, hints=hint_ids(),
                                                 segment=q.segment))


def broken_targets(sites: list[str], now: float | None = None) -> list[dict]:
    """The steps of ``sites`` whose target was missing for too many people over the last
    TARGET_MISSING_HOURS (not the desk's dates: it says what is broken now), with their selectors.
    No segment: a selector is broken for everyone."""
    cfg = current_app.config
    end = time.time() if now is None else now
    targets = {(tour.id, step.id): step.target for tour in tours().tours.values() for step in tour.steps}
    return target_figures.broken_targets(db(), sites, end - cfg["TARGET_MISSING_HOURS"] * 3600, end,
                                         cfg["TARGET_MISSING_ALERT"], cfg["TARGET_MISSING_MIN_PEOPLE"], targets)


def step_users(q: Query, tour: str, version: int, step: str, dropped_only: bool = False) -> list[dict]:
    """Who reached the step, those who dropped there first (only them with ``dropped_only``)."""
    users = tour_figures.step_users(db(), q.site, q.start, q.end, tour, version, step, segment=q.segment)
    return [u for u in users if u["status"] != "completed"] if dropped_only else users


def user_timeline(site: str, user: str) -> list[dict]:
    return with_titles(site, tour_figures.user_timeline(db(), site, user))


def user_profile(site: str, user: str) -> dict:
    return people.profile(db(), site, user)


def find_person(site: str, app_id: str, anonymous: bool = False) -> str | None:
    """The stored pseudonym of the app's own user id (or of a browser's anonymous id), pseudonymised
    with the site's key as ingest does; None when the site has nothing of that person."""
    stored = stored_person(site, None, app_id) if anonymous else stored_id(site, app_id)
    return stored if people.known(db(), site, stored) else None


def faq_titles() -> dict[str, str]:
    try:
        return search().titles()
    except IndexUnavailable:
        return {}


def faq_feedback(q: Query) -> list[dict]:
    return chat_figures.faq_feedback(db(), q.site, q.start, q.end, faq_titles(), segment=q.segment)


def question_outcomes(q: Query) -> list[outcome_figures.Asked]:
    """Every question of the period with what followed it and its resolution."""
    return outcome_figures.question_outcomes(db(), q.site, q.start, q.end, encoder_for_locale,
                                             current_app.config["RESOLUTION_MINUTES"],
                                             segment=q.segment)


def work_groups(q: Query) -> list[dict]:
    """The questions to work on (every unresolved one) grouped by meaning, with what the bot did."""
    return outcome_figures.work_groups(question_outcomes(q), encoder_for_locale, faq_titles())


def onboarding(q: Query) -> list[dict]:
    # weeks in the desk's time zone
    return overview_figures.onboarding(db(), q.site, q.start, q.end, tz=zone(), segment=q.segment)


def nps(q: Query) -> dict:
    return overview_figures.nps(db(), q.site, q.start, q.end, tz=zone(), segment=q.segment)


def escalations(q: Query, escalation_id: str | None = None) -> list[dict]:
    """The site's escalations of the period, newest first (or the one named by ``id``)."""
    return escalation_figures.listing(db(), q.site, q.start, q.end, escalation_id, segment=q.segment)


def alerts(q: Query) -> list[dict]:
    """The alerts and digests sent to the site's CS team in the period, newest first."""
    return alert_figures.listing(db(), q.site, q.start, q.end)
