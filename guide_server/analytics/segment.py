"""Which people a review figure counts: every one, or a segment (a locale, identified traits).

A ``Segment`` is resolved once per request (``resolve``) into where-clauses that each analytics
function adds to its own: ``on_questions`` for the chat's question log, ``on_events`` for widget
events, ``on_users`` for any table with a ``user_id`` column. ``EVERYONE`` adds nothing, so a
figure without a segment reads exactly as before.

Questions carry their own locale; events do not, so for events a locale is the users whose last
known locale (``user_traits.locale``, sent by identify and the widget) is that locale. Traits
(``plan=pro``, ``role=admin``) match the identified traits of ``user_traits``: anonymous people
have none, so a trait filter leaves them out.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Engine

from ..db.schema import user_traits


@dataclass(frozen=True)
class Segment:
    locale: str | None = None
    traits: tuple[tuple[str, str], ...] = ()  # (name, value) pairs, all must match
    users: frozenset[str] | None = field(default=None, compare=False)  # resolved pseudonyms; None: no user filter

    @property
    def everyone(self) -> bool:
        return self.locale is None and not self.traits

    def on_questions(self, table) -> tuple:
        """Where-clauses for a table shaped like ``questions`` (``locale`` and ``user_id`` columns)."""
        clauses = []
        if self.locale is not None:
            clauses.append(table.c.locale == self.locale)
        if self.traits:
            clauses.append(table.c.user_id.in_(self._people()))
        return tuple(clauses)

    def on_users(self, table) -> tuple:
        """Where-clauses for any table with a ``user_id`` column (events, escalations, progress)."""
        if self.everyone:
            return ()
        return (table.c.user_id.in_(self._people()),)

    def _people(self):
        # written into the SQL, not one bound parameter each: a segment may hold more people than a
        # database takes parameters (PostgreSQL 65,535); the pseudonyms come from our own table
        return bindparam(None, sorted(self.users or ()), expanding=True, literal_execute=True)

    on_events = on_users

    def params(self) -> dict[str, str | list[str]]:
        """The segment as desk URL parameters (``locale``, ``trait``=name:value, repeated)."""
        out: dict[str, str | list[str]] = {}
        if self.locale:
            out["locale"] = self.locale
        if self.traits:
            out["trait"] = [f"{name}:{value}" for name, value in self.traits]
        return out


EVERYONE = Segment()


def trait_matches(traits: Mapping, name: str, value: str) -> bool:
    """A stored trait equals the filter's text (numbers and booleans as JSON writes them; a list
    matches when it holds the value)."""
    if name not in traits:
        return False
    got = traits[name]
    if isinstance(got, list):
        return any(_text(x) == value for x in got)
    return _text(got) == value


def _text(value) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def known_traits(engine: Engine, site: str, limit: int = 100, longest: int = 60) -> list[str]:
    """The ``name:value`` pairs the site's identified users have, most common first (at most
    ``limit``, none longer than ``longest``): what the desk's filter offers."""
    with engine.connect() as conn:
        stored = conn.execute(select(user_traits.c.traits).where(user_traits.c.site == site)).scalars().all()
    seen: Counter = Counter()
    for text in stored:
        for name, value in json.loads(text or "{}").items():
            for one in value if isinstance(value, list) else [value]:
                pair = f"{name}:{_text(one)}"
                if len(pair) <= longest:
                    seen[pair] += 1
    return [pair for pair, _ in sorted(seen.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]]


def resolve(engine: Engine, site: str, locale: str | None = None,
            traits: Mapping[str, str] | None = None) -> Segment:
    """The segment with its people: the site's users matching ``traits`` and, for events, ``locale``."""
    pairs = tuple(sorted((traits or {}).items()))
    if locale is None and not pairs:
        return EVERYONE
    with engine.connect() as conn:
        rows = conn.execute(select(user_traits.c.user_id, user_traits.c.traits, user_traits.c.locale)
                            .where(user_traits.c.site == site)).all()
    users = set()
    for r in rows:
        if locale is not None and r.locale != locale:
            continue
        stored = json.loads(r.traits or "{}")
        if all(trait_matches(stored, k, v) for k, v in pairs):
            users.add(r.user_id)
    return Segment(locale=locale, traits=pairs, users=frozenset(users))
