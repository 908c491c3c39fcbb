"""The editor's tools in a real browser: a preview link from the desk shows a draft on the page
(banner, URL cleaned, nothing recorded, kept across a reload), and the element picker (highlight,
a selector that matches exactly the picked element, a YAML step, the page never sees the click)."""

from __future__ import annotations

import time

import pytest
import yaml
from playwright.sync_api import expect

from guide_server.db.schema import events, tour_progress
from guide_server.guidance.tours import parse_item
from guide_server.web import preview as preview_token

from .helpers import POP, rows, stored, wait_title

BAR = "guide-widget .pv-bar"
BOX = "guide-widget .pk-box"
PANEL = "guide-widget .pk-pan"


def link(guide, item: str = "t-draft", site: str = "demo", **kw) -> str:
    """The value of guide_preview= that the desk's /admin/preview puts in the page's URL."""
    token = preview_token.sign(guide.app.config["SECRET_KEY"], item, site, "editor", **kw)
    return preview_token.link_value(item, token)


def open_preview(page, guide, extra: str = "", **kw) -> None:
    page.goto(f"/t/picker?{extra}guide_preview={link(guide, **kw)}#top")
    wait_title(page, "下書きのステップ")


def test_a_draft_is_not_served_but_the_pages_own_tour_is(page):
    page.goto("/t/picker")
    wait_title(page, "ページ自身のツアー")
    assert page.evaluate("window.Guide && 1") == 1


def test_a_preview_link_shows_the_draft_with_a_banner_and_records_nothing(page, guide, user):
    open_preview(page, guide, extra=f"user={user}&tab=2&")
    bar = page.locator(BAR)
    expect(bar).to_contain_text("プレビュー中")
    expect(bar).to_contain_text("下書きのツアー")
    for name in ("最初から", "要素を選ぶ", "終了"):
        expect(bar.get_by_role("button", name=name)).to_be_visible()
    # the link leaves the address bar; the rest of the query and the hash stay
    assert "guide_preview" not in page.url
    assert page.url.endswith(f"/t/picker?user={user}&tab=2#top")
    assert page.evaluate("Object.keys(sessionStorage).some(k => k.endsWith(':preview'))")
    # the page's own tour does not start during a preview
    page.wait_for_timeout(300)
    expect(page.locator(POP + " h2")).to_have_text("下書きのステップ")

    # a reload in this tab comes back to the preview, at the step it was on
    page.locator(POP + " .pri").click()
    wait_title(page, "保存")
    page.reload()
    wait_title(page, "保存")
    expect(page.locator(BAR)).to_contain_text("下書きのツアー")

    # Restart goes back to the first step
    page.locator(BAR).get_by_role("button", name="最初から").click()
    wait_title(page, "下書きのステップ")
    page.locator(POP + " .pri").click()
    wait_title(page, "保存")
    page.locator(POP + " .pri").click()  # Done
    expect(page.locator(POP)).to_have_count(0)
    expect(page.locator(BAR)).to_be_visible()  # the preview goes on until Exit

    page.locator(BAR).get_by_role("button", name="終了").click()
    expect(page.locator(BAR)).to_have_count(0)
    assert not page.evaluate("Object.keys(sessionStorage).some(k => k.endsWith(':preview'))")
    wait_title(page, "ページ自身のツアー")  # the page's own guidance comes back
    page.goto("about:blank")  # anything waiting leaves by beacon now
    time.sleep(1)
    who = stored(guide.app, user)
    assert rows(guide.app, tour_progress, user_id=who, tour_id="t-draft") == []
    assert [r for r in rows(guide.app, events, user_id=who) if r["tour_id"] == "t-draft"] == []


def test_an_anonymous_preview_leaves_nothing_in_the_browser(page, guide):
    open_preview(page, guide)
    page.locator(POP + " .pri").click()
    wait_title(page, "保存")
    page.locator(POP + " .pri").click()
    expect(page.locator(POP)).to_have_count(0)
    stored_here = page.evaluate("localStorage.getItem('guide:demo') || ''")
    assert "t-draft" not in stored_here


@pytest.mark.parametrize(("make", "message"), [
    (lambda g: link(g, ttl=-1), "期限切れ"),
    (lambda g: link(g, item="t-draft", site="e2e"), "別のツアー"),
    (lambda g: link(g)[:-3] + "abc", "期限切れ"),
])
def test_a_bad_link_says_so_and_shows_nothing(page, guide, make, message):
    page.goto(f"/t/picker?guide_preview={make(guide)}")
    expect(page.locator(BAR)).to_contain_text(message)
    expect(page.locator(BAR).get_by_role("link")).to_have_attribute("href", f"{guide.url}/admin/tours?site=demo")
    expect(page.locator(POP + " h2", has_text="下書きのステップ")).to_have_count(0)


def test_guide_preview_without_a_token_asks_for_one(page, guide):
    page.goto("/t/picker")
    wait_title(page, "ページ自身のツアー")
    page.evaluate("Guide('preview', 't-draft')")
    expect(page.locator(BAR)).to_contain_text("プレビュー用リンクがありません")
    # with this tab's token it opens
    open_preview(page, guide)
    page.locator(BAR).get_by_role("button", name="終了").click()
    token = link(guide).split(".", 1)[1]
    page.evaluate("token => sessionStorage.setItem('guide:demo:preview', JSON.stringify({id: 't-draft', token}))", token)
    page.evaluate("Guide('preview', 't-draft')")
    wait_title(page, "下書きのステップ")


def test_a_draft_checklist_is_previewed_and_forgotten(page, guide):
    page.goto(f"/t/picker?guide_preview={link(guide, item='t-draft-list')}")
    panel = page.locator("guide-widget .cl", has_text="下書きのリスト")
    expect(panel).to_be_visible()
    expect(page.locator(BAR)).to_contain_text("下書きのリスト")
    expect(page.locator(POP)).to_have_count(0)  # the page's own tour waits
    panel.locator("button").first.click()  # unfold
    panel.get_by_role("button", name="見てみる").click()  # "show me": the tour it names may start
    wait_title(page, "ようこそ")
    page.locator(BAR).get_by_role("button", name="終了").click()
    expect(page.locator("guide-widget .cl", has_text="下書きのリスト")).to_have_count(0)
    assert "t-draft-list" not in page.evaluate("localStorage.getItem('guide:demo') || ''")


def test_the_preview_follows_the_pages_language(page, guide):
    open_preview(page, guide)
    page.locator(POP + " .pri").click()
    wait_title(page, "保存")
    page.evaluate("document.documentElement.lang = 'en'")
    wait_title(page, "Save")  # the same step, asked again in English
    expect(page.locator(BAR)).to_contain_text("Previewing")
    expect(page.locator(BAR)).to_contain_text("Draft tour")


# --- the picker -------------------------------------------------------------------------------------

# (what the test finds the element by, the selector the picker should give, or None: any that works)
PICKS = [
    ("#save-invoice", "#save-invoice"),
    ("[data-testid=export-csv]", '[data-testid="export-csv"]'),
    ("[aria-label='Close dialog']", '[aria-label="Close dialog"]'),
    ("text=Generated id", "div.card"),  # id="ember123" looks generated
    (".x7f9k2", "#cards > div > span"),  # only generated classes: a path from the nearest stable ancestor
    (".jsx-482913", None),  # no stable ancestor at all
    ("ul.todo li:nth-child(2)", "ul.todo > li:nth-of-type(2)"),  # repeated items
    ("input[name=email]", "input[name=\"email\"]"),
    ("text=Help page", 'a[href="/t/picker/help"]'),
]


def start_picker(page, guide):
    open_preview(page, guide)
    page.locator(BAR).get_by_role("button", name="要素を選ぶ").click()
    expect(page.locator(BAR).get_by_role("button", name="要素を選ぶ")).to_have_attribute("aria-pressed", "true")


@pytest.mark.parametrize(("find", "expected"), PICKS, ids=[p[0] for p in PICKS])
def test_the_picker_gives_a_selector_for_exactly_the_picked_element(page, guide, find, expected):
    start_picker(page, guide)
    target = page.locator(find)
    box = target.bounding_box()
    x, y = box["x"] + min(10, box["width"] / 2), box["y"] + box["height"] / 2
    clicks = page.evaluate("window.appClicks")  # the banner's button was a click on the page too
    page.mouse.move(x, y)  # through the tour's overlay: what is under it is picked
    expect(page.locator(BOX)).to_be_visible()
    drawn = page.locator(BOX).bounding_box()
    for key in ("x", "y", "width", "height"):
        assert abs(drawn[key] - box[key]) < 1.5, (key, drawn, box)

    page.mouse.click(x, y)
    expect(page.locator(PANEL)).to_be_visible()
    selector = page.locator(PANEL + " [data-pk=selector]").inner_text()
    if expected:
        assert selector == expected
    same = page.evaluate("([sel, find]) => { const all = document.querySelectorAll(sel); "
                         "return all.length === 1 && all[0] === document.querySelector(find) }",
                         [selector, target.evaluate("el => { el.setAttribute('data-picked', '1'); return '[data-picked]' }")])
    assert same, selector
    text = page.locator(PANEL + " textarea").input_value()
    step = yaml.safe_load(text)
    # pasted under `steps:` of a tour file, it loads as it is
    tour = parse_item(("id: t-pasted\nsteps:\n" + "".join("  " + line + "\n" for line in text.splitlines())).encode(), "tours/p.yml")
    assert tour.steps[0].target == selector
    assert isinstance(step, list) and step[0]["target"] == selector and step[0]["placement"] == "auto"
    assert set(step[0]["title"]) == {"ja", "en"} and step[0]["advance"] == ("input" if find.startswith("input") else "click")
    # the page never saw the click
    assert page.evaluate("window.appClicks") == clicks
    assert page.locator("#save-invoice").inner_text() == "Save invoice"
    assert page.url.split("#")[0].endswith("/t/picker")  # the link was not followed

    page.keyboard.press("Escape")
    expect(page.locator(PANEL)).to_have_count(0)
    expect(page.locator(BOX)).to_have_count(0)
    expect(page.locator(POP + " h2")).to_have_text("下書きのステップ")  # Escape left the picker, not the tour
    page.locator("#save-invoice").evaluate("el => el.click()")
    assert page.evaluate("window.appClicks") == clicks + 1  # after the picker, the page works as before


def test_pick_again_copy_and_the_widgets_own_ui(page, guide):
    start_picker(page, guide)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    clicks = page.evaluate("window.appClicks")
    bar = page.locator(BAR).bounding_box()
    page.mouse.move(bar["x"] + 5, bar["y"] + bar["height"] / 2)  # over the banner: nothing to pick
    expect(page.locator(BOX)).to_be_hidden()
    box = page.locator("#save-invoice").bounding_box()
    page.mouse.click(box["x"] + 5, box["y"] + 5)
    expect(page.locator(PANEL + " [data-pk=selector]")).to_have_text("#save-invoice")
    page.locator(PANEL + " [data-pk=copy]").click()
    expect(page.locator(PANEL + " [data-pk=copy]")).to_have_text("コピーしました")
    assert "target: \"#save-invoice\"" in page.evaluate("navigator.clipboard.readText()")
    page.locator(PANEL + " [data-pk=again]").click()
    expect(page.locator(PANEL)).to_have_count(0)
    other = page.locator("[data-testid=export-csv]").bounding_box()
    page.mouse.click(other["x"] + 5, other["y"] + 5)
    expect(page.locator(PANEL + " [data-pk=selector]")).to_have_text('[data-testid="export-csv"]')
    assert page.evaluate("window.appClicks") == clicks + 2  # the panel's two buttons; no pick


# The part's export selector(el), run on its own: the part's script evaluated with stand-ins for
# the few names of embed.js it touches as it loads.
EXPORTS = """async () => {
    const src = await (await fetch('/embed/editor.js')).text(), real = window.Guide;
    let made = null;
    window.Guide = { _part: (name, fn) => { made = fn({ shell: { style() {} }, STRINGS: { ja: {}, en: {} }, KEY: 'guide:t' }) } };
    try { (0, eval)(src) } finally { window.Guide = real }
    window.editorExports = made;
}"""


def test_the_exported_selector_names_each_element_alone(page):
    page.goto("/t/picker")
    page.evaluate(EXPORTS)
    found = page.evaluate("""() => [...document.querySelectorAll('main *, main')].map(el => {
        const sel = window.editorExports.selector(el), all = document.querySelectorAll(sel);
        return [el.outerHTML.slice(0, 60), sel, all.length === 1 && all[0] === el];
    })""")
    assert len(found) > 15
    assert [f for f in found if not f[2]] == []
    by_start = {html.split(">")[0]: sel for html, sel, _ in found}
    assert by_start['<button id="save-invoice" type="button"'] == "#save-invoice"
    assert all("ember123" not in sel and "css-" not in sel and "jsx-" not in sel and "x7f9k2" not in sel for _, sel, _ in found)
    assert page.evaluate("window.editorExports.selector(document.body)") == "body"
