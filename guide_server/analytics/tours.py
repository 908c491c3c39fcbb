"""Review figures about tours: funnels per step, the ranked stuck points, and who was where;
and about hints (light popups), which are not tours: nobody has to click their OK.

Every figure is computed from the events whose client time ``at`` is in ``[start, end)``. The
events do not say whether a tour id is a tour or a hint: callers pass ``hints``, the ids the
content defines with ``kind: hint``.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from statistics import median

from sqlalchemy import select
from sqlalchemy.engine import Engine

from ..db.schema import events, questions
from ..events.types import SIGNALS
from .segment import EVERYONE, Segment

FUNNEL_TYPES = ("step_shown", "step_completed", "tour_completed", "tour_dismissed")

# How much each stuck signal adds to a step's score, per user who showed it (see stuck_points).
SIGNAL_WEIGHTS = {"question_asked": 1.0, "target_missing": 1.0, "rage_click": 0.5, "back_forth": 0.5,
                  "idle": 0.5, "chat_opened": 0.5, "page_left": 0.25}
# The signals that put a hint on the stuck list: closing a hint or leaving it be is no drop-off,
# and a hint has no next step to wait for.
HINT_SIGNALS = ("idle", "rage_click", "back_forth", "question_asked")
HINT_TYPES = ("step_shown", "tour_dismissed", "tour_completed")
SCORE_DAMPING = 5  # users: a step seen by n users keeps n / (n + 5) of its score
QUESTIONS_PER_STEP = 20

StepKey = tuple[str, int, str]  # tour, version, step id


def _rows(engine: Engine, site: str, start: float, end: float, types, tour: str | None = None,
          segment: Segment = EVERYONE):
    q = select(events.c.type, events.c.user_id, events.c.at, events.c.tour_id, events.c.version, events.c.step_id,
               events.c.step_index, events.c.props).where(
        events.c.site == site, events.c.at >= start, events.c.at < end, events.c.type.in_(types),
        events.c.tour_id.is_not(None), *segment.on_events(events))
    if tour is not None:
        q = q.where(events.c.tour_id == tour)
    with engine.connect() as conn:
        return conn.execute(q.order_by(events.c.at, events.c.id)).all()


@dataclass
class _Visit:
    """One user's way through one step of one tour version."""

    shown_at: float
    completed: bool = False
    advanced_at: float | None = None  # first step_completed of this step, or first later step shown
    dismissed: bool = False


@dataclass
class _Funnel:
    steps: dict[int, str] = field(default_factory=dict)  # step index -> step id
    visits: dict[int, dict[str, _Visit]] = field(default_factory=lambda: defaultdict(dict))  # index -> user -> visit


def _funnels(rows) -> dict[tuple[str, int], _Funnel]:
    by_tour: dict[tuple[str, int], _Funnel] = defaultdict(_Funnel)
    later: dict[tuple[str, int, str], list] = defaultdict(list)  # (tour, version, user) -> completions/shows
    for r in rows:
        f = by_tour[(r.tour_id, r.version)]
        if r.type == "step_shown" and r.step_index is not None:
            f.steps.setdefault(r.step_index, r.step_id)
            f.visits[r.step_index].setdefault(r.user_id, _Visit(r.at))
        later[(r.tour_id, r.version, r.user_id)].append(r)
    for (tour, version, user), seen in later.items():
        f = by_tour[(tour, version)]
        for index, users in f.visits.items():
            visit = users.get(user)
            if visit is None:
                continue
            for r in seen:
                if r.at < visit.shown_at:
                    continue
                advanced = ((r.type == "step_completed" and r.step_index == index)
                            or (r.type == "step_shown" and r.step_index is not None and r.step_index > index)
                            or r.type == "tour_completed")
                if advanced and not visit.completed:
                    visit.completed = True
                    if r.type != "tour_completed":
                        visit.advanced_at = r.at
                if r.type == "tour_dismissed" and r.step_index == index and not visit.completed:
                    visit.dismissed = True
    return by_tour


def _step_figures(step_index: int, step_id: str, visits: dict[str, _Visit]) -> dict:
    reached = len(visits)
    completed = sum(v.completed for v in visits.values())
    waits = [v.advanced_at - v.shown_at for v in visits.values() if v.advanced_at is not None]
    return {"step": step_id, "step_index": step_index, "reached": reached, "completed": completed,
            "dropoff": round(1 - completed / reached, 4) if reached else None,
            "median_advance_s": round(median(waits), 3) if waits else None}


def tour_funnels(engine: Engine, site: str, start: float, end: float, tour: str | None = None,
                 defined: dict[tuple[str, int], list[str]] | None = None, hints: Collection[str] = (),
                 segment: Segment = EVERYONE, recorded: dict[tuple[str, int], list[str]] | None = None) -> list[dict]:
    """Per tour version and step: users who reached it, completed it, drop-off, median seconds to advance.

    "Completed" means the user was later shown a further step, sent step_completed for it or
    completed the tour; the time to advance is measured on the user's own clock, from the first
    time the step was shown to the first advance. ``defined`` gives the step ids of tour versions
    as the content defines them: a defined step nobody reached gets a row with 0 users, so a funnel
    shows where everyone stopped. A tour version nobody started in the range gets no funnel, and
    the ids in ``hints`` get none either (see ``hint_figures``). ``segment``: whose events count.
    ``recorded``: the step ids each version had when it was served (``tour_versions``), which name
    the steps before the events and ``defined`` do.
    """
    out = []
    rows = _rows(engine, site, start, end, FUNNEL_TYPES, tour, segment)
    for (tour_id, version), f in sorted(_funnels(rows).items()):
        if not f.steps or tour_id in hints:
            continue
        names = {**f.steps, **dict(enumerate((recorded or {}).get((tour_id, version), [])))}
        for index, step_id in enumerate((defined or {}).get((tour_id, version), [])):
            names.setdefault(index, step_id)
        out.append({"tour": tour_id, "version": version,
                    "steps": [_step_figures(i, names[i], f.visits.get(i, {})) for i in sorted(names)]})
    return out


def _question_links(rows) -> dict[str, StepKey]:
    """Question id -> the step it was asked on, from the widget's question_asked events."""
    links: dict[str, StepKey] = {}
    for r in rows:
        if r.type == "question_asked" and r.step_id is not None:
            qid = json.loads(r.props).get("question_id")
            if qid:
                links[qid] = (r.tour_id, r.version, r.step_id)
    return links


def _linked_questions(engine: Engine, site: str, start: float, end: float, links: dict[str, StepKey],
                      versions: dict[tuple[str, str], int], segment: Segment = EVERYONE) -> dict[StepKey, list[dict]]:
    """Questions asked on each step: linked by a question_asked event, else by the ask's tour/step context."""
    q = select(questions.c.id, questions.c.question, questions.c.outcome, questions.c.created_at, questions.c.locale,
               questions.c.tour_id, questions.c.step_id, questions.c.user_id, questions.c.top_faq_id).where(
        questions.c.site == site, questions.c.created_at >= start, questions.c.created_at < end,
        *segment.on_questions(questions))
    with engine.connect() as conn:
        rows = conn.execute(q).all()
    out: dict[StepKey, list[dict]] = defaultdict(list)
    for r in rows:
        key = links.get(r.id)
        if key is None and r.tour_id and r.step_id:
            version = versions.get((r.tour_id, r.step_id))
            key = (r.tour_id, version, r.step_id) if version is not None else None
        if key is not None:
            out[key].append({"id": r.id, "question": r.question, "outcome": r.outcome, "faq_id": r.top_faq_id,
                             "at": r.created_at, "user": r.user_id, "locale": r.locale})
    return out


def stuck_points(engine: Engine, site: str, start: float, end: float, limit: int = 50,
                 hints: Collection[str] = (), segment: Segment = EVERYONE) -> list[dict]:
    """Tour steps ranked by how stuck users got there (highest ``score`` first).

    For a step seen by ``n`` users (at least those who sent a signal on it)::

        score = 100 * n / (n + 5) * (dropoff + sum(w[s] * users_with[s] / n for each signal s))

    with weights w: question_asked 1, target_missing 1, rage_click 0.5, back_forth 0.5, idle 0.5,
    chat_opened 0.5, page_left 0.25. Each term is a share of the users, so one user sending a
    signal many times counts once, and the damping n / (n + 5) keeps a step seen by one or two
    users below a step where many got stuck. ``signals`` counts the events themselves.

    A hint (its tour id in ``hints``, ``kind`` "hint") has no drop-off: closing it without its OK
    is how a hint is read. It is listed only when someone sent one of HINT_SIGNALS while it was
    shown, and only those signals count towards its score.
    """
    rows = _rows(engine, site, start, end, FUNNEL_TYPES + SIGNALS, segment=segment)
    funnels = _funnels(rows)
    steps: dict[StepKey, dict] = {}
    for (tour, version), f in funnels.items():
        for index, step_id in f.steps.items():
            steps[(tour, version, step_id)] = _step_figures(index, step_id, f.visits[index])
    counts: dict[StepKey, Counter] = defaultdict(Counter)
    users: dict[StepKey, dict[str, set]] = defaultdict(lambda: defaultdict(set))
    links = _question_links(rows)
    for r in rows:
        if r.type not in SIGNALS or r.step_id is None:
            continue
        key = (r.tour_id, r.version, r.step_id)
        counts[key][r.type] += 1
        users[key][r.type].add(r.user_id)
    versions = {}
    for tour, version, step_id in sorted(steps):  # the highest version wins for unlinked questions
        versions[(tour, step_id)] = version
    asked = _linked_questions(engine, site, start, end, links, versions, segment)
    for key, found in asked.items():  # questions the widget did not report as events count too
        reported = {q["id"] for q in found} & {qid for qid, k in links.items() if k == key}
        extra = len(found) - len(reported)
        if extra > 0:
            counts[key]["question_asked"] += extra
            users[key]["question_asked"].update(q["user"] or f"question:{q['id']}" for q in found
                                                if q["id"] not in reported)
    out = []
    for key in set(steps) | set(counts) | set(asked):
        tour, version, step_id = key
        fig = steps.get(key) or {"step": step_id, "step_index": None, "reached": 0, "completed": 0,
                                 "dropoff": None, "median_advance_s": None}
        stuck = users[key]
        if tour in hints:
            stuck = {s: u for s, u in stuck.items() if s in HINT_SIGNALS and u}
            if not stuck:
                continue
            fig = {**fig, "dropoff": None, "median_advance_s": None}
        signal_users = set().union(*stuck.values()) if stuck else set()
        n = max(fig["reached"], len(signal_users))
        load = sum(SIGNAL_WEIGHTS[s] * len(u) for s, u in stuck.items()) / n if n else 0.0
        score = 100 * n / (n + SCORE_DAMPING) * ((fig["dropoff"] or 0.0) + load) if n else 0.0
        found = sorted(asked.get(key, []), key=lambda q: -q["at"])[:QUESTIONS_PER_STEP]
        out.append({"tour": tour, "kind": "hint" if tour in hints else "tour", "version": version, **fig,
                    "signals": {s: counts[key][s] for s in SIGNALS}, "score": round(score, 1),
                    "questions": [{k: q[k] for k in ("id", "question", "locale", "outcome", "faq_id", "at")}
                                  for q in found]})
    out.sort(key=lambda s: (-s["score"], -s["reached"], s["tour"], s["version"], s["step_index"] or 0, s["step"]))
    return out[:limit]


def hint_figures(engine: Engine, site: str, start: float, end: float, hints: Collection[str],
                 listed: Collection[str] = (), segment: Segment = EVERYONE) -> list[dict]:
    """Per hint (all versions), distinct people who saw it, closed it (× or Escape), acknowledged it
    (its OK) and clicked through (did what its step asks, e.g. clicked its target).

    Seen is ``step_shown``, closed ``tour_dismissed``; a ``tour_completed`` on the hint is a click
    through when the widget says ``via: action``, else (``via: button``, or a widget from before
    ``via``) an acknowledgement; one person may do several on different pages. A hint in ``listed`` (those the content shows
    on the site) gets a row even when nobody saw it; the rows are in hint id order.
    """
    if not hints:
        return []
    q = select(events.c.type, events.c.tour_id, events.c.user_id, events.c.props).where(
        events.c.site == site, events.c.at >= start, events.c.at < end, events.c.type.in_(HINT_TYPES),
        events.c.tour_id.in_(list(hints)), *segment.on_events(events))
    with engine.connect() as conn:
        rows = conn.execute(q).all()
    people: dict[str, dict[str, set]] = defaultdict(lambda: defaultdict(set))
    for r in rows:
        kind = r.type
        if kind == "tour_completed" and json.loads(r.props or "{}").get("via") == "action":
            kind = "clicked_through"
        people[r.tour_id][kind].add(r.user_id)
    return [{"hint": hint, "seen": len(people[hint]["step_shown"]), "dismissed": len(people[hint]["tour_dismissed"]),
             "acknowledged": len(people[hint]["tour_completed"]),
             "clicked_through": len(people[hint]["clicked_through"])}
            for hint in sorted(set(people) | (set(listed) & set(hints)))]


def step_users(engine: Engine, site: str, start: float, end: float, tour: str, version: int, step: str,
               segment: Segment = EVERYONE) -> list[dict]:
    """The users who reached one step: when, how it ended (completed, dismissed, dropped), their signals
    and the questions they asked there. Those who did not complete it come first, newest first within each."""
    rows = _rows(engine, site, start, end, FUNNEL_TYPES + SIGNALS, tour, segment)
    f = _funnels(r for r in rows if r.version == version).get((tour, version))
    visits = {}
    if f is not None:
        visits = next((f.visits[i] for i, s in f.steps.items() if s == step), {})
    signals: dict[str, Counter] = defaultdict(Counter)
    for r in rows:
        if r.type in SIGNALS and r.version == version and r.step_id == step:
            signals[r.user_id][r.type] += 1
    key = (tour, version, step)
    asked: dict[str, list[dict]] = defaultdict(list)
    found = _linked_questions(engine, site, start, end, _question_links(rows), {(tour, step): version}, segment)
    for q in sorted(found.get(key, []), key=lambda q: q["at"]):
        if q["user"]:
            asked[q["user"]].append({k: q[k] for k in ("at", "question", "outcome", "faq_id")})
    out = []
    for user in set(visits) | set(signals) | set(asked):
        v = visits.get(user)
        status = "completed" if v and v.completed else "dismissed" if v and v.dismissed else "dropped"
        out.append({"user": user, "reached_at": v.shown_at if v else None, "status": status,
                    "signals": dict(signals.get(user, {})), "questions": asked.get(user, [])})
    out.sort(key=lambda u: (u["status"] == "completed", -(u["reached_at"] or 0), u["user"] or ""))
    return out


def _detail(props: dict) -> str:
    text = ", ".join(f"{k}={v}" for k, v in props.items())
    return text if len(text) <= 200 else text[:199] + "…"


def user_timeline(engine: Engine, site: str, user_pseudonym: str, limit: int = 1000) -> list[dict]:
    """One user's events and questions, oldest first (the last ``limit`` of them)."""
    with engine.connect() as conn:
        evs = conn.execute(select(events.c.at, events.c.type, events.c.tour_id, events.c.step_id, events.c.url,
                                  events.c.props).where(events.c.site == site, events.c.user_id == user_pseudonym)
                           .order_by(events.c.at.desc(), events.c.id.desc()).limit(limit)).all()[::-1]
        qs = conn.execute(select(questions.c.created_at, questions.c.question, questions.c.outcome, questions.c.tour_id,
                                 questions.c.step_id).where(questions.c.site == site,
                                                            questions.c.user_id == user_pseudonym)
                          .order_by(questions.c.created_at.desc()).limit(limit)).all()[::-1]
    items = [{"at": e.at, "type": e.type, "tour": e.tour_id, "step": e.step_id, "url": e.url,
              "detail": _detail(json.loads(e.props))} for e in evs]
    items += [{"at": q.created_at, "type": "question", "tour": q.tour_id, "step": q.step_id, "url": None,
               "detail": f"{q.question} ({q.outcome})"} for q in qs]
    items.sort(key=lambda i: i["at"])  # stable: events in the order stored, each before a question of the same time
    return items[-limit:]
