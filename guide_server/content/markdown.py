"""Markdown of FAQs and tour steps: front matter, CommonMark rendering, allow-list sanitising,
stable ``##`` anchors and the plain text that search and snippets read."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import nh3
from markdown_it import MarkdownIt

_FRONT = re.compile(r"\A---[ \t]*\r?\n(.*?)^---[ \t]*\r?\n?", re.S | re.M)

_HEADING = re.compile(r"^##[ \t]+(.+?)[ \t#]*$", re.M)
_NUMBERED = re.compile(r"^ {0,3}\d{1,9}[.)][ \t]", re.M)
_md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
_ALLOWED_TAGS = {
    "p", "br", "hr", "h2", "h3", "h4", "h5", "h6", "strong", "em", "code", "pre", "blockquote",
    "ul", "ol", "li", "a", "img", "table", "thead", "tbody", "tr", "th", "td", "del",
}
_ALLOWED_ATTRS = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "ol": {"start"},
                  "h2": {"id"}, "h3": {"id"}, "th": {"align"}, "td": {"align"}}
_SCHEMES = {"http", "https", "mailto", "tel"}


@dataclass
class Section:
    anchor: str | None
    heading: str
    text: str


@dataclass(frozen=True)
class FrontMatter:
    """A file split at its ``---`` lines: the YAML between them, the body after, and the body's first line."""

    yaml: str
    body: str
    body_line: int


def front_matter(text: str) -> FrontMatter | None:
    """The front matter of a Markdown file, or None when it does not start with a ``---`` line."""
    m = _FRONT.match(text)
    if not m:
        return None
    return FrontMatter(m.group(1), text[m.end():], text[: m.end()].count("\n") + 1)


def slugify(text: str) -> str:
    """Anchor for a heading: letters and digits of any script, joined by hyphens."""
    text = unicodedata.normalize("NFKC", text).lower()
    words = re.findall(r"\w+", text)
    return "-".join(words) or "section"


def plain(markdown: str) -> str:
    """Markdown to readable plain text (for search and snippets)."""
    text = re.sub(r"```.*?```", " ", markdown, flags=re.S)
    text = re.sub(r"!\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"^\s{0,3}(#{1,6}|>|[-*+]|\d+[.)])\s+", "", text, flags=re.M)
    text = re.sub(r"[*_`~|]+", "", text)
    return re.sub(r"[ \t]+", " ", re.sub(r"\n{2,}", "\n", text)).strip()


def render(markdown: str) -> tuple[str, list[Section], list[list]]:
    """Render Markdown to sanitised HTML, every ``##`` with a stable anchor; with its sections and
    its numbered lists (``ordered_lists``), read from the same parse."""
    tokens = _md.parse(markdown)
    seen: dict[str, int] = {}
    anchors = []
    for i, tok in enumerate(tokens):
        if tok.type == "heading_open" and tok.tag == "h2":
            base = slugify(tokens[i + 1].content)
            n = seen.get(base, 0) + 1
            seen[base] = n
            anchor = base if n == 1 else f"{base}-{n}"
            tok.attrSet("id", anchor)
            anchors.append(anchor)
    html = _md.renderer.render(tokens, _md.options, {})
    html = nh3.clean(html, tags=_ALLOWED_TAGS, attributes=_ALLOWED_ATTRS, url_schemes=_SCHEMES)
    sections = _sections(markdown, anchors)
    return html, sections, _ordered_lists(tokens, bool(sections) and sections[0].anchor is None)


def ordered_lists(markdown: str) -> list[list]:
    """The top-level numbered lists of a Markdown text: [the index of the section each is in, its
    items' first paragraphs as one-line plain text], as a record keeps them (``Faq.lists``). The steps an answer shows come from these."""
    if not _NUMBERED.search(markdown):  # most texts: no need to parse
        return []
    return _ordered_lists(_md.parse(markdown), bool(plain(_HEADING.split(markdown, 1)[0])))


def _ordered_lists(tokens: list, intro: bool) -> list[list]:
    """``intro``: whether the text before the first ``##`` is a section of its own."""
    found, heads, items = [], 0, None
    for tok in tokens:
        if tok.type == "heading_open" and tok.tag == "h2":
            heads += 1
        elif tok.type == "ordered_list_open" and tok.level == 0:
            items = []
        elif tok.type == "ordered_list_close" and tok.level == 0:
            found.append([heads + intro - 1, [re.sub(r"\s+", " ", plain(item)) for item in items if item]])
            items = None
        elif items is not None and tok.type == "list_item_open" and tok.level == 1:
            items.append(None)
        elif items and items[-1] is None and tok.type == "inline" and tok.level == 3:  # the item's first paragraph
            items[-1] = tok.content
    return found


def _sections(markdown: str, anchors: list[str]) -> list[Section]:
    parts = _HEADING.split(markdown)
    sections = []
    intro = plain(parts[0])
    if intro:
        sections.append(Section(None, "", intro))
    for n, (heading, body) in enumerate(zip(parts[1::2], parts[2::2])):
        # Headings inside fenced code are rare; fall back to a fresh slug if counts differ.
        anchor = anchors[n] if n < len(anchors) else slugify(heading)
        sections.append(Section(anchor, heading.strip(), plain(body)))
    return sections
