"""Charts drawn on the server as inline SVG: no chart library, no script, readable by screen readers.

Each chart is an ``<svg role="img">`` labelled by its own ``<title>`` and ``<desc>`` (the desc spells
out every number), and the page puts the same figures in a table beside it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

from markupsafe import Markup, escape

REACHED = "#9fc3e7"
COMPLETED = "#1f5f99"
DROP = "#b42318"
GOOD = "#1a7f37"
INK = "#1f2933"
MUTED = "#52606d"


def _short(text: str, room: int = 14) -> str:
    """At most ``room`` half-width cells (a Japanese character takes two), else cut with an ellipsis."""
    used, out = 0, []
    for ch in text:
        used += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
        if used > room:
            return "".join(out[:-1] if used - room < 2 else out) + "…"
        out.append(ch)
    return text


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f}%"


def funnel_svg(uid: str, tour: str, version: int, steps: list[dict], t: Callable[..., str]) -> Markup:
    """One tour's funnel: a bar per step, pale for users who reached it, dark for those who completed it,
    the count above and the step's drop-off under it."""
    bar_w, gap, left, top, chart_h = 56, 40, 16, 40, 170
    width = max(260, left * 2 + len(steps) * (bar_w + gap))
    height = top + chart_h + 64
    most = max([s["reached"] for s in steps] + [1])
    title = t("chart.funnel_title", tour=tour, version=version)
    desc = "; ".join(t("chart.funnel_step", n=s["step_index"] + 1, step=_name(s), reached=s["reached"],
                       completed=s["completed"], dropoff=_pct(s["dropoff"])) for s in steps) or t("empty")
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="gd-chart" viewBox="0 0 {width} {height}" '
           f'width="{width}" height="{height}" role="img" aria-labelledby="{uid}-t {uid}-d">',
           f'<title id="{uid}-t">{escape(title)}</title><desc id="{uid}-d">{escape(desc)}</desc>',
           f'<g font-family="system-ui, sans-serif" font-size="12" fill="{INK}">',
           f'<rect x="{left}" y="8" width="12" height="12" fill="{REACHED}"/>'
           f'<text x="{left + 16}" y="18">{escape(t("col.reached"))}</text>'
           f'<rect x="{left + 110}" y="8" width="12" height="12" fill="{COMPLETED}"/>'
           f'<text x="{left + 126}" y="18">{escape(t("col.completed"))}</text>']
    base = top + chart_h
    for i, s in enumerate(steps):
        x = left + gap / 2 + i * (bar_w + gap)
        h_reached = chart_h * s["reached"] / most
        h_done = chart_h * s["completed"] / most
        cx = x + bar_w / 2
        out.append(f'<g class="gd-step" data-step="{escape(s["step"])}" data-reached="{s["reached"]}" '
                   f'data-completed="{s["completed"]}"><title>{escape(_name(s))}</title>')
        out.append(f'<rect x="{x:.1f}" y="{base - h_reached:.1f}" width="{bar_w}" height="{h_reached:.1f}" fill="{REACHED}"/>')
        out.append(f'<rect x="{x + 8:.1f}" y="{base - h_done:.1f}" width="{bar_w - 16}" height="{h_done:.1f}" fill="{COMPLETED}"/>')
        out.append(f'<text class="gd-count" x="{cx:.1f}" y="{base - h_reached - 6:.1f}" text-anchor="middle" '
                   f'font-weight="bold">{s["reached"]}</text>')
        out.append(f'<text x="{cx:.1f}" y="{base + 16}" text-anchor="middle">{s["step_index"] + 1}. '
                   f'{escape(_short(s.get("step_title") or s["step"]))}</text>')
        out.append(f'<text class="gd-drop" x="{cx:.1f}" y="{base + 32}" text-anchor="middle" fill="{DROP}">'
                   f'{escape(t("chart.dropoff", pct=_pct(s["dropoff"])))}</text>')
        out.append(f'<text x="{cx:.1f}" y="{base + 48}" text-anchor="middle" fill="{MUTED}">'
                   f'{escape(t("chart.completed_n", n=s["completed"]))}</text></g>')
    out.append(f'<line x1="{left}" y1="{base}" x2="{width - left}" y2="{base}" stroke="{MUTED}"/></g></svg>')
    return Markup("".join(out))


def _name(step: dict) -> str:
    """A step as people read it: its title with its id, or the id alone."""
    return f"{step['step_title']} ({step['step']})" if step.get("step_title") else step["step"]


def nps_svg(uid: str, weeks: list[dict], t: Callable[..., str]) -> Markup:
    """NPS per week on a −100…100 scale: bars up (green) or down (red) from the zero line."""
    bar_w, gap, left, top, half = 40, 24, 44, 20, 90
    width = left + max(1, len(weeks)) * (bar_w + gap) + 16
    zero = top + half
    height = zero + half + 44
    title = t("chart.nps_title")
    desc = "; ".join(t("chart.nps_week", week=w["week"], score=_num(w["score"]), n=w["responses"]) for w in weeks) or t("empty")
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="gd-chart" viewBox="0 0 {width} {height}" '
           f'width="{width}" height="{height}" role="img" aria-labelledby="{uid}-t {uid}-d">',
           f'<title id="{uid}-t">{escape(title)}</title><desc id="{uid}-d">{escape(desc)}</desc>',
           f'<g font-family="system-ui, sans-serif" font-size="12" fill="{INK}">']
    for value, y in ((100, top), (0, zero), (-100, zero + half)):
        out.append(f'<text x="{left - 6}" y="{y + 4}" text-anchor="end" fill="{MUTED}">{value}</text>'
                   f'<line x1="{left}" y1="{y}" x2="{width - 8}" y2="{y}" stroke="{MUTED if value == 0 else "#d9e2ec"}"/>')
    for i, w in enumerate(weeks):
        x = left + gap / 2 + i * (bar_w + gap)
        score = w["score"]
        if score is not None:
            h = half * abs(score) / 100
            y = zero - h if score >= 0 else zero
            out.append(f'<rect class="gd-nps" x="{x:.1f}" y="{y:.1f}" width="{bar_w}" height="{h:.1f}" '
                       f'fill="{GOOD if score >= 0 else DROP}" data-score="{_num(score)}"/>')
            ty = zero - h - 4 if score >= 0 else zero + h + 13
            out.append(f'<text x="{x + bar_w / 2:.1f}" y="{ty:.1f}" text-anchor="middle" font-weight="bold">{_num(score)}</text>')
        out.append(f'<text x="{x + bar_w / 2:.1f}" y="{zero + half + 16}" text-anchor="middle">'
                   f'{escape(str(w["week"])[-3:])}</text>'
                   f'<text x="{x + bar_w / 2:.1f}" y="{zero + half + 32}" text-anchor="middle" fill="{MUTED}">'
                   f'n={w["responses"]}</text>')
    out.append("</g></svg>")
    return Markup("".join(out))


def _num(value) -> str:
    if value is None:
        return "–"
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"
