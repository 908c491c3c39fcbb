"""The desk's tables: typed columns laid over the figures, so an HTML table, its CSV download and
the JSON answer always show the same numbers; and the CSV itself."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from flask import Response

from ..analytics.outcomes import REASONS
from ..events.types import SIGNALS

# Cells a spreadsheet would run as a formula (OWASP "CSV injection"); tab and CR start one too.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

KINDS = ("text", "code", "int", "num", "pct", "secs", "time", "list")  # code: a value with words in i18n ("v.<value>")

# A CSV's heading is the column's key, in English whatever the desk's language, so BI tools can rely on
# it; these keys read better with another name there. Renaming a CSV column breaks someone's import:
# tests/desk/test_exports.py and docs/review-desk.md list every CSV's columns, change them together.
CSV_NAMES = {"tour": "tour_id", "step": "step_id", "dropoff": "drop_off_rate", "share": "missing_rate",
             "helpful_share": "helpful_rate", "rate": "completion_rate", "hint": "hint_id"}


@dataclass
class Column:
    key: str
    label: str  # an i18n key, "col.<key>" unless told
    kind: str = "text"
    link: bool = False  # the row carries "_link:<key>", a URL for this cell

    @property
    def csv_name(self) -> str:
        """The column's stable English heading in a CSV download."""
        return CSV_NAMES.get(self.key, self.key)


@dataclass
class TableData:
    name: str  # also the CSV file name and the ?table= value
    columns: list[Column]
    rows: list[dict] = field(default_factory=list)


def col(key: str, kind: str = "text", label: str | None = None, link: bool = False) -> Column:
    assert kind in KINDS
    return Column(key, label or f"col.{key}", kind, link)


OVERVIEW_KINDS = {"users": "int", "questions": "int", "answered": "int", "answered_rate": "pct", "suggested": "int",
                  "no_answer": "int",
                  "escalated": "int", "resolution_rate": "pct", "assumed_rate": "pct", "to_work_on": "int",
                  "ratings": "int", "helpful_rate": "pct", "onboarding_rate": "pct", "nps": "num",
                  "tours_started": "int", "tours_completed": "int"}


def overview_table(data: dict) -> TableData:
    """One row, a column per KPI (the contract's keys, in its order; any extra keys after them)."""
    keys = [k for k in OVERVIEW_KINDS if k in data] + [k for k in data if k not in OVERVIEW_KINDS]
    return TableData("overview", [col(k, OVERVIEW_KINDS.get(k, "num"), label=f"kpi.{k}") for k in keys], [data])


def funnel_table(funnels: list[dict]) -> TableData:
    rows = [{"tour": f["tour"], "version": f["version"], **s} for f in funnels for s in f["steps"]]
    return TableData("funnels", [col("tour"), col("version", "int"), col("step_index", "int"), col("step"),
                                 col("step_title"), col("reached", "int"), col("completed", "int"), col("dropoff", "pct"),
                                 col("median_advance_s", "secs")], rows)


def hints_table(hints: list[dict]) -> TableData:
    """Per hint: people who saw it, closed it, acknowledged it, clicked through (analytics.tours.hint_figures)."""
    return TableData("hints", [col("hint"), col("seen", "int"), col("dismissed", "int"), col("acknowledged", "int"),
                               col("clicked_through", "int")],
                     list(hints))


def stuck_table(points: list[dict]) -> TableData:
    rows = []
    for rank, p in enumerate(points, 1):
        rows.append({"rank": rank, **{k: v for k, v in p.items() if k not in ("signals", "questions")},
                     **{f"signal_{s}": p.get("signals", {}).get(s, 0) for s in SIGNALS}})
    return TableData("stuck-points", [
        col("rank", "int"), col("score", "num"), col("tour"), col("version", "int"), col("step", link=True),
        col("step_title"), col("reached", "int"), col("completed", "int"), col("dropoff", "pct"), col("median_advance_s", "secs"),
        *[col(f"signal_{s}", "int") for s in SIGNALS]], rows)


def broken_targets_table(rows: list[dict]) -> TableData:
    """Steps whose selector found nothing for too many people (analytics.targets), one site's."""
    return TableData("broken-targets", [col("tour"), col("step"), col("target"),
                                        col("missing", "int"), col("reached", "int"), col("share", "pct")], list(rows))


def step_users_table(users: list[dict], signal_name: Callable[[str], str] = str,
                     outcome_name: Callable[[str], str] = str) -> TableData:
    """Who reached a step, with their signals and the questions they asked there; the page names signals
    and outcomes in its language, the CSV ("_csv:" wins there) keeps their codes."""
    rows = [{**u, "signals": _signal_list(u.get("signals"), signal_name), "_csv:signals": _signal_list(u.get("signals")),
             "questions": _question_list(u.get("questions"), outcome_name),
             "_csv:questions": _question_list(u.get("questions"))} for u in users]
    return TableData("step-users", [col("user", link=True), col("reached_at", "time"), col("status", "code"),
                                    col("signals", "list"), col("questions", "list")], rows)


def _question_list(asked, outcome_name: Callable[[str], str] = str) -> list[str]:
    """Each question as "text (outcome → FAQ id)"."""
    return [f"{q['question']} ({outcome_name(q['outcome'])}{' → ' + q['faq_id'] if q.get('faq_id') else ''})"
            for q in asked or []]


def questions_table(questions: list[dict], name: str = "step-questions") -> TableData:
    """Questions with what the bot gave: the outcome and the FAQ (the answer, or the first suggestion)."""
    return TableData(name, [col("at", "time"), col("question"), col("outcome", "code"), col("faq_id")], list(questions))


def timeline_table(events: list[dict]) -> TableData:
    rows = [{**e, "detail": _detail(e.get("detail"))} for e in events]
    return TableData("timeline", [col("at", "time"), col("type", "code"), col("tour"), col("step"), col("step_title"),
                                   col("url"), col("detail")], rows)


def user_traits_table(profile: dict) -> TableData:
    """The identified traits of one user, one row each, and their locale (analytics.people)."""
    rows = [{"name": name, "value": value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)}
            for name, value in sorted(profile["traits"].items())]
    return TableData("user-traits", [col("name", label="col.trait"), col("value")], rows)


def user_questions_table(profile: dict) -> TableData:
    """One user's questions, newest first: what the bot did and the FAQ it gave."""
    return TableData("user-questions", [col("at", "time"), col("question"), col("outcome", "code"), col("faq_id"),
                                        col("tour"), col("step")], list(profile["questions"]))


def user_tours_table(profile: dict) -> TableData:
    """One user's progress per tour version (the step they are on counts from 1)."""
    rows = [{**p, "step_number": p["step"] + 1} for p in profile["tours"]]
    return TableData("user-tours", [col("tour"), col("version", "int"), col("status", "code"),
                                    col("step_number", "int"), col("updated_at", "time"), col("completed_at", "time")],
                     rows)


def unanswered_table(groups: list[dict]) -> TableData:
    """The questions to work on, a row per group: how many for each reason, and what the bot answered with."""
    rows = [{**g, **{f"reason_{r}": g.get("reasons", {}).get(r, 0) for r in REASONS},
             "answers": [_answered_with(a) for a in g.get("answers", [])]} for g in groups]
    return TableData("unanswered", [col("label"), col("count", "int"), col("locale"),
                                    *[col(f"reason_{r}", "int") for r in REASONS], col("answers", "list"),
                                    col("examples", "list"), col("pages", "list")], rows)


def _answered_with(a: dict) -> str:
    """"faq-id (0.79) ×2 👎1 ↻1": an FAQ given as the answer, its confidence, times, 👎 and re-asks."""
    marks = [f"×{a['count']}"] + [f"{sign}{a[k]}" for k, sign in (("not_helpful", "👎"), ("reasked", "↻")) if a.get(k)]
    return f"{a['faq_id']} ({a['confidence']:.2f}) " + " ".join(marks)


def feedback_table(faqs: list[dict]) -> TableData:
    rows = [{**f, "faq_id": f.get("faq_id") or "", "title": f.get("title") or "",
             "helpful_share": (f["up"] / (f["up"] + f["down"])) if f["up"] + f["down"] else None,
             "comment_count": len(f.get("comments") or []),
             # only an answer lists related FAQs under it
             "passed_over": f.get("passed_over") if f.get("outcome") == "answered" else None,
             "went_to": ", ".join(f"{w['title'] or w['faq_id']} ({w['times']})" for w in f.get("went_to") or [])} for f in faqs]
    return TableData("feedback", [col("outcome", "code"), col("faq_id"), col("title"), col("shown", "int"), col("up", "int"),
                                  col("down", "int"), col("helpful_share", "pct"), col("comment_count", "int"),
                                  col("passed_over", "int"), col("went_to")], rows)


def feedback_comments_table(faqs: list[dict]) -> TableData:
    rows = []
    for f in faqs:
        for c in f.get("comments") or []:
            rows.append({"outcome": f.get("outcome"), "faq_id": f.get("faq_id") or "", "at": c.get("at"),
                         "helpful": _helpful(c.get("helpful")), "question": c.get("question") or "",
                         "comment": c.get("comment") or ""})
    return TableData("feedback-comments", [col("outcome", "code"), col("faq_id"), col("question"), col("at", "time"),
                                           col("helpful", "code"), col("comment")], rows)


def alerts_table(items: list[dict]) -> TableData:
    return TableData("alerts", [col("at", "time"), col("kind", "code"), col("channel", "code"), col("status", "code"),
                                col("attempts", "int"), col("last_error"), col("delivered_at", "time")], list(items))


def escalations_table(items: list[dict]) -> TableData:
    """One row per escalation; ``who`` is the user's id as their app knows it (or the anonymous
    browser's), with the e-mail address they left."""
    rows = []
    for e in items:
        answer = e.get("answer") or {}
        who = e.get("app_user") or (f"anon {e['anon']}" if e.get("anon") else "")
        rows.append({**e, "who": " · ".join(x for x in (who, e.get("email") or "") if x),
                     "answer": answer.get("title") or answer.get("faq_id") or "",
                     "tour_step": f"{e['tour_id']} / {e.get('step_id') or '-'}" if e.get("tour_id") else "",
                     "last_error": e.get("last_error") or ""})
    return TableData("escalations", [col("at", "time"), col("reason", "code"), col("message"), col("who", link=True),
                                     col("question"), col("answer", link=True), col("url"), col("tour_step"),
                                     col("delivery", "code"), col("delivery_status", "code"), col("attempts", "int"),
                                     col("last_error")], rows)


def onboarding_table(weeks: list[dict]) -> TableData:
    return TableData("onboarding", [col("week"), col("started", "int"), col("completed", "int"), col("rate", "pct")],
                     list(weeks))


def nps_weeks_table(data: dict) -> TableData:
    return TableData("nps-weeks", [col("week"), col("score", "num"), col("responses", "int")], list(data.get("weeks", [])))


def nps_comments_table(data: dict) -> TableData:
    return TableData("nps-comments", [col("at", "time"), col("score", "int"), col("comment")], list(data.get("comments", [])))


def accounts_table(rows: list[dict]) -> TableData:
    return TableData("accounts", [col("name"), col("role", "code"), col("sites", "code"), col("created_at", "time"),
                                  col("last_login_at", "time")], list(rows))


def tokens_table(rows: list[dict]) -> TableData:
    rows = [{**r, "can_write": "write" if r["can_write"] else "read"} for r in rows]
    return TableData("tokens", [col("name"), col("can_write", "code"), col("sites", "code"), col("created_at", "time"),
                                col("last_used_at", "time")], rows)


def audit_table(entries: list[dict]) -> TableData:
    rows = [{**e, "detail": _detail(e.get("detail"))} for e in entries]
    return TableData("audit", [col("at", "time"), col("action", "code"), col("actor"), col("actor_kind", "code"),
                               col("site"), col("ip"), col("detail")], rows)


def _signal_list(signals, name: Callable[[str], str] = str) -> list[str]:
    if isinstance(signals, dict):
        return [f"{name(k)} ×{v}" for k, v in signals.items() if v]
    return [str(s) for s in signals or []]


def _detail(detail) -> str:
    if isinstance(detail, dict):
        return ", ".join(f"{k}={v}" for k, v in detail.items())
    return "" if detail is None else str(detail)


def _helpful(value) -> str:
    return {True: "helpful", False: "not_helpful"}.get(value, "")


# --- CSV -----------------------------------------------------------------------------------------

def csv_cell(value, kind: str) -> str:
    """A cell as text for tools: numbers as they are (rates as fractions, 0.5 for 50 %), times in
    ISO 8601 UTC, codes untranslated; text from users that a spreadsheet would evaluate gets a leading quote."""
    if value is None:
        return ""
    if kind in ("int", "num", "pct", "secs"):
        number = float(value)
        return str(int(number)) if number.is_integer() else repr(number)
    if kind == "time":
        return datetime.fromtimestamp(float(value), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    text = "\n".join(str(v) for v in value) if kind == "list" and isinstance(value, list) else str(value)
    if text.startswith(_FORMULA_START):
        text = "'" + text
    return text


def csv_text(table: TableData) -> str:
    """The table as CSV: the columns' English names, then a row per row (a row's ``_csv:<key>`` wins)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.csv_name for c in table.columns])
    for row in table.rows:
        writer.writerow([csv_cell(row.get(f"_csv:{c.key}", row.get(c.key)), c.kind) for c in table.columns])
    return out.getvalue()


def csv_response(table: TableData, filename: str) -> Response:
    """A download of ``table`` named ``filename``.csv (made ASCII-safe). UTF-8 with a byte-order mark,
    so Excel opens Japanese text correctly; other tools skip it (Python: ``utf-8-sig``)."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", filename)
    # content_type, not mimetype: Flask appends "; charset=utf-8" to a mimetype, which already had one
    return Response("\ufeff" + csv_text(table), content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{safe}.csv"'})
