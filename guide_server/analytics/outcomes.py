"""What became of each chat question: what the bot did (answered, suggested, no answer), what the
person did next (opened the source or a suggestion, 👍/👎, asked again, wrote to support), and
whether that resolved it (docs/review-desk.md, "Chat outcomes and the resolution rate").

A question is **confirmed** resolved by a 👍, or by opening the cited FAQ or a suggestion without
asking the same again within the window; **assumed** resolved when it was answered and nothing
followed (no vote, no click, no re-ask, no escalation); otherwise **unresolved**, with its reasons.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.engine import Engine

from ..db.schema import escalations, feedback, questions
from ..search.selfcal import CONFIRMED_DAYS
from .chat import MAX_UNANSWERED, after_answers, group_by_meaning, group_threshold, normalise
from .segment import EVERYONE, Segment

# Why a question is unresolved, in the order the desk lists them.
REASONS = ("no_answer", "none_opened", "not_helpful", "reasked", "escalated")
RESOLUTIONS = ("confirmed", "assumed", "unresolved")


@dataclass
class Asked:
    """One question of the chat's log and what followed it."""

    id: str
    created_at: float
    question: str
    locale: str
    outcome: str  # answered | suggested | no_answer
    faq_id: str | None  # the FAQ given as the answer, or the first suggestion
    confidence: float
    url: str | None
    user: str | None
    opened: list[dict] = field(default_factory=list)  # {which: source|suggestion, faq_id, rank}
    up: int = 0
    down: int = 0
    escalated: bool = False
    reasked: bool = False
    resolution: str = "assumed"
    reasons: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """As the admin API gives it: ``at`` for the time, the rest by name."""
        out = asdict(self)
        out["at"] = out.pop("created_at")
        return out


def question_outcomes(engine: Engine, site: str, start: float, end: float,
                      encoder_for_locale: Callable[[str], Any] = lambda _: None, minutes: float = 10.0,
                      threshold: float | None = None, segment: Segment = EVERYONE) -> list[Asked]:
    """Every question of ``site`` asked in [start, end), oldest first, with its resolution.

    A re-ask is a later question of the same person within ``minutes`` that means the same: the
    same text (NFKC, case and spaces folded), or a cosine at or above the grouping threshold of the
    locale's encoder (``threshold`` wins). Questions up to ``minutes`` after ``end`` count as re-asks.
    """
    window = minutes * 60.0
    q = questions.c
    with engine.connect() as conn:
        rows = conn.execute(select(q.id, q.created_at, q.question, q.locale, q.outcome, q.top_faq_id, q.confidence,
                                   q.url, q.user_id).where(q.site == site, q.created_at >= start,
                                                           q.created_at < end + window, *segment.on_questions(questions))
                            .order_by(q.created_at, q.id)).all()
        asked = [Asked(r.id, r.created_at, r.question, r.locale, r.outcome, r.top_faq_id, r.confidence, r.url, r.user_id)
                 for r in rows]
        mine = {a.id: a for a in asked if a.created_at < end}
        _add_votes(conn, site, mine, start, end, segment)
        _add_escalations(conn, site, mine, start)
        _add_events(conn, site, mine, start, end + window, segment)
    for a in reask_ids(asked, encoder_for_locale, window, threshold):
        if a in mine:
            mine[a].reasked = True
    for a in mine.values():
        a.resolution, a.reasons = resolve(a)
    return list(mine.values())


def confirmed_answers(engine: Engine, since: float, until: float, limit: int = 2000) -> dict[str, list[tuple[str, str]]]:
    """Per locale, the newest ``limit`` (question, FAQ id) pairs people confirmed in [since, until),
    across every site: a 👍 on an answer (its FAQ), or the FAQ they opened without asking the same
    again. A build fits its answer decision on them too (``search.selfcal``)."""
    with engine.connect() as conn:
        sites = [r[0] for r in conn.execute(select(questions.c.site).where(questions.c.created_at >= since).distinct())]
    found: dict[str, dict[str, tuple[float, str]]] = defaultdict(dict)
    for site in sites:
        for a in question_outcomes(engine, site, since, until):
            faq = a.faq_id if a.up else next((o.get("faq_id") for o in a.opened if o.get("faq_id")), None)
            if a.resolution == "confirmed" and faq and a.outcome != "no_answer":
                found[a.locale][normalise(a.question)] = (a.created_at, a.question, faq)
    return {loc: [(q, f) for _, q, f in sorted(pairs.values(), reverse=True)[:limit]] for loc, pairs in found.items()}


def recent_confirmed(engine: Engine) -> dict[str, list[tuple[str, str]]]:
    """``confirmed_answers`` of the last ``selfcal.CONFIRMED_DAYS``: what a build fits on besides its content."""
    now = time.time()
    return confirmed_answers(engine, now - CONFIRMED_DAYS * 86400, now)


def resolve(a: Asked) -> tuple[str, list[str]]:
    """The resolution of one question and, when unresolved, why (``REASONS``)."""
    hits = {"no_answer": a.outcome == "no_answer", "none_opened": a.outcome == "suggested" and not a.opened,
            "not_helpful": a.down > 0, "reasked": a.reasked, "escalated": a.escalated}
    if a.up and not a.down and not a.escalated and a.outcome != "no_answer":
        hits["reasked"] = hits["none_opened"] = False  # the person said it helped
    reasons = [r for r in REASONS if hits[r]]
    if reasons:
        return "unresolved", reasons
    return ("confirmed" if a.up or a.opened else "assumed"), []


def reask_ids(asked: list[Asked], encoder_for_locale: Callable[[str], Any], window: float,
              threshold: float | None = None) -> set[str]:
    """The ids of the questions (oldest first) that their person asked again, meaning the same,
    within ``window`` seconds."""
    pairs = list(_later_pairs(asked, window))
    same = {(a.id, b.id) for a, b in pairs if normalise(a.question) == normalise(b.question)}
    by_locale: dict[str, list[tuple[Asked, Asked]]] = defaultdict(list)
    for a, b in pairs:
        if (a.id, b.id) not in same:
            by_locale[a.locale].append((a, b))
    for locale, todo in by_locale.items():
        encoder = encoder_for_locale(locale)
        if encoder is None:
            continue
        texts = sorted({x.question for pair in todo for x in pair})
        vectors = np.asarray(encoder.encode_queries(texts), dtype=np.float32)
        at = {text: i for i, text in enumerate(texts)}
        cut = group_threshold(encoder, threshold)
        same |= {(a.id, b.id) for a, b in todo if float(vectors[at[a.question]] @ vectors[at[b.question]]) >= cut}
    return {a for a, _ in same}


def _later_pairs(asked: Iterable[Asked], window: float):
    """(question, a later question of the same person and locale within ``window``)."""
    by_person: dict[tuple, list[Asked]] = defaultdict(list)
    for a in asked:
        if a.user:
            by_person[a.user, a.locale].append(a)
    for mine in by_person.values():
        for i, a in enumerate(mine):
            for b in mine[i + 1:]:
                if b.created_at - a.created_at > window:
                    break
                yield a, b


def _add_votes(conn, site: str, mine: dict[str, Asked], start: float, end: float, segment: Segment) -> None:
    q = questions.c
    votes = conn.execute(select(feedback.c.question_id, feedback.c.helpful)
                         .join(questions, questions.c.id == feedback.c.question_id)
                         .where(q.site == site, q.created_at >= start, q.created_at < end,
                                *segment.on_questions(questions))).all()
    for v in votes:
        a = mine.get(v.question_id)
        if a is not None and v.helpful:
            a.up += 1
        elif a is not None:
            a.down += 1


def _add_escalations(conn, site: str, mine: dict[str, Asked], start: float) -> None:
    e = escalations.c
    for (qid,) in conn.execute(select(e.question_id).where(e.site == site, e.created_at >= start,
                                                           e.question_id.is_not(None))):
        if qid in mine:
            mine[qid].escalated = True


def _add_events(conn, site: str, mine: dict[str, Asked], start: float, end: float, segment: Segment) -> None:
    """What the widget reported after an answer: ``answer_opened`` and ``escalation_taken``."""
    for kind, props in after_answers(conn, site, start, end, ("answer_opened", "escalation_taken"), segment):
        a = mine.get(props.get("question_id"))
        if a is None:
            continue
        if kind == "escalation_taken":
            a.escalated = True
        else:
            a.opened.append({k: props.get(k) for k in ("which", "faq_id", "rank")})


def tally(asked: list[Asked]) -> dict[str, int]:
    """Counts of outcomes, escalations, resolutions and ratings: the overview's chat figures."""
    counts = Counter(a.outcome for a in asked) + Counter(a.resolution for a in asked)
    return {"questions": len(asked), **{k: counts[k] for k in ("answered", "suggested", "no_answer", *RESOLUTIONS)},
            "escalated": sum(a.escalated for a in asked), "up": sum(a.up for a in asked),
            "down": sum(a.down for a in asked)}


def work_groups(asked: list[Asked], encoder_for_locale: Callable[[str], Any],
                titles: dict[str, str] | None = None, threshold: float | None = None) -> list[dict]:
    """The unresolved questions grouped by meaning (``chat.group_by_meaning``), largest first, each
    group with what the bot did: ``reasons`` (count per reason), ``outcomes`` (count per outcome) and
    ``answers`` (per FAQ it answered with: times, highest confidence, 👎 and re-asks). At most the
    MAX_UNANSWERED most recent are grouped (average linkage is quadratic in memory)."""
    todo = sorted((a for a in asked if a.resolution == "unresolved"), key=lambda a: -a.created_at)[:MAX_UNANSWERED]
    by_id = {a.id: a for a in todo}
    groups = group_by_meaning(todo, encoder_for_locale, threshold)
    for g in groups:
        members = [by_id[i] for i in g["question_ids"]]
        g["reasons"] = {r: n for r in REASONS if (n := sum(r in a.reasons for a in members))}
        g["outcomes"] = dict(Counter(a.outcome for a in members))
        g["answers"] = _answers(members, titles or {})
    return groups


def _answers(members: list[Asked], titles: dict[str, str]) -> list[dict]:
    by_faq: dict[str, list[Asked]] = defaultdict(list)
    for a in members:
        if a.outcome == "answered" and a.faq_id:
            by_faq[a.faq_id].append(a)
    out = [{"faq_id": f, "title": titles.get(f), "count": len(xs), "confidence": round(max(a.confidence for a in xs), 2),
            "not_helpful": sum(a.down > 0 for a in xs), "reasked": sum(a.reasked for a in xs)}
           for f, xs in by_faq.items()]
    return sorted(out, key=lambda x: (-x["count"], -x["confidence"], x["faq_id"]))
