"""The help-center content model: FAQ Markdown files with YAML front matter.

Parsing, validation (with ``file:line`` messages) and sanitised HTML rendering
all happen here, at build time; the server only ever sees clean records.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nh3
import yaml
from markdown_it import MarkdownIt

from .textnorm import LOCALES

FIELDS = ("id", "title", "questions", "category", "tags", "locale", "related", "sites")
_FRONT = re.compile(r"\A---[ \t]*\r?\n(.*?)^---[ \t]*\r?\n?", re.S | re.M)
_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
_SKIP_DIRS = {"drafts"}

_md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
_ALLOWED_TAGS = {
    "p", "br", "hr", "h2", "h3", "h4", "h5", "h6", "strong", "em", "code", "pre", "blockquote",
    "ul", "ol", "li", "a", "img", "table", "thead", "tbody", "tr", "th", "td", "del",
}
_ALLOWED_ATTRS = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "ol": {"start"},
                  "h2": {"id"}, "h3": {"id"}, "th": {"align"}, "td": {"align"}}
_SCHEMES = {"http", "https", "mailto", "tel"}


class ContentError(Exception):
    """A problem in one content file, pointing at its line."""

    def __init__(self, path: str, line: int, message: str):
        super().__init__(f"{path}:{line}: {message}")
        self.path, self.line, self.message = path, line, message


@dataclass
class Section:
    anchor: str | None
    heading: str
    text: str


@dataclass
class Faq:
    id: str
    locale: str
    title: str
    questions: list[str]
    category: str
    tags: list[str]
    related: list[str]
    sites: list[str] | None
    body: str
    html: str
    sections: list[Section]
    path: str
    hash: str
    lines: dict = field(default_factory=dict, repr=False)

    def to_record(self) -> dict:
        rec = {name: getattr(self, name) for name in self.__dataclass_fields__}
        rec["sections"] = [asdict(sec) for sec in self.sections]
        return rec

    @classmethod
    def from_record(cls, rec: dict) -> Faq:
        rec = dict(rec)
        rec["sections"] = [Section(**s) for s in rec["sections"]]
        return cls(**rec)

    @property
    def plain_text(self) -> str:
        return "\n".join(s.heading + "\n" + s.text if s.heading else s.text for s in self.sections)


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


def render(markdown: str) -> tuple[str, list[Section]]:
    """Render Markdown to sanitised HTML; every ``##`` gets a stable anchor."""
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
    return html, _sections(markdown, anchors)


def _sections(markdown: str, anchors: list[str]) -> list[Section]:
    parts = re.split(r"^##[ \t]+(.+?)[ \t#]*$", markdown, flags=re.M)
    sections = []
    intro = plain(parts[0])
    if intro:
        sections.append(Section(None, "", intro))
    for n, (heading, body) in enumerate(zip(parts[1::2], parts[2::2])):
        # Headings inside fenced code are rare; fall back to a fresh slug if counts differ.
        anchor = anchors[n] if n < len(anchors) else slugify(heading)
        sections.append(Section(anchor, heading.strip(), plain(body)))
    return sections


def _key_line(front: str, key: str) -> int:
    for n, line in enumerate(front.splitlines(), start=2):
        if re.match(rf"{key}\s*:", line):
            return n
    return 1


def _str_list(value, path: str, line: int, key: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (str, int)):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, (str, int)) for v in value):
        raise ContentError(path, line, f"'{key}' must be a list of strings")
    return [str(v).strip() for v in value if str(v).strip()]


def parse_faq(raw: bytes, relpath: str) -> Faq:
    """Parse one FAQ file. ``relpath`` is relative to the faq folder, e.g. ``ja/billing/plans.md``."""
    digest = hashlib.sha256(raw).hexdigest()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ContentError(relpath, 1, f"not UTF-8 text ({exc.reason})") from None
    m = _FRONT.match(text)
    if not m:
        raise ContentError(relpath, 1, "missing YAML front matter (the file must start with a '---' line)")
    front, body = m.group(1), text[m.end():]
    body_line = text[: m.end()].count("\n") + 1
    try:
        meta = yaml.safe_load(front) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        # a mark past the end (an unclosed bracket) is clamped to the front matter's last line
        line = min(mark.line + 2, front.count("\n") + 1) if mark else 1
        problem = getattr(exc, "problem", None) or str(exc)
        raise ContentError(relpath, line, f"bad YAML front matter: {problem}") from None
    if not isinstance(meta, dict):
        raise ContentError(relpath, 2, "front matter must be a mapping of fields")
    lines = {k: _key_line(front, k) for k in meta}
    unknown = sorted(set(meta) - set(FIELDS))
    if unknown:
        raise ContentError(relpath, lines[unknown[0]], f"unknown field {unknown[0]!r}; known fields: {', '.join(FIELDS)}")

    folder_locale = relpath.split("/", 1)[0] if "/" in relpath else None
    locale = str(meta.get("locale") or folder_locale or "")
    if locale not in LOCALES:
        raise ContentError(relpath, lines.get("locale", 1), f"unknown locale {locale!r}; use one of {', '.join(LOCALES)} (or put the file under faq/<locale>/)")

    title = str(meta.get("title") or "").strip()
    if not title:
        raise ContentError(relpath, lines.get("title", 1), "missing 'title' (the canonical question)")
    if not body.strip():
        raise ContentError(relpath, body_line, "empty body: the answer goes below the front matter")

    faq_id = str(meta.get("id") or "").strip() or derive_id(relpath, locale)
    if not _ID.match(faq_id):
        raise ContentError(relpath, lines.get("id", 1), f"bad id {faq_id!r}: use lowercase letters, digits, '-', '_' and '.'")
    sites = meta.get("sites")
    html, sections = render(body)
    return Faq(
        id=faq_id,
        locale=locale,
        title=title,
        questions=_str_list(meta.get("questions"), relpath, lines.get("questions", 1), "questions"),
        category=str(meta.get("category") or "").strip(),
        tags=_str_list(meta.get("tags"), relpath, lines.get("tags", 1), "tags"),
        related=_str_list(meta.get("related"), relpath, lines.get("related", 1), "related"),
        sites=None if sites is None else _str_list(sites, relpath, lines.get("sites", 1), "sites"),
        body=body.strip(),
        html=html,
        sections=sections,
        path=relpath,
        hash=digest,
        lines=lines,
    )


def derive_id(relpath: str, locale: str) -> str:
    stem = os.path.splitext(relpath)[0]
    parts = [p for p in stem.split("/") if p]
    if parts and parts[0] == locale:
        parts = parts[1:]
    return "-".join([locale, *parts]).lower()


def content_files(folder: Path, suffixes: tuple[str, ...]) -> list[str]:
    """Relative paths of the content files under ``folder``, sorted; drafts, hidden folders and
    README.md are skipped (FAQs, tours and surveys alike)."""
    out = []
    top = os.path.join(str(folder), "")
    for root, dirs, files in os.walk(top):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and not d.startswith((".", "_")))
        prefix = os.path.join(root, "")[len(top):].replace(os.sep, "/")
        for name in files:
            if name.endswith(suffixes) and name.lower() != "readme.md" and not name.startswith((".", "_")):
                out.append(prefix + name)
    return sorted(out)


def faq_files(faq_dir: Path) -> list[str]:
    """Relative paths of FAQ files, sorted."""
    return content_files(faq_dir, (".md",))


def folder_stamps(folder: Path, rels: list[str]) -> dict[str, tuple[int, int, int]]:
    """Size, modification time and inode of each file that still exists: a file whose stamp
    changed (edited, or replaced by an editor's save) has to be read again."""
    stamps = {}
    for rel in rels:
        try:
            st = (folder / rel).stat()
        except OSError:  # removed since it was listed
            continue
        stamps[rel] = (st.st_size, st.st_mtime_ns, st.st_ino)
    return stamps


def check_collection(faqs: list[Faq]) -> list[ContentError]:
    """Cross-file checks: duplicate ids and ``related`` ids that point nowhere."""
    errors = []
    first: dict[str, Faq] = {}
    for faq in faqs:
        if faq.id in first:
            errors.append(ContentError(faq.path, faq.lines.get("id", 1), f"duplicate id {faq.id!r} (also in {first[faq.id].path})"))
        else:
            first[faq.id] = faq
    for faq in faqs:
        for rel in faq.related:
            if rel not in first:
                errors.append(ContentError(faq.path, faq.lines.get("related", 1), f"'related' names {rel!r}, which is no FAQ"))
    return errors


def file_stamp(path: Path) -> list[int]:
    st = path.stat()
    return [st.st_size, st.st_mtime_ns]


def load_content(faq_dir: Path, cache: dict[str, Faq] | None = None, stamps: dict[str, list] | None = None,
                 seen: dict[str, list] | None = None) -> tuple[list[Faq], list[ContentError]]:
    """Parse every FAQ under ``faq_dir``.

    ``cache`` maps file hash to an already parsed record; ``stamps`` maps a path to
    ``[size, mtime_ns, hash]`` from the last build, so an untouched file is not even read.
    ``seen`` is filled with the same for this run (stamped before reading, so a file
    edited during the build is read again next time).
    """
    faqs, errors = [], []
    for rel in faq_files(faq_dir):
        stamp = file_stamp(faq_dir / rel)
        known = (stamps or {}).get(rel)
        if known and cache and known[2] in cache and stamp == known[:2] and cache[known[2]].path == rel:
            faqs.append(cache[known[2]])
            if seen is not None:
                seen[rel] = known
            continue
        raw = (faq_dir / rel).read_bytes()
        digest = hashlib.sha256(raw).hexdigest()
        if seen is not None:
            seen[rel] = [*stamp, digest]
        cached = cache.get(digest) if cache else None
        if cached is not None and cached.path == rel:
            faqs.append(cached)
            continue
        try:
            faqs.append(parse_faq(raw, rel))
        except ContentError as exc:
            errors.append(exc)
    errors.extend(check_collection(faqs))
    return faqs, errors
