"""Segments (analytics/segment.py): who a trait or a locale names, what the desk's filter offers,
and that a segment of many people still reads (their ids are written into the SQL)."""

from __future__ import annotations

import json

from sqlalchemy import insert, select

from guide_server.analytics.segment import EVERYONE, known_traits, resolve
from guide_server.db.schema import events, user_traits

PEOPLE = {"p1": ({"plan": "pro", "roles": ["admin", "billing"], "seats": 10, "trial": False}, "ja"),
          "p2": ({"plan": "pro", "roles": ["viewer"]}, "en"),
          "p3": ({"plan": "free"}, "ja"),
          "p4": ({}, None)}


def _people(engine, people=PEOPLE, site="demo"):
    with engine.begin() as conn:
        conn.execute(insert(user_traits), [{"site": site, "user_id": u, "traits": json.dumps(t), "locale": loc,
                                            "updated_at": 1.0} for u, (t, loc) in people.items()])


def test_traits_and_locale_name_their_people(engine):
    _people(engine)
    _people(engine, {"p1": ({"plan": "free"}, "en")}, site="other")  # another site's p1 is another person
    assert resolve(engine, "demo") is EVERYONE
    assert resolve(engine, "demo", traits={"plan": "pro"}).users == {"p1", "p2"}
    assert resolve(engine, "demo", traits={"roles": "billing"}).users == {"p1"}  # a list holds the value
    assert resolve(engine, "demo", traits={"seats": "10", "trial": "false"}).users == {"p1"}  # as JSON writes them
    assert resolve(engine, "demo", "ja", {"plan": "pro"}).users == {"p1"}
    assert resolve(engine, "demo", "en").users == {"p2"}
    assert resolve(engine, "demo", traits={"plan": "enterprise"}).users == frozenset()
    assert resolve(engine, "demo", traits={"plan": "pro"}).params() == {"trait": ["plan:pro"]}


def test_the_filter_offers_the_most_common_pairs_first(engine):
    _people(engine)
    offered = known_traits(engine, "demo")
    assert offered[0] == "plan:pro" and {"roles:admin", "seats:10", "trial:false", "plan:free"} <= set(offered)
    assert known_traits(engine, "demo", limit=1) == ["plan:pro"] and known_traits(engine, "nowhere") == []


def test_a_segment_of_many_people_still_reads(engine):
    many = {f"u{n:06d}": ({"plan": "bulk"}, "ja") for n in range(250_001)}  # more than SQLite (250,000) takes parameters
    _people(engine, many)
    with engine.begin() as conn:
        conn.execute(insert(events), [{"event_id": f"e{n}", "site": "demo", "user_id": f"u{n:06d}", "type": "chat_opened",
                                       "at": 5.0, "received_at": 5.0, "props": "{}"} for n in (1, 250_000)])
    segment = resolve(engine, "demo", traits={"plan": "bulk"})
    with engine.connect() as conn:
        found = conn.execute(select(events.c.user_id).where(*segment.on_events(events))).scalars().all()
    assert sorted(found) == ["u000001", "u250000"]
