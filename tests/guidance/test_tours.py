import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from guide_server.content.fields import pick
from guide_server.content.rules import ContentError
from guide_server.guidance.library import TourLibrary, load_tours
from guide_server.guidance.targeting import (
    Page,
    Progress,
    Visitor,
    choose_autostart,
    eligible,
    frequency_allows,
    page_of,
    tours_for_page,
)
from guide_server.guidance.tours import Checklist, Tour, TourSet, check_collection, parse_item
from tests.support import ROOT

FULL_TOUR = """\
id: first-invoice
kind: tour
version: 2
title: {ja: はじめての請求書, en: Your first invoice}
priority: 10
sites: [demo]
match:
  urls: ["/demo/invoices*"]
  traits: {plan: [pro, enterprise], seats: 5}
trigger: {element: "#app"}
frequency: until_completed
steps:
  - id: open-list
    target: "#nav-invoices"
    placement: bottom
    title: {ja: 一覧, en: The list}
    body: {ja: "**ここ**です <script>alert(1)</script>", en: "[x](javascript:alert(1)) and [ok](https://example.com)"}
    advance: click
    url: "/demo/invoices"
    wait: 5000
    missing: abort
    buttons: {next: {ja: 次へ, en: Next}}
    idle_after: 90
  - id: last
    body: 完了
    advance: {url: "/demo/invoices/new*"}
"""


def parse(text: str, name: str = "t.yml"):
    return parse_item(text.encode(), "tours/" + name)


def write_tours(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def tour(tour_id: str, *, kind: str = "tour", priority: int = 0, extra: str = "", steps: str | None = None) -> str:
    steps = steps or "steps:\n  - id: s1\n    body: hello\n"
    return f"id: {tour_id}\nkind: {kind}\npriority: {priority}\n{extra}{steps}"


# --- the model ----------------------------------------------------------------------------------

def test_full_tour_parses_with_every_field():
    t = parse(FULL_TOUR)
    assert isinstance(t, Tour)
    assert (t.id, t.kind, t.version, t.priority, t.sites, t.frequency) == ("first-invoice", "tour", 2, 10, ["demo"], "until_completed")
    assert pick(t.title, "en") == "Your first invoice" and pick(t.title, "ja") == "はじめての請求書"
    assert t.trigger == {"type": "element", "selector": "#app"}
    assert [u.source for u in t.match.urls] == ["/demo/invoices*"]
    assert t.match.traits == {"plan": ("pro", "enterprise"), "seats": ("5",)}
    first, last = t.steps
    assert (first.target, first.placement, first.advance, first.wait, first.missing) == (
        "#nav-invoices", "bottom", {"type": "click"}, 5000, "abort")
    assert first.url.source == "/demo/invoices" and pick(first.buttons["next"], "en") == "Next"
    assert (last.target, last.placement, last.wait, last.missing, last.title) == (None, "auto", 3000, "skip", None)
    assert (first.idle_after, last.idle_after) == (90, 30)  # seconds before the widget reports "idle"
    assert last.advance == {"type": "url", "url": "/demo/invoices/new*"}


def test_step_bodies_are_rendered_and_sanitised_at_load():
    first, last = parse(FULL_TOUR).steps
    assert first.html["ja"].startswith("<p><strong>ここ</strong>")
    assert "<script>" not in first.html["ja"] and "&lt;script&gt;" in first.html["ja"]
    assert 'href="javascript' not in first.html["en"] and '<a href="https://example.com"' in first.html["en"]
    assert last.html == {"*": "<p>完了</p>\n"}


def test_defaults():
    t = parse("id: a\nsteps:\n  - id: s\n    title: Hi\n")
    assert (t.kind, t.version, t.priority, t.sites, t.trigger, t.frequency, t.title) == (
        "tour", 1, 0, None, {"type": "load"}, "once", None)
    assert t.match.urls is None and t.match.traits == {} and t.steps[0].advance == {"type": "next"}


def test_locale_fallback_is_the_first_variant():
    t = parse("id: a\ntitle: {en: English first, ja: 日本語}\nsteps:\n  - id: s\n    title: {en: Only English}\n")
    assert pick(t.title, "ja") == "日本語"
    assert pick(t.steps[0].title, "ja") == "Only English"
    assert pick({"*": "same"}, "en") == "same"


def test_markdown_tour_is_one_step_with_the_body():
    text = "---\nid: welcome\ntitle: Hi\nsteps:\n  - id: hello\n    target: \"#logo\"\n---\n# x\n\nWelcome **here**.\n"
    t = parse(text, "welcome.md")
    assert [s.id for s in t.steps] == ["hello"] and t.steps[0].target == "#logo"
    assert "<strong>here</strong>" in t.steps[0].html["*"]
    bare = parse("---\nid: bare\n---\nJust text.\n", "bare.md")
    assert bare.steps[0].id == "main" and bare.steps[0].target is None


def test_markdown_checklist_body_is_its_description():
    c = parse("---\nid: onboarding\nkind: checklist\ntitle: Start\ntasks:\n  - id: a\n    title: A\n"
              "    done_when: {event: did_a}\n---\nDo *this*.\n", "c.md")
    assert isinstance(c, Checklist)
    assert c.html == {"*": "<p>Do <em>this</em>.</p>\n"}
    assert c.tasks[0].done_when == ("event", "did_a")


def test_task_with_only_a_tour_is_done_by_completing_it():
    c = parse("id: c\nkind: checklist\ntitle: T\ntasks:\n  - id: a\n    title: A\n    tour: first\n")
    assert c.tasks[0].done_when == ("tour_completed", "first") and c.tasks[0].tour == "first"


# --- validation errors, each at its file:line -----------------------------------------------------

@pytest.mark.parametrize("name, text, where, message", [
    ("t.yml", "id: a\nsteps: [\n  {id: s\n", 3, "bad YAML"),
    ("t.yml", "", 1, "empty file"),
    ("t.yml", "- a\n- b\n", 1, "must be a mapping"),
    ("t.yml", "kind: tour\nsteps:\n  - id: s\n    body: x\n", 1, "missing 'id'"),
    ("t.yml", "id: Bad Id\nsteps:\n  - id: s\n    body: x\n", 1, "bad id 'Bad Id'"),
    ("t.yml", "id: a\ntitle: x\n", 1, "missing 'steps'"),
    ("t.yml", "id: a\nsteps: []\n", 2, "non-empty list"),
    ("t.yml", "id: a\nsteps:\n  - id: s\n    body: x\n  - id: s\n    body: y\n", 5, "duplicate step id 's'"),
    ("t.yml", "id: a\nkind: popup\nsteps:\n  - id: s\n    body: x\n", 2, "unknown kind 'popup'"),
    ("t.yml", "id: a\nsteps:\n  - id: s\n    body: x\n    advance: clik\n", 5, "unknown advance 'clik'"),
    ("t.yml", "id: a\nsteps:\n  - id: s\n    body: x\n    advance: {hover: x}\n", 5, "unknown advance"),
    ("t.yml", "id: a\nsteps:\n  - id: s\n    body: x\n    missing: retry\n", 5, "unknown missing 'retry'"),
    ("t.yml", "id: a\nfrequency: daily\nsteps:\n  - id: s\n    body: x\n", 2, "unknown frequency 'daily'"),
    ("t.yml", "id: a\nsteps:\n  - id: s\n    body: x\n    placement: middle\n", 5, "unknown placement 'middle'"),
    ("t.yml", "id: a\ntrigger: hover\nsteps:\n  - id: s\n    body: x\n", 2, "unknown trigger 'hover'"),
    ("t.yml", "id: a\ntrigger: {element: 3}\nsteps:\n  - id: s\n    body: x\n", 2, "CSS selector"),
    ("t.yml", "id: a\nmatch:\n  urls: [\"demo/*\"]\nsteps:\n  - id: s\n    body: x\n", 3, "bad wildcard 'demo/*'"),
    ("t.yml", "id: a\nmatch:\n  urls: [\"/a b\"]\nsteps:\n  - id: s\n    body: x\n", 3, "bad wildcard"),
    ("t.yml", "id: a\nsteps:\n  - id: s\n    body: x\n    url: \"/x#top\"\n", 5, "bad wildcard '/x#top'"),
    ("t.yml", "id: a\nsteps:\n  - id: s\n    body: x\n    advance: {url: \"next\"}\n", 5, "bad wildcard 'next'"),
    ("t.yml", "id: a\nstpes:\n  - id: s\n", 2, "unknown field 'stpes'"),
    ("t.yml", "id: a\nsteps:\n  - id: s\n    body: x\n    bdy: y\n", 5, "unknown field 'bdy' in step 1"),
    ("t.yml", "id: a\nmatch:\n  url: [\"/x\"]\nsteps:\n  - id: s\n    body: x\n", 3, "unknown field 'url' in match"),
    ("t.yml", "id: a\nid: b\nsteps:\n  - id: s\n    body: x\n", 2, "duplicate key 'id'"),
    ("t.yml", "id: a\nsteps:\n  - id: s\n    body: x\n    target: #save\n", 5, "quote the selector"),
    ("t.yml", "id: a\nsteps:\n  - id: s\n    body: x\n    advance: input\n", 5, "advance: input needs a 'target'"),
    ("t.yml", "id: a\nsteps:\n  - id: s\n    body: {ja: x, fr: y}\n", 4, "unknown locale 'fr'"),
    ("t.yml", "id: a\nsteps:\n  - id: s\n    target: \"#x\"\n", 3, "needs a title or a body"),
    ("t.yml", "id: a\nsteps:\n  - just text\n", 3, "step 1 must be a mapping"),
    ("t.yml", "id: a\nversion: 0\nsteps:\n  - id: s\n    body: x\n", 2, "'version' must be at least 1"),
    ("t.yml", "id: a\nversion: one\nsteps:\n  - id: s\n    body: x\n", 2, "'version' must be a whole number"),
    ("t.yml", "id: a\nsteps:\n  - id: s\n    body: x\n    wait: 999999\n", 5, "'wait' must be between 0 and 60000"),
    ("t.yml", "id: a\nsteps:\n  - id: s\n    body: x\n    idle_after: -1\n", 5, "'idle_after' must be between 0 and 3600"),
    ("t.yml", "id: a\nsteps:\n  - id: s\n    body: x\n    idle_after: 1.5\n", 5, "'idle_after' must be a whole number"),
    ("t.yml", "id: a\nmatch:\n  traits: {plan: {a: 1}}\nsteps:\n  - id: s\n    body: x\n", 3, "trait 'plan'"),
    ("t.yml", "id: a\nmatch:\n  after: [1, 2]\nsteps:\n  - id: s\n    body: x\n", 3, "'after' must be a list of names"),
    ("t.yml", "id: a\nkind: checklist\ntasks:\n  - id: x\n    title: X\n    tour: b\n", 1, "missing 'title'"),
    ("t.yml", "id: c\nkind: checklist\ntitle: C\ntasks:\n  - id: x\n    title: X\n", 5, "needs 'done_when'"),
    ("t.yml", "id: c\nkind: checklist\ntitle: C\ntasks:\n  - id: x\n    title: X\n    done_when: {event: a, url: /b}\n",
     7, "'done_when' takes one of"),
    ("t.yml", "id: c\nkind: checklist\ntitle: C\ntasks:\n  - id: x\n    title: X\n    done_when: {url: b}\n",
     7, "bad wildcard 'b'"),
    ("t.yml", "id: c\nkind: checklist\ntitle: C\nsteps: []\ntasks:\n  - id: x\n    title: X\n    tour: a\n",
     4, "unknown field 'steps'"),
    ("t.yml", "id: c\nkind: checklist\ntitle: C\ntasks:\n  - id: x\n    title: X\n    tour: a\n  - id: x\n    title: Y\n"
     "    tour: a\n", 8, "duplicate task id 'x'"),
    ("a.md", "id: a\n", 1, "missing YAML front matter"),
    ("a.md", "---\nid: a\ntitle: [x\n---\nbody\n", 3, "bad YAML"),
    ("a.md", "---\nid: a\nkind: tour\n---\n\n  \n", 5, "empty body"),
    ("a.md", "---\nid: a\nsteps:\n  - id: x\n  - id: y\n---\nbody\n", 3, "one step"),
    ("a.md", "---\nid: a\nsteps:\n  - id: x\n    body: two bodies\n---\nbody\n", 5, "the body of a Markdown tour"),
])
def test_validation_errors_name_file_and_line(name, text, where, message):
    with pytest.raises(ContentError) as info:
        parse(text, name)
    assert str(info.value).startswith(f"tours/{name}:{where}: "), str(info.value)
    assert message in str(info.value)


def test_not_utf8_is_an_error():
    with pytest.raises(ContentError, match=r"tours/a.yml:1: not UTF-8"):
        parse_item(b"id: \xff\xfe\n", "tours/a.yml")


def test_collection_errors_name_the_file_and_line():
    items = [
        parse("id: a\nsteps:\n  - id: s\n    body: x\n", "a.yml"),
        parse("# the same id again\nid: a\nsteps:\n  - id: s\n    body: x\n", "b.yml"),
        parse("id: c\nmatch:\n  after: [a]\n  unless: [ghost]\nsteps:\n  - id: s\n    body: x\n", "c.yml"),
        parse("id: d\nkind: checklist\ntitle: D\ntasks:\n  - id: t\n    title: T\n    tour: nope\n"
              "  - id: u\n    title: U\n    done_when: {tour_completed: missing}\n", "d.yml"),
        parse("id: e\nmatch:\n  after: [d]\nsteps:\n  - id: s\n    body: x\n", "e.yml"),
    ]
    assert [str(e) for e in check_collection(items)] == [
        "tours/b.yml:2: duplicate id 'a' (also in tours/a.yml)",
        "tours/c.yml:4: 'unless' names 'ghost', which is no tour",
        "tours/d.yml:7: 'tour' names 'nope', which is no tour",
        "tours/d.yml:10: 'tour_completed' names 'missing', which is no tour",
        "tours/e.yml:3: 'after' names 'd', which is a checklist, not a tour",
    ]


# --- targeting ------------------------------------------------------------------------------------

@pytest.mark.parametrize("pattern, url, expected", [
    ("/demo/invoices*", "/demo/invoices", True),
    ("/demo/invoices*", "https://app.example/demo/invoices/12?tab=2#x", True),
    ("/demo/invoices*", "/demo/invoice", False),
    ("/demo/invoices", "/demo/invoices/", False),
    ("/demo/invoices/*/edit", "/demo/invoices/12/edit", True),
    ("/demo/invoices/*/edit", "/demo/invoices/12/view", False),
    ("/demo/**", "/demo/a/b/c", True),
    ("*/settings", "/x/y/settings", True),
    ("/search?q=*", "/search?q=tax&page=2", True),
    ("/search?q=*", "/search", False),
    ("/search", "/search?q=tax", True),  # without '?' the query is ignored
    ("/請求書*", "/%E8%AB%8B%E6%B1%82%E6%9B%B8/1", True),
    ("/a.b", "/axb", False),  # only '*' is special
])
def test_url_patterns(pattern, url, expected):
    t = parse(f"id: a\nmatch:\n  urls: [\"{pattern}\"]\nsteps:\n  - id: s\n    body: x\n")
    page = page_of(url)
    assert t.match.urls[0].matches(page.path, page.query) is expected


def test_page_of_absent_url_matches_only_untargeted():
    anywhere = parse("id: a\nsteps:\n  - id: s\n    body: x\n")
    somewhere = parse("id: b\nmatch:\n  urls: [\"*\"]\nsteps:\n  - id: s\n    body: x\n")
    assert page_of(None) is None and page_of("") is None
    assert eligible(anywhere, "demo", None, Visitor()) and not eligible(somewhere, "demo", None, Visitor())


@pytest.mark.parametrize("traits, expected", [
    ({"plan": "pro", "seats": 5}, True),
    ({"plan": "enterprise", "seats": "5"}, True),
    ({"plan": "free", "seats": 5}, False),
    ({"plan": "pro"}, False),
    ({"plan": "pro", "seats": 5.0}, True),
])
def test_trait_targeting(traits, expected):
    t = parse(FULL_TOUR)
    assert eligible(t, "demo", Page("/demo/invoices"), Visitor(traits=traits)) is expected


def test_sites_restrict():
    t = parse(FULL_TOUR)
    visitor = Visitor(traits={"plan": "pro", "seats": 5})
    assert eligible(t, "demo", Page("/demo/invoices"), visitor)
    assert not eligible(t, "other", Page("/demo/invoices"), visitor)


def test_after_and_unless():
    t = parse("id: adv\nmatch:\n  after: [basics, setup]\n  unless: [expert]\nsteps:\n  - id: s\n    body: x\n")
    page = Page("/")
    assert not eligible(t, "demo", page, Visitor(completed={"basics"}))
    assert eligible(t, "demo", page, Visitor(completed={"basics", "setup"}))
    assert not eligible(t, "demo", page, Visitor(completed={"basics", "setup", "expert"}))


@pytest.mark.parametrize("frequency, status, completed, allowed", [
    ("once", "new", False, True),
    ("once", "active", False, True),
    ("once", "dismissed", False, False),
    ("once", "completed", True, False),
    ("once", "active", True, False),  # restarted after completion: still done for 'once'
    ("until_completed", "dismissed", False, True),
    ("until_completed", "completed", True, False),
    ("always", "completed", True, True),
    ("always", "dismissed", False, True),
])
def test_frequency(frequency, status, completed, allowed):
    t = parse(f"id: a\nfrequency: {frequency}\nsteps:\n  - id: s\n    body: x\n")
    assert frequency_allows(t, Progress(status, 0, 1, completed)) is allowed


def _set(*texts: str) -> TourSet:
    return TourSet.of([parse(text, f"{n}.yml") for n, text in enumerate(texts)])


def test_autostart_picks_the_highest_priority_load_tour():
    content = _set(
        tour("low", priority=1), tour("high", priority=5), tour("manual", priority=9, extra="trigger: manual\n"),
        tour("hint", kind="hint", priority=99), tour("elsewhere", priority=50, extra="match:\n  urls: [\"/other\"]\n"),
        tour("also-high", priority=5),
    )
    page, visitor = Page("/demo"), Visitor()
    found = tours_for_page(content, "demo", page, visitor)
    assert [t.id for t in found] == ["low", "high", "manual", "hint", "also-high"]
    assert choose_autostart(found, "demo", page, visitor) == "high"  # ties go to file order
    visitor.progress["high"] = Progress("dismissed", 0, 1)
    found = tours_for_page(content, "demo", page, visitor)
    assert choose_autostart(found, "demo", page, visitor) == "also-high"


def test_hints_and_manual_tours_never_autostart():
    content = _set(tour("hint", kind="hint"), tour("manual", extra="trigger: manual\n"))
    found = tours_for_page(content, "demo", Page("/"), Visitor())
    assert len(found) == 2 and choose_autostart(found, "demo", Page("/"), Visitor()) is None


def test_active_tour_resumes_on_its_steps_page():
    content = _set(
        tour("big", priority=100),
        tour("spanning", extra="match:\n  urls: [\"/start\"]\n",
             steps="steps:\n  - id: a\n    body: x\n  - id: b\n    url: \"/invoices/new*\"\n    body: y\n"),
    )
    visitor = Visitor(progress={"spanning": Progress("active", 1, 1)})
    on_other = tours_for_page(content, "demo", Page("/elsewhere"), visitor)
    assert [t.id for t in on_other] == ["big", "spanning"]  # in progress: sent whatever the page
    assert choose_autostart(on_other, "demo", Page("/elsewhere"), visitor) == "big"
    here = tours_for_page(content, "demo", Page("/invoices/new"), visitor)
    assert choose_autostart(here, "demo", Page("/invoices/new"), visitor) == "spanning"


# --- loading the folder, and hot pickup -------------------------------------------------------------

def _bump(path: Path, text: str) -> None:
    """Rewrite a file so that its stamp surely changes, even on coarse-mtime filesystems."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(before + 10**9, before + 10**9))


def test_folder_loading_skips_drafts_and_readme(tmp_path):
    root = write_tours(tmp_path / "tours", {
        "a.yml": tour("a"), "sub/b.yaml": tour("b"), "c.md": "---\nid: c\n---\nHi\n",
        "drafts/d.yml": tour("d"), "_e.yml": tour("e"), "README.md": "# notes", "notes.txt": "x",
    })
    items, errors = load_tours(root)
    assert sorted(i.id for i in items) == ["a", "b", "c"] and not errors
    assert load_tours(tmp_path / "missing") == ([], [])


def test_edited_file_is_picked_up_on_the_next_call(tmp_path):
    root = write_tours(tmp_path / "tours", {"a.yml": tour("a", extra="title: Old\n")})
    library = TourLibrary(root)
    assert pick(library.current().tours["a"].title, "ja") == "Old"
    _bump(root / "a.yml", tour("a", extra="title: New\n"))
    assert pick(library.current().tours["a"].title, "ja") == "New"
    write_tours(root, {"b.yml": tour("b")})
    assert list(library.current().tours) == ["a", "b"]
    _bump(root / "a.yml", tour("a", extra="title: Newer\n"))
    assert list(library.current().tours) == ["a", "b"]  # file order, which breaks priority ties, holds
    (root / "b.yml").unlink()
    assert list(library.current().tours) == ["a"]


def test_broken_edit_keeps_the_last_good_version_and_reports(tmp_path):
    root = write_tours(tmp_path / "tours", {"a.yml": tour("a", extra="title: Good\n"), "b.yml": tour("b")})
    library = TourLibrary(root)
    library.current()
    _bump(root / "a.yml", "id: a\ntitle: [broken\n")
    _bump(root / "b.yml", tour("b", extra="title: B2\n"))
    write_tours(root, {"new.yml": "id: new\n"})
    current = library.current()
    assert pick(current.tours["a"].title, "ja") == "Good"
    assert pick(current.tours["b"].title, "ja") == "B2"  # other edits still go live
    assert "new" not in current.tours
    assert library.errors == ["tours/a.yml:2: bad YAML: expected ',' or ']', but got '<stream end>'",
                              "tours/new.yml:1: missing 'steps': a tour needs at least one"]
    assert library.status()["errors"] == library.errors and library.status()["tours"] == 2
    _bump(root / "a.yml", tour("a", extra="title: Fixed\n"))
    (root / "new.yml").unlink()
    assert pick(library.current().tours["a"].title, "ja") == "Fixed" and library.errors == []


def test_a_clash_is_blamed_on_the_new_file_and_refs_fall_back(tmp_path):
    root = write_tours(tmp_path / "tours", {"z-old.yml": tour("shared", extra="title: Old\n"),
                                            "b.yml": tour("b", extra="match:\n  after: [shared]\n")})
    library = TourLibrary(root)
    library.current()
    write_tours(root, {"a-new.yml": tour("shared", extra="title: Clash\n")})
    _bump(root / "b.yml", tour("b", extra="title: B2\nmatch:\n  after: [ghost]\n"))
    current = library.current()
    assert pick(current.tours["shared"].title, "ja") == "Old"
    assert pick(current.tours["b"].title, "ja") is None and current.tours["b"].match.after == ("shared",)
    assert library.errors == ["tours/a-new.yml:1: duplicate id 'shared' (also in tours/z-old.yml)",
                              "tours/b.yml:6: 'after' names 'ghost', which is no tour"]


def test_the_first_load_serves_the_good_files(tmp_path):
    root = write_tours(tmp_path / "tours", {"a.yml": tour("a"), "b.yml": "id: b\nkind: bogus\n",
                                            "c.yml": tour("c", extra="match:\n  after: [b]\n")})
    library = TourLibrary(root)
    assert list(library.current().tours) == ["a"]
    assert [e.split(": ")[0] for e in library.errors] == ["tours/b.yml:2", "tours/c.yml:5"]


# --- the docs and the sample content --------------------------------------------------------------

def test_examples_in_the_docs_load(tmp_path):
    doc = (ROOT / "docs" / "tours.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```(yaml|markdown)\n(.*?)^```", doc, flags=re.S | re.M)
    files = {f"example-{n}.{'yml' if lang == 'yaml' else 'md'}": text for n, (lang, text) in enumerate(blocks)}
    assert sum(name.endswith(".yml") for name in files) >= 6 and any(name.endswith(".md") for name in files)
    items, errors = load_tours(write_tours(tmp_path / "tours", files))
    assert not errors, [str(e) for e in errors]
    kinds = {i.kind for i in items}
    assert kinds == {"tour", "hint", "checklist"}
    documented = set(re.findall(r"^\| `(\w+)`", doc, flags=re.M))
    from guide_server.guidance import tours as model
    for fields in (model.TOUR_FIELDS, model.STEP_FIELDS, model.TASK_FIELDS):
        assert set(fields) - {"kind"} <= documented | {"id", "title"}, set(fields) - documented


def test_error_examples_in_the_docs_are_real_messages():
    doc = (ROOT / "docs" / "tours.md").read_text(encoding="utf-8")
    for message in ("unknown advance 'clik'; use next, click, input, submit, {url: \"/path*\"}, {appear: \"selector\"}, "
                    "{disappear: \"selector\"} or {event: name}",
                    "'tour' names 'frist-invoice', which is no tour", "duplicate step id 'export'"):
        assert message in doc
    with pytest.raises(ContentError, match=re.escape("unknown advance 'clik'; use next, click, input, submit, {url: \"/path*\"}, {appear: \"selector\"}, "
                    "{disappear: \"selector\"} or {event: name}")):
        parse("id: a\nsteps:\n  - id: s\n    body: x\n    advance: clik\n")


def test_sample_tours_are_valid():
    items, errors = load_tours(ROOT / "content" / "tours")
    assert not errors, [str(e) for e in errors]


def test_check_cli_reports_tour_errors(tmp_path):
    content = tmp_path / "content"
    (content / "faq").mkdir(parents=True)
    write_tours(content / "tours", {"ok.yml": tour("ok")})
    run = [sys.executable, str(ROOT / "index_builder.py"), "--check", "--content", str(content)]
    ok = subprocess.run(run, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert "1 tour(s), hint(s) and checklist(s) checked, 0 error(s)" in ok.stdout
    write_tours(content / "tours", {"bad.yml": tour("bad", steps="steps:\n  - id: s\n    body: x\n    placement: up\n")})
    bad = subprocess.run(run, capture_output=True, text=True)
    assert bad.returncode == 1
    assert "tours/bad.yml:7: unknown placement 'up'" in bad.stderr
