"""A notice to a site's CS team (an alert, a digest), written once and laid out for each channel:
guide's JSON for a webhook, a Slack message (``text`` and ``blocks``), an e-mail (plain text and
HTML). docs/alerts.md shows each."""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

SLACK_SECTION_CHARS = 2900  # Slack refuses a section text over 3000 characters


@dataclass(frozen=True)
class Line:
    text: str
    url: str | None = None


@dataclass
class Notice:
    """``subject`` (the e-mail's, Slack's first line), sections of lines under a heading, a link to
    the desk, and ``data``: the JSON a webhook gets (its ``event`` is the alert's kind)."""

    subject: str
    data: dict
    sections: list[tuple[str, list[Line]]] = field(default_factory=list)
    link: Line | None = None

    def add(self, heading: str, lines: list[Line]) -> None:
        if lines:
            self.sections.append((heading, lines))


def as_text(notice: Notice) -> str:
    out = [notice.subject, ""]
    for heading, lines in notice.sections:
        out.append(heading)
        out += [f"- {line.text}" + (f" <{line.url}>" if line.url else "") for line in lines]
        out.append("")
    if notice.link:
        out.append(f"{notice.link.text}: {notice.link.url}")
    return "\n".join(out).rstrip() + "\n"


def _html_line(line: Line) -> str:
    text = escape(line.text)
    return f'<a href="{escape(line.url)}">{text}</a>' if line.url else text


def as_html(notice: Notice) -> str:
    out = [f'<html><body style="font-family:sans-serif"><h2>{escape(notice.subject)}</h2>']
    for heading, lines in notice.sections:
        out.append(f"<h3>{escape(heading)}</h3><ul>")
        out += [f"<li>{_html_line(line)}</li>" for line in lines]
        out.append("</ul>")
    if notice.link:
        out.append(f"<p>{_html_line(notice.link)}</p>")
    out.append("</body></html>")
    return "\n".join(out)


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_line(line: Line) -> str:
    text = _slack_escape(line.text)
    return f"<{line.url}|{text}>" if line.url else text


def as_slack(notice: Notice) -> dict:
    """A Slack incoming webhook's body: ``text`` (notifications, and clients without blocks) and ``blocks``."""
    blocks: list[dict] = [{"type": "header", "text": {"type": "plain_text", "text": notice.subject[:150]}}]
    for heading, lines in notice.sections:
        text = f"*{_slack_escape(heading)}*\n" + "\n".join(f"• {_slack_line(line)}" for line in lines)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text[:SLACK_SECTION_CHARS]}})
    if notice.link:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": _slack_line(notice.link)}]})
    return {"text": notice.subject, "blocks": blocks}


def as_email(notice: Notice) -> dict:
    return {"subject": notice.subject, "text": as_text(notice), "html": as_html(notice)}


LAYOUTS = {"webhook": lambda n: n.data, "slack": as_slack, "email": as_email}


def bodies(notice: Notice, channels) -> dict[str, dict]:
    """What each of ``channels`` (webhook, slack, email) is sent."""
    return {channel: LAYOUTS[channel](notice) for channel in channels}
