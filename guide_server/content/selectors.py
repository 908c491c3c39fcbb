"""CSS selector syntax, checked when content is read: a typo in a tour's ``target`` fails at
``file:line`` on the editor's machine instead of leaving a step with nothing to point at.

The rule (``selector_problem``):

1. The selector must parse with soupsieve (Beautiful Soup's CSS engine, which follows the
   Selectors Level 4 grammar): ``#save-invoice]``, ``..btn``, ``div[data-x=``, ``:nth-child(``,
   ``#1abc``, ``div >``, ``:not()`` are errors.
2. Pseudo-elements (``::part(label)``, ``::before``) and pseudo-classes soupsieve does not implement
   (``:modal``, ``:state(open)``, ``:-moz-focusring``, ``:popover-open`` in older soupsieves) are
   accepted, whatever their name, when their parentheses and quotes are balanced: each is put
   aside (replaced by ``:is(*)``) and the rest must parse. Browsers add pseudo-classes every
   year, and refusing a valid one would stop a tour from loading, so a misspelt one (``:hovr``) is
   not caught here; the widget names it in the browser's console when the step runs.
3. Refused although soupsieve accepts them, because browsers throw on them: soupsieve's own
   ``:-soup-contains()`` and ``[attr!=value]``, and the pseudo-classes of jQuery and Playwright
   (``:contains()``, ``:visible``, ``:eq()``, ``:has-text()``...), often copied from tests.
4. Where soupsieve is stricter than browsers about what may stand inside ``:has()`` or
   ``:not()`` ("strict rules"), the selector is accepted.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from functools import lru_cache

# Not CSS: browsers' querySelector throws on these. Lowercase, without the colon.
NOT_CSS = frozenset({
    # soupsieve's extensions
    "-soup-contains", "-soup-contains-own",
    # jQuery (Sizzle)
    "contains", "eq", "gt", "lt", "first", "last", "even", "odd", "visible", "hidden", "header", "input", "button",
    "text", "password", "radio", "checkbox", "submit", "reset", "image", "file", "selected", "parent", "animated",
    # Playwright
    "has-text", "text-is", "text-matches", "nth-match", "left-of", "right-of", "above", "below", "near",
})
NEUTRAL = ":is(*)"  # stands for a pseudo-class or pseudo-element soupsieve does not know
MAX_PASSES = 32

_UNSUPPORTED = re.compile(r"^'(:[^']+)' was detected as a pseudo-class and is either unsupported or invalid")
_UNDEFINED_CUSTOM = re.compile(r"^Undefined custom selector '(:[^']+)'")
_PSEUDO_ELEMENT = re.compile(r"^Pseudo-element found at position (\d+)")
_NAME = re.compile(r"-?-?(?:[\w-]|\\.)+")  # a pseudo-class's name (\w: any script, as CSS allows)
_POSITION = re.compile(r"\b(?:at )?posi?ti?on (\d+)")


@dataclass(frozen=True)
class _Pseudo:
    start: int  # at the first colon
    end: int  # past the name, or past the ')' of its argument
    name: str  # lowercase, without colons
    element: bool  # '::'
    closed: bool = True  # False: its '(' has no matching ')'


def _skip_string(text: str, i: int) -> int:
    """Past the quoted string that starts at ``text[i]``; the end of ``text`` when it is not closed."""
    quote, i = text[i], i + 1
    while i < len(text) and text[i] != quote:
        i += 2 if text[i] == "\\" else 1
    return i + 1


def _scan(text: str) -> tuple[list[_Pseudo], bool]:
    """The pseudo-classes and pseudo-elements of ``text`` (also those inside another's argument),
    and whether an attribute selector uses soupsieve's ``!=``."""
    found, not_equal, i, n = [], False, 0, len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
        elif c in "\"'":
            i = _skip_string(text, i)
        elif c == "[":
            i += 1
            while i < n and text[i] != "]":
                if text[i] in "\"'":
                    i = _skip_string(text, i)
                    continue
                if text[i] == "\\":
                    i += 1
                elif text[i:i + 2] == "!=":
                    not_equal = True
                i += 1
            i += 1
        elif c == ":":
            start = i
            element = text[i:i + 2] == "::"
            i += 2 if element else 1
            m = _NAME.match(text, i)
            if not m:
                continue
            name, i = m.group(0).lower(), m.end()
            closed = True
            if i < n and text[i] == "(":
                depth, j = 1, i + 1
                while j < n and depth:
                    if text[j] in "\"'":
                        j = _skip_string(text, j)
                        continue
                    if text[j] == "\\":
                        j += 1
                    depth += {"(": 1, ")": -1}.get(text[j], 0)
                    j += 1
                closed = depth == 0
                found.append(_Pseudo(start, j, name, element, closed))
                i += 1  # go on inside the argument: it may hold pseudo-classes too
            else:
                found.append(_Pseudo(start, i, name, element))
        else:
            i += 1
    return found, not_equal


def _compile(soupsieve, text: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # soupsieve's deprecation of :contains, refused anyway
        soupsieve.compile(text)


def _friendly(message: str, selector: str, position: int | None) -> str:
    """soupsieve's message in an editor's words, with 1-based character positions of ``selector``."""
    first = message.splitlines()[0].rstrip(".")
    stripped = selector.strip()
    if first.startswith("Invalid character") and (stripped[:1] in ">+~," or stripped[-1:] in ">+~,"):
        return "a combinator (>, +, ~) or a comma needs a selector on both sides"
    at = f" at character {position + 1}" if position is not None else ""
    after = selector[position + 1:position + 2] if position is not None else ""
    if first.startswith("Malformed id selector"):
        digits = after.isdigit() or (after == "-" and selector[position + 2:position + 3].isdigit())
        name = re.match(r"[\w-]*", selector[position + 1:]).group(0)
        hint = f" (an id cannot start with a digit: write [id=\"{name}\"])" if digits else ""
        return f"malformed #id{at}{hint}"
    if first.startswith("Malformed class selector"):
        hint = " (a class name cannot start with a digit)" if after.isdigit() else ""
        return f"malformed .class{at}{hint}"
    if first.startswith("Malformed attribute selector"):
        return f"unclosed or malformed [attribute]{at} (quote a value with spaces or symbols: [data-x=\"a b\"])"
    if first.startswith("Unclosed pseudo-class"):
        return f"unclosed '('{at}"
    if first.startswith("Unmatched pseudo-class close"):
        return f"')' without '('{at}"
    if first.startswith("Expected a selector"):
        return f"a selector is missing{at}"
    m = re.match(r"Invalid character '(.)'", first)
    if m:
        return f"unexpected {m.group(1)!r}{at}"
    text = _POSITION.sub(f"at character {position + 1}" if position is not None else "", first).strip()
    return text[:1].lower() + text[1:]


@lru_cache(maxsize=4096)
def selector_problem(selector: str) -> str | None:
    """What is wrong with ``selector``'s syntax, or None when a browser would parse it (the module's rule)."""
    pseudos, not_equal = _scan(selector)
    for p in pseudos:
        if not p.element and p.name in NOT_CSS:
            return (f":{p.name} at character {p.start + 1} is not CSS (soupsieve's, jQuery's or Playwright's): "
                    "browsers refuse the selector; use an id, a class or a [data-*] attribute")
    if not_equal:
        return "[attr!=value] is not CSS: write :not([attr=value])"
    import soupsieve  # with bs4: 60 ms, paid by content loading only

    text, edits = selector, []  # edits: (at, length replaced, length put) in the text of their time

    def original(pos: int) -> int:
        for at, old, new in reversed(edits):
            if pos >= at + new:
                pos -= new - old
            elif pos > at:
                pos = at
        return pos

    for _ in range(MAX_PASSES):
        try:
            _compile(soupsieve, text)
            return None
        except NotImplementedError as exc:  # a pseudo-element
            m = _PSEUDO_ELEMENT.match(str(exc))
            pos = int(m.group(1)) if m else -1
            found = next((p for p in _scan(text)[0] if p.start == pos), None)
            if found is None:
                return f"unsupported selector: {str(exc).splitlines()[0]}"
        except soupsieve.SelectorSyntaxError as exc:
            message = str(exc)
            if "strict rules" in message:  # soupsieve is stricter than browsers here (rule 4)
                return None
            m = _UNSUPPORTED.match(message) or _UNDEFINED_CUSTOM.match(message)
            if m is None:
                col = getattr(exc, "col", None)
                pos = original(col - 1) if isinstance(col, int) and col >= 1 else None
                mpos = _POSITION.search(message.splitlines()[0])
                if mpos:
                    pos = original(int(mpos.group(1)))
                return _friendly(message, selector, pos)
            name = m.group(1).lstrip(":").lower()
            found = next((p for p in _scan(text)[0] if not p.element and p.name == name), None)
            if found is None:
                return message.splitlines()[0]
        if not found.closed:
            colons = "::" if found.element else ":"
            return f"unclosed '(' after {colons}{found.name} at character {original(found.start) + 1}"
        edits.append((found.start, found.end - found.start, len(NEUTRAL)))
        text = text[:found.start] + NEUTRAL + text[found.end:]
    return None  # more unknown pseudo-classes than anyone writes: accepted (rule 2)
