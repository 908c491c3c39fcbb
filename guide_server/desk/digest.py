"""A site's daily or weekly digest for its CS team (docs/alerts.md): the KPIs against the period
before, the stuck points and question groups that are new since then, and the broken selectors;
laid out by ``chat.notices`` and sent through the site's alert channels (``chat.alerts``).

A digest covers the last whole day (or Monday-to-Sunday week) in ADMIN_TIMEZONE and falls due at
DIGEST_HOUR of the next day (of the next Monday). The sender thread's clock (``schedule``) stores it
once per site and period: its ``dedupe`` key is unique, so of several processes or instances one
stores it and the others find it stored. ``guide digest`` makes one by hand.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from datetime import time as dtime

import numpy as np
from flask import Flask, current_app
from flask import g as app_globals

from ..analytics import chat as chat_figures
from ..chat import alerts
from ..chat.notices import Line, Notice, as_text
from ..web.context import db, site_settings
from . import figures as fig

PERIOD_DAYS = {"daily": 1, "weekly": 7}
TOP_STUCK = 10  # the stuck points compared between the periods
LISTED = 10  # at most this many of each list in a digest
RATES = ("answered_rate", "helpful_rate", "onboarding_rate")
KPIS = ("users", "questions", "answered_rate", "resolution_rate", "helpful_rate", "onboarding_rate", "nps", "tours_started",
        "tours_completed")

WORDS = {
    "en": {"daily": "Daily digest", "weekly": "Weekly digest", "kpis": "Figures (change from the period before)",
           "stuck": "New stuck points", "groups": "New questions to work on",
           "broken": "Broken selectors", "none": "none", "desk": "Open the review desk",
           "users": "Users", "questions": "Questions", "answered_rate": "Answered", "resolution_rate": "Resolved (confirmed)",
           "helpful_rate": "Helpful",
           "onboarding_rate": "Onboarding completed", "nps": "NPS", "tours_started": "Tours started",
           "tours_completed": "Tours completed", "score": "score", "reached": "reached", "asked": "questions",
           "missing": "of the people who reached it found no element", "change": " ({change} from {previous})"},
    "ja": {"daily": "日次ダイジェスト", "weekly": "週次ダイジェスト", "kpis": "主な数値（前の期間からの変化）",
           "stuck": "新しくつまずいているステップ", "groups": "対応が必要な新しい質問",
           "broken": "壊れたセレクター", "none": "なし", "desk": "レビューデスクを開く",
           "users": "ユーザー", "questions": "質問", "answered_rate": "回答率", "resolution_rate": "解決率（確認済み）",
           "helpful_rate": "役に立った率",
           "onboarding_rate": "オンボーディング完了率", "nps": "NPS", "tours_started": "開始したツアー",
           "tours_completed": "完了したツアー", "score": "スコア", "reached": "到達", "asked": "件",
           "missing": "の人が要素を見つけられませんでした", "change": "（前回 {previous} から {change}）"},
}


# --- periods ----------------------------------------------------------------------------------------

def last_period(kind: str, today: date) -> tuple[date, date]:
    """The last whole day before ``today``, or the last whole Monday-to-Sunday week."""
    if kind == "daily":
        return today - timedelta(days=1), today - timedelta(days=1)
    monday = today - timedelta(days=today.weekday())
    return monday - timedelta(days=7), monday - timedelta(days=1)


def due_period(kind: str, now: datetime, hour: int) -> tuple[date, date] | None:
    """The period whose digest is due at ``now`` (local time): from DIGEST_HOUR of the day after it
    (the Monday after it) until the next one falls due; None before that hour on that day."""
    if now.hour < hour and (kind == "daily" or now.weekday() == 0):
        return None
    return last_period(kind, now.date())


def period_query(site: str, first: date, last: date) -> fig.Query:
    tz = fig.zone()
    start = datetime.combine(first, dtime(0), tz).timestamp()
    return fig.Query(site, first, last, start, datetime.combine(last + timedelta(days=1), dtime(0), tz).timestamp())


# --- what a digest says -------------------------------------------------------------------------------

def questions_to_work_on(q: fig.Query) -> list[dict]:
    """The groups of questions the digest compares: the desk's questions to work on (no answer, no
    suggestion opened, 👎, asked again, escalated), grouped by meaning."""
    return fig.work_groups(q)


def _kpis(now: dict, before: dict) -> list[dict]:
    out = []
    for name in KPIS:
        value, previous = now.get(name), before.get(name)
        change = None if value is None or previous is None else round(value - previous, 4)
        out.append({"name": name, "value": value, "previous": previous, "change": change})
    return out


def _new_stuck(now: list[dict], before: list[dict]) -> list[dict]:
    seen = {(s["tour"], s["step"]) for s in before if s["score"] > 0}
    return [s for s in now if s["score"] > 0 and (s["tour"], s["step"]) not in seen]


def _new_groups(now: list[dict], before: list[dict]) -> list[dict]:
    """The groups of ``now`` whose meaning no group of ``before`` had: no question of theirs asked then
    in the same words, and no label of then as close as the desk's grouping threshold."""
    before_texts = {chat_figures.normalise(t) for g in before for t in [g["label"], *g["examples"]]}
    fresh = [g for g in now if not {chat_figures.normalise(t) for t in [g["label"], *g["examples"]]} & before_texts]
    out = []
    for locale in dict.fromkeys(g["locale"] for g in fresh):
        mine = [g for g in fresh if g["locale"] == locale]
        theirs = [g["label"] for g in before if g["locale"] == locale]
        encoder = fig.encoder_for_locale(locale)
        if encoder is None or not theirs:
            out += mine
            continue
        cut = chat_figures.GROUP_THRESHOLDS.get(encoder.spec, chat_figures.DEFAULT_GROUP_THRESHOLD)
        sims = np.asarray(encoder.encode_queries([g["label"] for g in mine])) @ np.asarray(encoder.encode_queries(theirs)).T
        out += [g for g, row in zip(mine, sims) if row.max() < cut]
    return sorted(out, key=lambda g: -g["count"])


def compute(site: str, kind: str, first: date, last: date, now: float | None = None) -> dict:
    """The digest of ``site`` for the period ``first``..``last`` (inclusive), against the one before."""
    app_globals.setdefault("admin_lang", alerts.locale_of(site_settings(site), current_app.config))  # step titles' language
    days = timedelta(days=(last - first).days + 1)
    q, p = period_query(site, first, last), period_query(site, first - days, last - days)
    groups = _new_groups(questions_to_work_on(q), questions_to_work_on(p))
    return {
        "event": f"digest.{kind}", "site": site, "period": {"from": first.isoformat(), "to": last.isoformat()},
        "previous": {"from": p.first.isoformat(), "to": p.last.isoformat()},
        "kpis": _kpis(fig.overview(q), fig.overview(p)),
        "new_stuck_points": [{k: s.get(k) for k in ("tour", "version", "step", "step_title", "score", "reached", "dropoff")}
                             for s in _new_stuck(fig.stuck_points(q, TOP_STUCK), fig.stuck_points(p, TOP_STUCK))],
        "new_question_groups": [{k: g[k] for k in ("label", "count", "locale", "examples")} for g in groups],
        "broken_targets": [{k: b[k] for k in ("tour", "step", "target", "missing", "reached", "share")}
                           for b in fig.broken_targets([site], now)],
    }


# --- how it reads ---------------------------------------------------------------------------------------

def _figure(name: str, value) -> str:
    if value is None:
        return "-"
    return f"{value * 100:.0f}%" if name in RATES else f"{value:g}"


def _titled(step: dict) -> str:
    return f" ({step['step_title']})" if step.get("step_title") else ""


def _kpi_line(words: dict, k: dict) -> Line:
    change = k["change"]
    delta = "" if change is None else words["change"].format(
        change=f"{change * 100:+.0f} pt" if k["name"] in RATES else f"{change:+g}",
        previous=_figure(k["name"], k["previous"]))
    return Line(f"{words[k['name']]}: {_figure(k['name'], k['value'])}{delta}")


def notice(digest: dict, locale: str, desk: str) -> Notice:
    """The digest as a notice in ``locale``, with links to the desk under ``desk`` (none when empty)."""
    words = WORDS[locale]
    site, period = digest["site"], digest["period"]
    dates = period["from"] if period["from"] == period["to"] else f"{period['from']} – {period['to']}"
    kind = digest["event"].split(".")[1]
    link = (lambda page, **more: f"{desk}/{page}?site={site}&from={period['from']}&to={period['to']}"
            + "".join(f"&{k}={v}" for k, v in more.items())) if desk else (lambda page, **more: None)
    out = Notice(f"[guide] {site_settings(site)['name']}: {words[kind]} {dates}", digest)
    none = [Line(words["none"])]
    out.add(words["kpis"], [_kpi_line(words, k) for k in digest["kpis"]])
    out.add(words["stuck"], [Line(f"{s['tour']} / {s['step']}{_titled(s)}: {words['score']} {s['score']:g}, {words['reached']} "
                                  f"{s['reached']}", link("step", tour=s["tour"], version=s["version"], step=s["step"]))
                             for s in digest["new_stuck_points"][:LISTED]] or none)
    out.add(words["groups"], [Line(f"{g['label']} ({g['count']} {words['asked']})", link("unanswered"))
                              for g in digest["new_question_groups"][:LISTED]] or none)
    out.add(words["broken"], [Line(f"{b['tour']} / {b['step']} `{b['target'] or '-'}`: {b['share'] * 100:.0f}% "
                                   f"({b['missing']}/{b['reached']}) {words['missing']}", link("stuck"))
                              for b in digest["broken_targets"][:LISTED]] or none)
    if desk:
        out.link = Line(words["desk"], link(""))
    return out


# --- when it is sent --------------------------------------------------------------------------------------

def dedupe_key(site: str, kind: str, first: date) -> str:
    return f"digest:{site}:{kind}:{first.isoformat()}"


def _notice_of(site: str, kind: str, first: date, last: date) -> Notice:
    cfg = current_app.config
    return notice(compute(site, kind, first, last), alerts.locale_of(site_settings(site), cfg),
                  cfg["DESK_URL"].rstrip("/"))


def store(site: str, kind: str, first: date, last: date, once: bool = True) -> list[str] | None:
    """Compute the digest and store it for the site's channels; the rows' ids, or None when this
    period's was stored before (``once``)."""
    made = _notice_of(site, kind, first, last)
    return alerts.enqueue(db(), current_app.config, site, f"digest.{kind}", made,
                          dedupe_key(site, kind, first) if once else None)


def schedule(app: Flask) -> None:
    """The clock on the alert sender's thread: each site's digest, once, when it falls due."""
    done: set[str] = set()

    def tick() -> None:
        with app.app_context():
            now = datetime.now(fig.zone())
            for site, settings in app.config["SITES"].items():
                kind = settings["digest"]
                period = due_period(kind, now, app.config["DIGEST_HOUR"]) if kind and alerts.channels(settings) else None
                if period is None or dedupe_key(site, kind, period[0]) in done:
                    continue
                if not alerts.stored(db(), dedupe_key(site, kind, period[0])):
                    store(site, kind, *period)
                done.add(dedupe_key(site, kind, period[0]))

    alerts.on_tick(app, tick)


def send_now(site: str, kind: str, again: bool = False) -> list | None:
    """``guide digest``: the last whole period's digest stored and sent at once (its first attempt;
    the server's sender retries what fails); the rows after it, or None when it was sent before."""
    first, last = last_period(kind, datetime.now(fig.zone()).date())
    ids = store(site, kind, first, last, once=not again)
    if ids is None:
        return None
    return alerts.sender(current_app._get_current_object()).send_ids(ids)


def preview(site: str, kind: str) -> str:
    """``guide digest --dry-run``: the last whole period's digest as its e-mail's text, not stored."""
    return as_text(_notice_of(site, kind, *last_period(kind, datetime.now(fig.zone()).date())))


def has_channel(site: str) -> bool:
    return alerts.wanted(site)
