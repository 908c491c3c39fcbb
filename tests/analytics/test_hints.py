"""Hints (kind: hint) are figured as hints: not in tour funnels, starts or drop-off, and on the stuck
list only with real stuck signals. Events go in through the real ingest API."""

import itertools

import pytest

from guide_server.analytics import overview, tours
from guide_server.events.ingest import ingest

KEY = b"hints-key"
T0 = 1793577600.0  # 2026-11-02 00:00 UTC
START, END = T0, T0 + 7 * 86400
NOW = END + 3600
HINT, TOUR = "export-hint", "first-invoice"
HINTS = {HINT}
_ids = itertools.count()


def ev(kind: str, at: float, tour: str, step: str | None = None, index: int | None = None, **props) -> dict:
    body = {"id": f"hint-{next(_ids):05d}", "type": kind, "at": at * 1000, "tour": tour, "version": 1, "props": props}
    if step is not None:
        body["step"] = step
    if index is not None:
        body["step_index"] = index
    return body


def add(engine, user: str, *evs) -> None:
    out = ingest(engine, KEY, "demo", {"user": user, "events": list(evs)}, now=NOW)
    assert out["accepted"] == len(evs) and not out["rejected"], out


def seen_hint(engine, user: str, at: float, end: str | None = None, *extra) -> None:
    """``user`` is shown the hint; ``end``: closed with × ("dismissed"), OK ("completed") or left be (None)."""
    evs = [ev("tour_started", at, HINT, "csv", 0), ev("step_shown", at, HINT, "csv", 0), *extra]
    if end is not None:
        evs.append(ev(f"tour_{end}", at + 5, HINT, "csv", 0))
    add(engine, user, *evs)


def a_tour(engine) -> None:
    """A real tour: three users start, one completes; step b is where two of them drop off."""
    t = T0 + 3600
    for n, user in enumerate(("t1", "t2", "t3")):
        evs = [ev("tour_started", t + n, TOUR), ev("step_shown", t + n, TOUR, "a", 0),
               ev("step_completed", t + n + 5, TOUR, "a", 0), ev("step_shown", t + n + 6, TOUR, "b", 1)]
        if user == "t1":
            evs += [ev("step_completed", t + n + 9, TOUR, "b", 1), ev("tour_completed", t + n + 10, TOUR)]
        else:
            evs.append(ev("idle", t + n + 40, TOUR, "b", seconds=30))
        add(engine, user, *evs)


@pytest.fixture
def passive_hint(engine):
    """Ten people see the hint; nobody clicks its OK: four close it, six leave it be."""
    a_tour(engine)
    for n in range(10):
        seen_hint(engine, f"h{n}", T0 + 7200 + n, "dismissed" if n < 4 else None)
    return engine


def test_a_passive_hint_is_no_stuck_point_and_no_funnel(passive_hint):
    points = tours.stuck_points(passive_hint, "demo", START, END, hints=HINTS)
    assert HINT not in {p["tour"] for p in points}
    assert [(p["tour"], p["step"], p["kind"]) for p in points][0] == (TOUR, "b", "tour")  # the real problem on top
    funnels = tours.tour_funnels(passive_hint, "demo", START, END, hints=HINTS)
    assert [f["tour"] for f in funnels] == [TOUR]
    # without knowing it is a hint, it would top the list with 100 % drop-off: what issue 14 was about
    blind = tours.stuck_points(passive_hint, "demo", START, END)
    assert (blind[0]["tour"], blind[0]["dropoff"]) == (HINT, 1.0)


def test_a_hint_with_rage_clicks_while_shown_is_a_stuck_point(passive_hint):
    at = T0 + 9000
    seen_hint(passive_hint, "r1", at, None, ev("rage_click", at + 2, HINT, "csv", count=3, selector="button#export-csv"))
    seen_hint(passive_hint, "r2", at + 10, "completed", ev("rage_click", at + 12, HINT, "csv", count=3, selector="a"))
    points = tours.stuck_points(passive_hint, "demo", START, END, hints=HINTS)
    hint = next(p for p in points if p["tour"] == HINT)
    assert (hint["kind"], hint["step"], hint["reached"], hint["completed"]) == ("hint", "csv", 12, 1)
    assert hint["dropoff"] is None and hint["signals"]["rage_click"] == 2
    # 12 people saw it, 2 rage-clicked: only the signals count, no drop-off
    assert hint["score"] == pytest.approx(100 * 12 / 17 * (0.5 * 2 / 12), abs=0.051)  # 5.9
    assert points[0]["tour"] == TOUR  # still below the tour step where people stalled


def test_a_question_asked_while_a_hint_is_shown_makes_it_a_stuck_point(passive_hint):
    seen_hint(passive_hint, "q1", T0 + 9000, None, ev("question_asked", T0 + 9003, HINT, "csv", 0, question_id="hq1"))
    hint = next(p for p in tours.stuck_points(passive_hint, "demo", START, END, hints=HINTS) if p["tour"] == HINT)
    assert hint["signals"]["question_asked"] == 1 and hint["score"] > 0


def test_hint_figures_count_people_who_saw_closed_acknowledged_and_clicked_through(passive_hint):
    seen_hint(passive_hint, "k1", T0 + 9000, "completed")  # a widget from before `via`: its OK
    seen_hint(passive_hint, "k2", T0 + 9100, None, ev("tour_completed", T0 + 9105, HINT, "csv", 0, via="button"))
    seen_hint(passive_hint, "k2", T0 + 9200, "completed")  # the same person on another page: once
    seen_hint(passive_hint, "late", END + 10, "completed")  # after the range
    # did what the hint's step asks (clicked its target): a click through, not an OK
    seen_hint(passive_hint, "c1", T0 + 9300, None, ev("tour_completed", T0 + 9305, HINT, "csv", 0, via="action"))
    rows = tours.hint_figures(passive_hint, "demo", START, END, HINTS, listed=[HINT, "not-a-hint"])
    assert rows == [{"hint": HINT, "seen": 13, "dismissed": 4, "acknowledged": 2, "clicked_through": 1}]  # a tour is never a hint row
    rows = tours.hint_figures(passive_hint, "demo", START, END, HINTS | {"never-shown"}, listed=[HINT, "never-shown"])
    assert [r["hint"] for r in rows] == [HINT, "never-shown"] and rows[1]["seen"] == 0
    assert tours.hint_figures(passive_hint, "demo", START, END, ()) == []
    assert tours.hint_figures(passive_hint, "other-site", START, END, HINTS) == []


def test_the_overview_counts_tour_starts_without_hint_starts(passive_hint):
    seen_hint(passive_hint, "k1", T0 + 9000, "completed")
    got = overview.overview(passive_hint, "demo", START, END, hints=HINTS)
    assert (got["tours_started"], got["tours_completed"]) == (3, 1)
    assert overview.overview(passive_hint, "demo", START, END)["tours_started"] == 3 + 11  # hints unknown: counted
