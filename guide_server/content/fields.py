"""YAML that remembers the line of every key, and field readers that fail at ``file:line``."""

from __future__ import annotations

import json
import re
from collections.abc import Hashable

import yaml

from .rules import ID, LOCALES, ContentError
from .selectors import selector_problem

Text = dict[str, str]  # locale -> text; "*" when one text serves every locale


def pick(text: Text | None, locale: str) -> str | None:
    """The variant for ``locale``; else the text for every locale; else the first variant."""
    if not text:
        return None
    return text.get(locale) or text.get("*") or next(iter(text.values()))



class LineMap(dict):
    """A mapping that knows its own line and the line of each key."""

    line = 1
    lines: dict


class LineList(list):
    line = 1
    lines: list


class _Problem(Exception):
    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line, self.message = line, message


class _Loader(yaml.SafeLoader):
    pass


def _construct_map(loader, node):
    loader.flatten_mapping(node)
    data = LineMap()
    data.line, data.lines = node.start_mark.line + 1, {}
    yield data
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if not isinstance(key, Hashable) or isinstance(key, (list, dict)):
            raise _Problem(line, "a key must be a plain word")
        if key in data:  # PyYAML would silently keep the last one
            raise _Problem(line, f"duplicate key {key!r}")
        data[key] = loader.construct_object(value_node, deep=True)
        data.lines[key] = line


def _construct_seq(loader, node):
    data = LineList()
    data.line, data.lines = node.start_mark.line + 1, [n.start_mark.line + 1 for n in node.value]
    yield data
    data.extend(loader.construct_object(n, deep=True) for n in node.value)


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)


def load_yaml(text: str, path: str, last_line: int):
    try:
        return yaml.load(text, Loader=_Loader)  # a SafeLoader: no arbitrary objects
    except _Problem as exc:
        raise ContentError(path, exc.line, exc.message) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        # a mark past the end (an unclosed bracket) is clamped to the last line
        line = min(mark.line + 1, last_line) if mark else 1
        problem = getattr(exc, "problem", None) or str(exc)
        raise ContentError(path, max(line, 1), f"bad YAML: {problem}") from None


class Fields:
    """Reads the fields of one YAML mapping, raising ContentError at the line of the bad one."""

    def __init__(self, data: LineMap, path: str, source_lines: list[str], what: str):
        self.data, self.path, self.source_lines, self.what = data, path, source_lines, what

    def line(self, key: str | None = None) -> int:
        return self.data.lines.get(key, self.data.line) if key is not None else self.data.line

    def fail(self, key: str | None, message: str):
        raise ContentError(self.path, self.line(key), message)

    def only(self, allowed: tuple[str, ...]) -> None:
        for key in self.data:
            if key not in allowed:
                self.fail(key, f"unknown field {key!r} in {self.what}; known fields: {', '.join(allowed)}")

    def get(self, key: str, default=None):
        return self.data.get(key, default)

    def sub(self, key: str, what: str) -> Fields | None:
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, LineMap):
            self.fail(key, f"'{key}' must be a mapping of fields")
        return Fields(value, self.path, self.source_lines, what)

    def ident(self, key: str = "id") -> str:
        value = self.data.get(key)
        if value is None or value == "":
            self.fail(key if key in self.data else None, f"missing '{key}' in {self.what}")
        value = str(value)
        if not ID.match(value):
            self.fail(key, f"bad {key} {value!r}: use lowercase letters, digits, '-', '_' and '.' (at most 100)")
        return value

    def choice(self, key: str, options: tuple[str, ...], default: str) -> str:
        value = self.data.get(key, default)
        if value not in options:
            self.fail(key, f"unknown {key} {value!r}; use one of {', '.join(options)}")
        return value

    def integer(self, key: str, default: int, low: int | None = None, high: int | None = None) -> int:
        value = self.data.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool):
            self.fail(key, f"'{key}' must be a whole number")
        if (low is not None and value < low) or (high is not None and value > high):
            self.fail(key, f"'{key}' must be between {low} and {high}" if high is not None else f"'{key}' must be at least {low}")
        return value

    def text(self, key: str, required: bool = False) -> Text | None:
        value = self.data.get(key)
        if value is None or value == "":
            if required:
                self.fail(key if key in self.data else None, f"missing '{key}' in {self.what}")
            return None
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return {"*": str(value).strip()}
        if isinstance(value, dict) and value:
            out = {}
            for loc, variant in value.items():
                if loc not in LOCALES:
                    self.fail(key, f"unknown locale {loc!r} in '{key}'; use {', '.join(LOCALES)}")
                if not isinstance(variant, (str, int, float)) or isinstance(variant, bool) or not str(variant).strip():
                    self.fail(key, f"'{key}' for {loc} must be non-empty text")
                out[loc] = str(variant).strip()
            return out
        self.fail(key, f"'{key}' must be text or a map of locales like {{ja: ..., en: ...}}")

    def words(self, key: str) -> list[str]:
        value = self.data.get(key)
        if value is None:
            return []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self.fail(key, f"'{key}' must be a list of names")
        return [v.strip() for v in value]

    def selector(self, key: str) -> str | None:
        value = self.data.get(key)
        if value is None:
            src = self.source_lines[self.line(key) - 1] if key in self.data and self.line(key) <= len(self.source_lines) else ""
            if re.search(rf"{key}\s*:\s*#", src):  # YAML reads an unquoted #id as a comment
                self.fail(key, f"quote the selector: {key}: \"#...\" (an unquoted # starts a YAML comment)")
            return None
        if not isinstance(value, str) or not value.strip():
            self.fail(key, f"'{key}' must be a CSS selector")
        problem = selector_problem(value.strip())
        if problem:
            self.fail(key, f"'{key}' is not a valid CSS selector: {json.dumps(value.strip(), ensure_ascii=False)}: {problem}")
        return value.strip()
