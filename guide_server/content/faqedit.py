"""Adding wordings to an FAQ file's ``questions:`` list, leaving every other byte of the file as it was.

The review desk teaches the bot by appending what users asked to the FAQ that answers it. The file is
an editor's: its comments, key order, quoting, line endings and body stay untouched, so the change is
one or a few added lines in a diff. YAML is only parsed (``yaml.compose``) to find where the list is;
each new item is written with ``yaml.safe_dump``, and the result is parsed again and compared before
anyone writes it.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from pathlib import Path

import yaml

_BOM = b"\xef\xbb\xbf"
_FENCE = re.compile(r"---[ \t]*(\r?\n)")
_ITEM = re.compile(r"^([ \t]*-[ \t]+)")
_WIDE = 1 << 20  # never fold a dumped scalar


class FaqEditError(ValueError):
    """The file cannot be edited safely (no front matter, bad YAML, ``questions`` not a list...)."""


def fold(text: str) -> str:
    """What two wordings share when they are the same question: NFKC and case folded, spaces dropped
    (Japanese puts them anywhere: 請求書を メールで is 請求書をメールで)."""
    return "".join(unicodedata.normalize("NFKC", text).casefold().split())


def digest(raw: bytes) -> str:
    """The version of a file a page showed (sha256), to refuse a change made on top of another."""
    return hashlib.sha256(raw).hexdigest()


def new_wordings(meta: dict, wordings: list[str]) -> list[str]:
    """The wordings not yet in the FAQ (its title or questions), each once, spaces tidied."""
    questions = meta.get("questions")
    old = questions if isinstance(questions, list) else [] if questions is None else [questions]
    seen = {fold(str(v)) for v in [meta.get("title") or "", *old]}
    out = []
    for text in wordings:
        tidy = " ".join(str(text).split())
        if tidy and fold(tidy) not in seen:
            seen.add(fold(tidy))
            out.append(tidy)
    return out


def add_questions(raw: bytes, wordings: list[str]) -> tuple[bytes, list[str]]:
    """The file with the new ``wordings`` appended to its ``questions:``, and those added (none: the
    file as it was). Raises FaqEditError when the file is not one this can edit safely."""
    bom = _BOM if raw.startswith(_BOM) else b""
    try:
        text = raw[len(bom):].decode("utf-8")
    except UnicodeDecodeError:
        raise FaqEditError("the file is not UTF-8 text") from None
    head = _FENCE.match(text)
    end = re.search(r"^---[ \t]*(?:\r?\n|\Z)", text[head.end():], re.M) if head else None
    if end is None:
        raise FaqEditError("the file has no front matter between two '---' lines")
    newline = head.group(1)
    front = text[head.end():head.end() + end.start()]
    meta, node = _parse(front)
    added = new_wordings(meta, wordings)
    if not added:
        return raw, []
    edited = _insert(front, node, added, newline)
    check = yaml.safe_load(edited)
    old = meta.get("questions")
    before = old if isinstance(old, list) else [] if old is None else [old]
    if check.get("questions") != before + added or {k: v for k, v in check.items() if k != "questions"} != \
            {k: v for k, v in meta.items() if k != "questions"}:
        raise FaqEditError("the questions could not be added without changing something else")  # a safety net
    body = text[:head.end()] + edited + text[head.end() + end.start():]
    return bom + body.encode("utf-8"), added


def _parse(front: str) -> tuple[dict, yaml.Node | None]:
    try:
        meta = yaml.safe_load(front) or {}
        root = yaml.compose(front)
    except yaml.YAMLError as exc:
        raise FaqEditError(f"the front matter is not valid YAML ({exc})") from None
    if not isinstance(meta, dict) or (root is not None and root.id != "mapping"):
        raise FaqEditError("the front matter is not a mapping of fields")
    node = next((v for k, v in (root.value if root is not None else []) if k.value == "questions"), None)
    if node is not None and node.id == "mapping":
        raise FaqEditError("'questions' is not a list")
    return meta, node


def _dump(text: str, flow: bool) -> str:
    out = yaml.safe_dump([text], allow_unicode=True, width=_WIDE, default_flow_style=flow).strip()
    return out[1:-1] if flow else out[2:]  # "[item]" or "- item"


def _insert(front: str, node: yaml.Node | None, added: list[str], nl: str) -> str:
    if node is None:  # no questions yet: a new key at the end of the front matter
        lines = "".join(f"  - {_dump(a, False)}{nl}" for a in added)
        sep = "" if not front or front.endswith("\n") else nl
        return f"{front}{sep}questions:{nl}{lines}"
    if node.id == "sequence" and node.flow_style:
        close = node.end_mark.index - 1  # the "]"
        lead = ", " if node.value else ""
        return front[:close] + lead + ", ".join(_dump(a, True) for a in added) + front[close:]
    if node.id == "sequence":
        return _append_block(front, node, added, nl)
    if node.start_mark.index == node.end_mark.index:  # "questions:" and nothing: an empty block list
        at = _line_end(front, node.start_mark.index)
        return front[:at] + "".join(f"  - {_dump(a, False)}{nl}" for a in added) + front[at:]
    # a single question as a string (or an explicit null): the same value, as a list with the new ones
    old = [] if node.tag.endswith(":null") else [yaml.safe_load(front[node.start_mark.index:node.end_mark.index])]
    flow = "[" + ", ".join(_dump(str(v), True) for v in [*old, *added]) + "]"
    return front[:node.start_mark.index] + flow + front[node.end_mark.index:]


def _append_block(front: str, node: yaml.Node, added: list[str], nl: str) -> str:
    first, last = node.value[0], node.value[-1]
    item_line = front.splitlines()[first.start_mark.line]
    prefix = _ITEM.match(item_line)
    indent = prefix.group(1) if prefix else "  - "
    end = last.end_mark
    # after the last item's line; a block scalar (|, >) ends at the start of the line after it
    at = end.index - end.column if end.column == 0 else _line_end(front, end.index)
    return front[:at] + "".join(f"{indent}{_dump(a, False)}{nl}" for a in added) + front[at:]


def _line_end(text: str, index: int) -> int:
    """The index just after the line break of the line holding ``index`` (the end of the text if none)."""
    n = text.find("\n", index)
    return len(text) if n < 0 else n + 1


def replace_file(path: Path, raw: bytes) -> None:
    """Write ``raw`` to ``path`` atomically (a reader sees the old file or the new one), mode kept."""
    mode = path.stat().st_mode & 0o7777
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
