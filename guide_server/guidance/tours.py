"""The guidance content model: tours, hints and checklists from content/tours/.

Files are parsed and validated here (errors carry ``file:line``, via ``content.fields``);
step bodies are rendered and sanitised once, at load time. Loading and targeting live in
``library.py`` and ``targeting.py``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from ..content.fields import Fields, LineList, LineMap, Text, load_yaml
from ..content.markdown import front_matter, render
from ..content.rules import ContentError, decode

KINDS = ("tour", "hint", "checklist")
PLACEMENTS = ("auto", "top", "bottom", "left", "right")
ADVANCES = ("next", "click", "input", "submit")  # and {url}, {appear}, {disappear}, {event}: _advance()
MISSING = ("skip", "center", "abort")
FREQUENCIES = ("once", "until_completed", "always")
TRIGGERS = ("load", "manual")
BUTTONS = ("next", "back", "done")
DONE_WHEN = ("tour_completed", "url", "event", "click", "submit")

TOUR_FIELDS = ("id", "kind", "version", "title", "priority", "sites", "match", "trigger", "frequency", "steps",
               "draft")
CHECKLIST_FIELDS = ("id", "kind", "title", "priority", "sites", "match", "tasks", "draft")
STEP_FIELDS = ("id", "target", "placement", "title", "body", "advance", "url", "wait", "missing", "buttons",
               "idle_after")
TASK_FIELDS = ("id", "title", "tour", "done_when")
MATCH_FIELDS = ("urls", "traits", "after", "unless")

MAX_EVENT_NAME = 100  # a task's `done_when: {event}`, as Guide('track', name) sends it
MAX_WAIT_MS = 60_000
IDLE_AFTER_S = 30  # seconds on a step without progress before the widget reports "idle"
MAX_IDLE_S = 3600



@dataclass(frozen=True)
class UrlPattern:
    """A page pattern: '*' is any run of characters; with a '?' it also sees the query, with a '#'
    the hash route (``/app#/settings*``: hash-routed apps)."""

    source: str
    regex: re.Pattern
    with_query: bool
    with_hash: bool = False

    def matches(self, path: str, query: str, hash_route: str = "") -> bool:
        subject = path + ("?" + query if query else "") if self.with_query else path
        if self.with_hash:
            subject += hash_route
        return self.regex.fullmatch(subject) is not None


@dataclass(frozen=True)
class Match:
    urls: tuple[UrlPattern, ...] | None = None
    traits: dict[str, tuple[str, ...]] = field(default_factory=dict)
    after: tuple[str, ...] = ()
    unless: tuple[str, ...] = ()


@dataclass
class TourStep:
    id: str
    target: str | None
    placement: str
    title: Text | None
    html: Text | None
    advance: dict
    url: UrlPattern | None
    wait: int
    missing: str
    buttons: dict[str, Text]
    idle_after: int = IDLE_AFTER_S  # 0: never report idle on this step


@dataclass
class Tour:
    """A tour (modal, overlay) or a hint (light popup): ``kind`` tells which."""

    id: str
    kind: str
    version: int
    title: Text | None
    priority: int
    sites: list[str] | None
    match: Match
    trigger: dict
    frequency: str
    steps: list[TourStep]
    path: str
    refs: list[tuple[str, int, str]] = field(default_factory=list, repr=False)  # (tour id, line, field)
    id_line: int = 1
    draft: bool = False  # `draft: true`: never served to users, only in an editor's preview
    version_line: int = 1  # where `version:` is (else the id's line): a change of steps is blamed there


@dataclass
class ChecklistTask:
    id: str
    title: Text
    tour: str | None
    done_when: tuple[str, str | UrlPattern]  # ("tour_completed", id) | ("url", pattern) | ("event", name)
    # done_when {click: selector} / {submit: selector}: the widget watches the element and sends the
    # event named here (done_when is then ("event", that name)): (kind, selector, event name)
    element: tuple[str, str, str] | None = None


def element_event(kind: str, selector: str) -> str:
    """The event the widget sends when an element named by a task's ``done_when`` is clicked or submitted."""
    return f"{kind}:{hashlib.sha256(selector.encode()).hexdigest()[:16]}"


@dataclass
class Checklist:
    id: str
    title: Text
    html: Text | None
    priority: int
    sites: list[str] | None
    match: Match
    tasks: list[ChecklistTask]
    path: str
    refs: list[tuple[str, int, str]] = field(default_factory=list, repr=False)
    id_line: int = 1
    kind: str = "checklist"
    draft: bool = False  # as Tour.draft


Item = Tour | Checklist


@dataclass(frozen=True)
class TourSet:
    """One consistent set of content: tours and hints, and checklists, by id in file order."""

    tours: dict[str, Tour] = field(default_factory=dict)
    checklists: dict[str, Checklist] = field(default_factory=dict)

    @classmethod
    def of(cls, items: list[Item]) -> TourSet:
        return cls({i.id: i for i in items if isinstance(i, Tour)}, {i.id: i for i in items if isinstance(i, Checklist)})


def trait_value(value) -> str:
    """One comparable form for trait values from YAML and JSON (``5`` == ``"5"``, ``true`` == ``"true"``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def url_pattern(value, fields: Fields, key: str) -> UrlPattern:
    """Compile a page wildcard; it must look like a path (``/x*``) or start with ``*``."""
    if not isinstance(value, str) or not value:
        fields.fail(key, f"bad wildcard {value!r} in '{key}': give a path like \"/invoices*\"")
    if value.startswith("#"):  # a hash route on any page
        value = "*" + value
    head, _, route = value.partition("#")
    if (not value.startswith(("/", "*")) or re.search(r"\s", value) or value.count("?") > 1 or "#" in route
            or (route and not route.startswith(("/", "!/")))):
        fields.fail(key, f"bad wildcard {value!r} in '{key}': a path starting with '/' (or '*'), no spaces, "
                         "at most one '?', and at most one '#' followed by a route such as '#/settings'")
    regex = re.compile(".*".join(re.escape(part) for part in re.split(r"\*+", value)), re.S)
    return UrlPattern(value, regex, "?" in head, bool(route))


def read_match(fields: Fields) -> tuple[Match, list[tuple[str, int, str]]]:
    m = fields.sub("match", "match")
    if m is None:
        return Match(), []
    m.only(MATCH_FIELDS)
    urls = None
    if "urls" in m.data:
        raw = m.get("urls")
        raw = [raw] if isinstance(raw, str) else raw
        if not isinstance(raw, list) or not raw:
            m.fail("urls", "'urls' must be a list of wildcard patterns like \"/invoices*\"")
        urls = tuple(url_pattern(u, m, "urls") for u in raw)
    traits = {}
    t = m.sub("traits", "traits")
    if t is not None:
        for name, want in t.data.items():
            options = want if isinstance(want, list) else [want]
            if not options or not all(isinstance(o, (str, int, float, bool)) for o in options):
                t.fail(name, f"trait {name!r} must be a value or a list of values")
            traits[str(name)] = tuple(trait_value(o) for o in options)
    after, unless = m.words("after"), m.words("unless")
    refs = [(r, m.line("after"), "after") for r in after] + [(r, m.line("unless"), "unless") for r in unless]
    return Match(urls, traits, tuple(after), tuple(unless)), refs


def read_sites(fields: Fields) -> list[str] | None:
    return fields.words("sites") if "sites" in fields.data else None


def _draft(fields: Fields) -> bool:
    """``draft: true``: the item is shown only in an editor's preview; removing it publishes."""
    value = fields.get("draft", False)
    if not isinstance(value, bool):
        fields.fail("draft", "'draft' must be true or false")
    return value


def _trigger(fields: Fields) -> dict:
    value = fields.get("trigger", "load")
    if isinstance(value, str) and value in TRIGGERS:
        return {"type": value}
    if isinstance(value, LineMap) and set(value) == {"element"}:
        selector = Fields(value, fields.path, fields.source_lines, "trigger").selector("element")
        if selector is None:
            fields.fail("trigger", "'element' needs a CSS selector")
        return {"type": "element", "selector": selector}
    fields.fail("trigger", f"unknown trigger {value!r}; use load, manual or {{element: \"#selector\"}}")


ADVANCE_HELP = ("use next, click, input, submit, {url: \"/path*\"}, {appear: \"selector\"}, "
                "{disappear: \"selector\"} or {event: name}")


def _advance(step: Fields, target: str | None) -> dict:
    """How a step moves on: a button (next), the user's action on the target (click, input: once
    they finish typing, submit: the target's form), or the page (url, an element appearing or
    disappearing, an event the app tracks)."""
    value = step.get("advance", "next")
    if isinstance(value, LineMap):
        if len(value) != 1 or next(iter(value)) not in ("url", "appear", "disappear", "event"):
            step.fail("advance", f"unknown advance {dict(value)!r}; {ADVANCE_HELP}")
        kind = next(iter(value))
        if kind == "url":
            return {"type": "url", "url": url_pattern(value["url"], step, "advance").source}
        if kind == "event":
            name = value["event"]
            if not isinstance(name, str) or not 1 <= len(name.strip()) <= MAX_EVENT_NAME:
                step.fail("advance", f"'event' must be an event name of 1 to {MAX_EVENT_NAME} characters")
            return {"type": "event", "name": name.strip()}
        return {"type": kind, "selector": Fields(value, step.path, step.source_lines, "advance").selector(kind)
                or step.fail("advance", f"'{kind}' needs a CSS selector")}
    if value not in ADVANCES:
        step.fail("advance", f"unknown advance {value!r}; {ADVANCE_HELP}")
    if value in ("click", "input", "submit") and target is None:
        step.fail("advance", f"advance: {value} needs a 'target' to {value} in")
    return {"type": value}


def _step(data, path: str, source: list[str], line: int, n: int) -> TourStep:
    if not isinstance(data, LineMap):
        raise ContentError(path, line, f"step {n + 1} must be a mapping of fields")
    f = Fields(data, path, source, f"step {n + 1}")
    f.only(STEP_FIELDS)
    step_id = f.ident()
    target = f.selector("target")
    title, body = f.text("title"), f.text("body")
    if title is None and body is None:
        f.fail(None, f"step {step_id!r} needs a title or a body")
    buttons = {}
    b = f.sub("buttons", "buttons")
    if b is not None:
        b.only(BUTTONS)
        buttons = {k: b.text(k, required=True) for k in b.data}
    return TourStep(
        id=step_id, target=target, placement=f.choice("placement", PLACEMENTS, "auto"), title=title,
        html={loc: render(md)[0] for loc, md in body.items()} if body else None,
        advance=_advance(f, target), url=url_pattern(f.get("url"), f, "url") if f.get("url") is not None else None,
        wait=f.integer("wait", 3000, 0, MAX_WAIT_MS), missing=f.choice("missing", MISSING, "skip"), buttons=buttons,
        idle_after=f.integer("idle_after", IDLE_AFTER_S, 0, MAX_IDLE_S))


def _task(data, path: str, source: list[str], line: int, n: int) -> tuple[ChecklistTask, list]:
    if not isinstance(data, LineMap):
        raise ContentError(path, line, f"task {n + 1} must be a mapping of fields")
    f = Fields(data, path, source, f"task {n + 1}")
    f.only(TASK_FIELDS)
    task_id, title = f.ident(), f.text("title", required=True)
    tour = f.ident("tour") if "tour" in data else None
    refs = [(tour, f.line("tour"), "tour")] if tour else []
    d = f.sub("done_when", "done_when")
    if d is None:
        if tour is None:
            f.fail(None, f"task {task_id!r} needs 'done_when' (or a 'tour', whose completion then ticks it)")
        return ChecklistTask(task_id, title, tour, ("tour_completed", tour)), refs
    if len(d.data) != 1 or next(iter(d.data)) not in DONE_WHEN:
        f.fail("done_when", f"'done_when' takes one of {', '.join(DONE_WHEN)}")
    kind, value = next(iter(d.data.items()))
    element = None
    if kind == "tour_completed":
        done = d.ident("tour_completed")
        refs.append((done, d.line(kind), "tour_completed"))
    elif kind == "url":
        done = url_pattern(value, d, "url")
    elif kind in ("click", "submit"):
        selector = d.selector(kind)
        if selector is None:
            d.fail(kind, f"'{kind}' needs a CSS selector")
        kind, done = "event", element_event(kind, selector)
        element = (next(iter(d.data)), selector, done)
    else:
        if not isinstance(value, str) or not 1 <= len(value.strip()) <= MAX_EVENT_NAME:
            d.fail("event", f"'event' must be an event name of 1 to {MAX_EVENT_NAME} characters")
        done = value.strip()
    return ChecklistTask(task_id, title, tour, (kind, done), element), refs


def _list(fields: Fields, key: str, required_for: str) -> LineList:
    value = fields.get(key)
    if value is None:
        fields.fail(key if key in fields.data else None, f"missing '{key}': a {required_for} needs at least one")
    if not isinstance(value, LineList) or not value:
        fields.fail(key, f"'{key}' must be a non-empty list")
    return value


def parse_item(raw: bytes, relpath: str) -> Item:
    """Parse one file of content/tours; ``relpath`` is what errors show (e.g. ``tours/welcome.yml``)."""
    text = decode(raw, relpath)
    body = body_line = None
    if relpath.endswith(".md"):
        split = front_matter(text)
        if split is None:
            raise ContentError(relpath, 1, "missing YAML front matter (the file must start with a '---' line)")
        # A blank first line keeps YAML's line numbers equal to the file's.
        yaml_text, body, body_line = "\n" + split.yaml, split.body, split.body_line
    else:
        yaml_text = text
    source = yaml_text.splitlines()
    data = load_yaml(yaml_text, relpath, max(len(source), 1))
    if data is None:
        raise ContentError(relpath, 1, "empty file: a tour needs at least 'id' and 'steps'")
    if not isinstance(data, LineMap):
        raise ContentError(relpath, 1, "the file must be a mapping of fields (id, kind, steps, ...)")
    f = Fields(data, relpath, source, "the file")
    kind = f.choice("kind", KINDS, "tour")
    f.only(CHECKLIST_FIELDS if kind == "checklist" else TOUR_FIELDS)
    item_id = f.ident()
    match, refs = read_match(f)
    priority = f.integer("priority", 0)
    if kind == "checklist":
        tasks = []
        for n, t in enumerate(_list(f, "tasks", "checklist")):
            task, task_refs = _task(t, relpath, source, data["tasks"].lines[n], n)
            tasks.append(task)
            refs += task_refs
        _unique([t.id for t in tasks], data["tasks"], relpath, "task")
        html = {"*": render(body)[0]} if body and body.strip() else None
        return Checklist(item_id, f.text("title", required=True), html, priority, read_sites(f), match, tasks,
                         relpath, refs, f.line("id"), draft=_draft(f))
    if body is not None:
        steps = _md_steps(f, body, body_line, relpath, source)
    else:
        raw_steps = _list(f, "steps", kind)
        steps = [_step(s, relpath, source, raw_steps.lines[n], n) for n, s in enumerate(raw_steps)]
        _unique([s.id for s in steps], raw_steps, relpath, "step")
    return Tour(item_id, kind, f.integer("version", 1, 1), f.text("title"), priority, read_sites(f), match,
                _trigger(f), f.choice("frequency", FREQUENCIES, "once"), steps, relpath, refs, f.line("id"),
                draft=_draft(f), version_line=f.line("version") if "version" in data else f.line("id"))


def _md_steps(f: Fields, body: str, body_line: int, relpath: str, source: list[str]) -> list[TourStep]:
    """A Markdown tour is one step: the body, with the step's other fields in ``steps: [{...}]``."""
    if not body.strip():
        raise ContentError(relpath, body_line, "empty body: the step's text goes below the front matter")
    raw = f.get("steps")
    if raw is None:
        raw = LineList([LineMap(id="main")])
        raw.lines, raw[0].lines = [f.line()], {"id": f.line()}
    elif not isinstance(raw, LineList) or len(raw) != 1:
        f.fail("steps", "a Markdown tour has one step (the body); use a .yml file for several")
    if isinstance(raw[0], LineMap) and "body" in raw[0]:
        Fields(raw[0], relpath, source, "step 1").fail("body", "the body of a Markdown tour is the text below the front matter")
    if isinstance(raw[0], LineMap):
        raw[0]["body"] = body.strip()
        raw[0].lines.setdefault("body", body_line)
    return [_step(raw[0], relpath, source, raw.lines[0], 0)]


def _unique(ids: list[str], seq: LineList, path: str, what: str) -> None:
    seen = set()
    for n, item_id in enumerate(ids):
        if item_id in seen:
            raise ContentError(path, seq.lines[n], f"duplicate {what} id {item_id!r}")
        seen.add(item_id)


def check_collection(items: list[Item]) -> list[ContentError]:
    """Cross-file checks: unique ids, and every tour named by after/unless/tour/tour_completed exists."""
    errors, first = [], {}
    for item in items:
        if item.id in first:
            errors.append(ContentError(item.path, item.id_line, f"duplicate id {item.id!r} (also in {first[item.id].path})"))
        else:
            first[item.id] = item
    for item in items:
        for ref, line, key in item.refs:
            target = first.get(ref)
            if target is None:
                errors.append(ContentError(item.path, line, f"'{key}' names {ref!r}, which is no tour"))
            elif target.kind == "checklist":
                errors.append(ContentError(item.path, line, f"'{key}' names {ref!r}, which is a checklist, not a tour"))
    return errors
