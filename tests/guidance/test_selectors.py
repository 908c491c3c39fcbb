"""CSS selectors in tours are checked when content is read (content/selectors.py): a typo is a
content error at file:line naming the selector; what browsers accept is never refused."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from guide_server.content.rules import ContentError
from guide_server.content.selectors import selector_problem
from guide_server.guidance.tours import parse_item
from tests.support import ROOT

# Valid in today's browsers (document.querySelector parses them), many unknown to soupsieve.
VALID = [
    "#save", "#save-invoice", ".btn.primary", "div > p + ul ~ ol", "body *", "a, b", "A.Btn", ".grid>div",
    "[data-testid=save]", '[data-testid="save"]', '[aria-label="保存"]', "[aria-label='請求書を送付']", ".保存",
    '[data-x="a" i]', '[data-x="a" s]', '[data-a="]"]', '[data-x="a!=b"]', "[class~=x]", "[lang|=en]",
    '[href^="https://"]', '[href$=".pdf"]', 'a[href]:not([href^="#"])', "#\\31 abc", ".a\\:b", "#-x", "#_1",
    "button:has(> svg)", ":has(+ .x)", ":is(.a, .b) > span", ":where(nav) a", ":is()", "a:not(.x, .y)",
    "li:nth-child(2 of .x)", "div:nth-child(2 of :not(.hidden))", "div:nth-of-type(2n+1)", ":nth-last-child(-n + 3)",
    "li:nth-child(odd)", "tr:nth-child(even)", "input[type=checkbox]:checked", "input:disabled", "div:empty",
    "a:focus-visible", "button:focus:not(:focus-visible)", ":focus-within", "a:hover", "a:HOVER", ":root", ":scope > a",
    ":has(:scope > a)", "x-foo:defined", ":host", ":host(.x)", ":dir(rtl)", ":lang(ja)", "input:placeholder-shown",
    "input:user-invalid", "a:any-link", "div:popover-open", "dialog:modal", "x-el:state(checked)", ":-moz-focusring",
    "my-el::part(label)", "::slotted(span)", "a::before", "a:before", "p::first-line", "dialog::backdrop",
    "input::placeholder", "::-webkit-scrollbar", "::view-transition-old(root)", "::highlight(x)", "a::BEFORE",
    "svg|rect", "*|*", "   #padded  ",
]

# (selector, words the message must contain)
INVALID = [
    ("#save-invoice]", "unexpected ']' at character 14"),
    ("..btn", "malformed .class at character 1"),
    ("div[data-x=", "unclosed or malformed [attribute] at character 4"),
    (":nth-child(", ":nth-child"),
    ("#1abc", 'an id cannot start with a digit: write [id="1abc"]'),
    (".1x", "a class name cannot start with a digit"),
    ("#", "malformed #id"),
    ('[data-x="a]', "unclosed or malformed [attribute]"),
    ("[x=y z]", "quote a value with spaces"),
    ("div >", "needs a selector on both sides"),
    ("> div", "needs a selector on both sides"),
    ("a,", "needs a selector on both sides"),
    ("div:not(", "unclosed '('"),
    ("a b)", "')' without '('"),
    ("div:nth-child(foo)", ":nth-child"),
    ("div:has()", "a selector is missing"),
    ("a:not()", "a selector is missing"),
    ("p:nth-child(2 of )", "a selector is missing"),
    ("div!", "unexpected '!'"),
    ("a {color: red}", "unexpected '{'"),
    ("@save", "unexpected '@'"),
    ("dialog:modal ..b", "malformed .class at character 14"),  # positions count in what the editor wrote
    ("a:state(open", "unclosed '(' after :state"),
    ("a::part(x", "unclosed '(' after ::part"),
    # browsers throw on these although soupsieve (or jQuery, or Playwright) takes them
    ('button:contains("保存")', ":contains at character 7 is not CSS"),
    (':-soup-contains("x")', ":-soup-contains at character 1 is not CSS"),
    ("li:eq(1)", ":eq at character 3 is not CSS"),
    ("button:visible", ":visible"),
    ('a:has-text("Save")', ":has-text"),
    ("[data-state!=open]", "[attr!=value] is not CSS"),
]


@pytest.mark.parametrize("selector", VALID)
def test_what_browsers_parse_is_accepted(selector):
    assert selector_problem(selector.strip()) is None


@pytest.mark.parametrize(("selector", "words"), INVALID)
def test_a_bad_selector_is_named_with_what_is_wrong(selector, words):
    problem = selector_problem(selector)
    assert problem is not None and words in problem, problem


def tour(target: str, field: str = "target") -> str:
    """A tour whose first step's ``field`` (target, or an advance's appear) is ``target``, at line 5."""
    value = json.dumps(target, ensure_ascii=False)
    if field == "target":
        return f"id: t\nsteps:\n  - id: s\n    title: S\n    target: {value}\n"
    return f"id: t\nsteps:\n  - id: s\n    title: S\n    advance: {{{field}: {value}}}\n"


@pytest.mark.parametrize(("selector", "words"), INVALID)
def test_a_bad_target_is_a_content_error_at_its_line(selector, words):
    with pytest.raises(ContentError) as info:
        parse_item(tour(selector).encode(), "tours/t.yml")
    err = info.value
    assert (err.path, err.line) == ("tours/t.yml", 5)
    assert str(err).startswith("tours/t.yml:5: 'target' is not a valid CSS selector: ")
    assert json.dumps(selector, ensure_ascii=False) in err.message and words in err.message


@pytest.mark.parametrize("selector", VALID)
def test_a_valid_target_loads(selector):
    item = parse_item(tour(selector).encode(), "tours/t.yml")
    assert item.steps[0].target == selector.strip()


@pytest.mark.parametrize(("text", "line", "key"), [
    (tour("#ok]", "appear"), 5, "appear"),
    (tour("..x", "disappear"), 5, "disappear"),
    ("id: t\ntrigger: {element: \"#1st\"}\nsteps:\n  - id: s\n    title: S\n", 2, "element"),
    ("id: c\nkind: checklist\ntitle: C\ntasks:\n  - id: x\n    title: X\n    done_when: {click: \"#save]\"}\n", 7, "click"),
    ("id: c\nkind: checklist\ntitle: C\ntasks:\n  - id: x\n    title: X\n    done_when: {submit: \"form[\"}\n", 7, "submit"),
])
def test_every_selector_field_is_checked(text, line, key):
    """Every field read with Fields.selector: advance appear/disappear, trigger element, done_when click/submit."""
    with pytest.raises(ContentError) as info:
        parse_item(text.encode(), "tours/t.yml")
    assert info.value.line == line and info.value.message.startswith(f"'{key}' is not a valid CSS selector: ")


def test_index_builder_check_reports_a_broken_selector_at_file_and_line(tmp_path):
    content = tmp_path / "content"
    (content / "faq").mkdir(parents=True)
    (content / "tours").mkdir()
    (content / "tours" / "good.yml").write_text(tour('[aria-label="保存"]').replace("id: t\n", "id: good\n"),
                                                encoding="utf-8")
    (content / "tours" / "bad.yml").write_text(tour("#save-invoice]"), encoding="utf-8")
    run = subprocess.run([sys.executable, "index_builder.py", "--check", "--content", str(content)], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 1, run.stdout + run.stderr
    assert ('bad.yml:5: \'target\' is not a valid CSS selector: "#save-invoice]": unexpected \']\' at character 14'
            in run.stderr), run.stderr
    assert "good.yml" not in run.stderr
    assert "1 error(s)" in run.stdout

