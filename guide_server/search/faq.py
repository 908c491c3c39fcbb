"""FAQ files: Markdown with YAML front matter, parsed into ``Faq`` records at build time.

Validation errors carry ``file:line``; the HTML is rendered and sanitised here, so the server
only ever sees clean records.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

from ..content.files import content_files, file_stamp
from ..content.markdown import Section, front_matter, render
from ..content.rules import LOCALES, ContentError, decode, visible_to

FIELDS = ("id", "title", "questions", "category", "tags", "locale", "related", "sites")
_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


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
    # the body's numbered lists: [section index, [items as plain text]]; None in a record built
    # before they were kept (an answer then parses the body for its steps)
    lists: list | None = field(default=None, repr=False)

    def to_record(self) -> dict:
        rec = {name: getattr(self, name) for name in self.__dataclass_fields__}
        rec["sections"] = [asdict(sec) for sec in self.sections]
        return rec

    @classmethod
    def from_record(cls, rec: dict) -> Faq:
        rec = dict(rec)
        rec["sections"] = [Section(**s) for s in rec["sections"]]
        return cls(**rec)

    def visible_to(self, site: str | None) -> bool:
        return visible_to(self.sites, site)

    @property
    def plain_text(self) -> str:
        return "\n".join(s.heading + "\n" + s.text if s.heading else s.text for s in self.sections)


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
    text = decode(raw, relpath)
    split = front_matter(text)
    if split is None:
        raise ContentError(relpath, 1, "missing YAML front matter (the file must start with a '---' line)")
    front, body, body_line = split.yaml, split.body, split.body_line
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
    html, sections, lists = render(body)
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
        lists=lists,
    )


def derive_id(relpath: str, locale: str) -> str:
    stem = os.path.splitext(relpath)[0]
    parts = [p for p in stem.split("/") if p]
    if parts and parts[0] == locale:
        parts = parts[1:]
    return "-".join([locale, *parts]).lower()


def faq_files(faq_dir: Path) -> list[str]:
    """Relative paths of FAQ files, sorted."""
    return content_files(faq_dir, (".md",))


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


def load_content(faq_dir: Path, cache: dict[str, Faq] | None = None, stamps: dict[str, list] | None = None,
                 seen: dict[str, list] | None = None) -> tuple[list[Faq], list[ContentError]]:
    """Parse every FAQ under ``faq_dir`` and check them together (``read_content``, then
    ``check_collection`` with the files taken from ``cache`` first: a clash is blamed on the file
    that changed since, not on the published one)."""
    faqs, errors, fresh = read_content(faq_dir, cache, stamps, seen)
    return faqs, errors + check_changed_last(faqs, fresh)


def check_changed_last(faqs: list, fresh: set[str]) -> list[ContentError]:
    """``check_collection`` with the files in ``fresh`` (just edited) after the others."""
    return check_collection(sorted(faqs, key=lambda f: f.path in fresh))  # stable: file order within each


def read_content(faq_dir: Path, cache: dict[str, Faq] | None = None, stamps: dict[str, list] | None = None,
                 seen: dict[str, list] | None = None) -> tuple[list[Faq], list[ContentError], set[str]]:
    """Every FAQ under ``faq_dir`` that parses, the errors of those that do not, and the paths
    parsed anew (not taken from ``cache``).

    ``cache`` maps file hash to an already parsed record; ``stamps`` maps a path to
    ``[size, mtime_ns, hash]`` from the last build, so an untouched file is not even read.
    ``seen`` is filled with the same for this run (stamped before reading, so a file
    edited during the build is read again next time).
    """
    faqs, errors, fresh = [], [], set()
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
        fresh.add(rel)
        try:
            faqs.append(parse_faq(raw, rel))
        except ContentError as exc:
            errors.append(exc)
    return faqs, errors, fresh
