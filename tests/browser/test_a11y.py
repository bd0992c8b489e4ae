"""Accessibility (issue 15): WCAG 2.2 AA on the main pages in English, French and Arabic, checked with the
vendored axe-core; a keyboard-only walk; Arabic screenshots with a right-to-left and an overflow check.

The live server flushes the database after every test, so sessions cannot outlive a test: each test
logs every role in once, in one browser context per role, and walks all its pages with it."""

from __future__ import annotations

import datetime
import json
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from casemgmt.casefile_services import record_create
from casemgmt.models import Case, Stage
from families import services as fs
from tests.factories import case_move_stage, northern_case
from tests.programs.helpers import activate, make_profile
from tests.reports.conftest import open_case

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "casemgmt" / "static" / "vendor" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "test-results" / "a11y"  # gitignored (/test-results/)
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BLOCKING = {"serious", "critical"}
PASSWORD = "demo-Reintegration-2026"

AXE_RUN = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => `${n.target.join(' ')} :: ${n.failureSummary}`),
  }));
}"""

# Every field marked aria-invalid must be described (itself or through its fieldset) by an element
# that exists and says something: the error next to it.
UNDESCRIBED_INVALID_FIELDS = """() => [...document.querySelectorAll('[aria-invalid=true]')].filter((el) => {
  const holder = el.hasAttribute('aria-describedby') ? el : el.closest('fieldset[aria-describedby]');
  const ids = holder ? holder.getAttribute('aria-describedby').split(/\\s+/).filter(Boolean) : [];
  return !ids.some((id) => (document.getElementById(id)?.textContent || '').trim());
}).map((el) => el.name || el.id)"""

# Text that does not fit: (1) an element that clips its overflow (hidden or clip) and whose content is
# wider than its box; (2) an element with text of its own that sticks out of the viewport on either
# side (in RTL, overflow goes to the left). Visually hidden helpers (1px boxes) and the cells of a
# horizontally scrolling wrapper (a wide table in .table-responsive) are not overflow.
OVERFLOWING_TEXT = """() => {
  const viewport = document.documentElement.clientWidth;
  const found = [];
  const describe = (el, why) => `${why}: <${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}`
    + `${el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : ''}>`
    + ` "${el.textContent.trim().replace(/\\s+/g, ' ').slice(0, 60)}"`;
  const scrolls = (el) => {
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      if (['auto', 'scroll'].includes(getComputedStyle(a).overflowX)) return true;
    }
    return false;
  };
  for (const el of document.body.querySelectorAll('*')) {
    if (!el.textContent.trim() || !el.checkVisibility({visibilityProperty: true})) continue;
    const box = el.getBoundingClientRect();
    if (box.width <= 1 || box.height <= 1) continue;
    const style = getComputedStyle(el);
    if (['hidden', 'clip'].includes(style.overflowX) && el.scrollWidth > el.clientWidth + 1) {
      found.push(describe(el, `clipped (${el.scrollWidth}px in ${el.clientWidth}px)`));
    }
    const ownText = [...el.childNodes].some((n) => n.nodeType === Node.TEXT_NODE && n.textContent.trim());
    if (ownText && (box.right > viewport + 1 || box.left < -1) && !scrolls(el)) {
      const where = `${Math.round(box.left)}..${Math.round(box.right)} of ${viewport}`;
      found.push(describe(el, `outside the viewport (${where})`));
    }
  }
  return found;
}"""

FOCUSED = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  const box = el.getBoundingClientRect();
  window.__focusOrder = window.__focusOrder || [];
  window.__focusOrder.push(el);
  return {
    tag: el.tagName.toLowerCase(), text: (el.innerText || el.value || '').trim(), id: el.id,
    href: el.getAttribute('href'),
    outline: style.outlineStyle !== 'none' ? parseFloat(style.outlineWidth) : 0,
    visible: box.width > 1 && box.height > 1 && box.bottom > 0 && box.top < window.innerHeight,
  };
}"""

# Tab order follows the document (no positive tabindex, no reordering): each element focused comes
# after the previous one in the DOM, as long as both are still in it (htmx swaps the results).
FOCUS_ORDER_BREAKS = """() => {
  const seq = window.__focusOrder.filter((el) => el.isConnected && el !== document.body);
  const breaks = [];
  for (let i = 1; i < seq.length; i++) {
    if (!(seq[i - 1].compareDocumentPosition(seq[i]) & Node.DOCUMENT_POSITION_FOLLOWING)) {
      breaks.push(`${seq[i - 1].outerHTML.slice(0, 80)} -> ${seq[i].outerHTML.slice(0, 80)}`);
    }
  }
  return breaks;
}"""


@pytest.fixture
def case(demo) -> Case:
    """An active case with a mentor and a family counsellor, a timeline, and figures for the reports."""
    case = northern_case(demo)
    for stage in (Stage.SCREENING, Stage.ASSESSMENT, Stage.ACTIVE):
        case_move_stage(case=case, by=demo["caseworker"], to_stage=stage, reason="walk")
    make_profile(demo["supervisor"], demo["mentor"])
    activate(case, lead=demo["caseworker"], manager=demo["manager"], mentor=demo["mentor"])
    record_create(
        key="consent",
        case=case,
        by=demo["caseworker"],
        data={"purpose": "Family counselling", "categories": ["family_contact"], "given_on": timezone.localdate()},
    )
    fs.engagement_create(case=case, by=demo["caseworker"], kind="parent_coaching", counsellors=[demo["counsellor"]])
    manager = demo["manager"]
    day = (timezone.localdate() - datetime.timedelta(days=20)).isoformat()
    for n, city in enumerate(["TNG", "FES"], start=1):
        open_case(
            demo, by=manager, organisation=manager.membership.organisation, day=day, source="family", city=city, n=n
        )
    return case


def main_pages(case: Case) -> dict[str, dict[str, str]]:
    """The main pages, by the role that opens them."""
    return {
        "caseworker": {
            "home": "/",
            "case list": "/cases/",
            "case detail": f"/cases/{case.pk}/",
            "timeline": f"/cases/{case.pk}/timeline/",
            "form with errors": "/cases/new/",
        },
        "mentor": {"mentor home": "/", "mentor portal": "/mentoring/"},
        "counsellor": {"counsellor home": "/", "counsellor page": "/family/"},
        "manager": {"dashboard": "/reports/"},
    }


def new_page(browser, live_server, language: str) -> Page:
    """A fresh context on the login page, switched to `language` with the language switcher."""
    # add_script_tag inlines axe into the page, which the pages' nonce-only CSP would refuse; the
    # CSP itself is tested in test_csp.py.
    context = browser.new_context(base_url=live_server.url, locale="en-GB", bypass_csp=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto("/accounts/login/")
    if language != "en":
        page.locator(f"button[name=language][value={language}]").click()
    expect(page.locator("html")).to_have_attribute("lang", language)
    return page


def sign_in(page: Page, username: str) -> None:
    # by attributes, not labels: the labels are translated
    page.locator("input[autocomplete=username]").fill(username)
    page.locator("input[autocomplete=current-password]").fill(PASSWORD)
    page.locator("input[autocomplete=current-password]").press("Enter")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def walk(browser, live_server, case: Case, language: str) -> Iterator[tuple[str, Page]]:
    """Yield (name, page) for the login page, then for each main page, logged in as its role."""
    login = new_page(browser, live_server, language)
    yield "login", login
    for username, urls in main_pages(case).items():
        page = login if username == "caseworker" else new_page(browser, live_server, language)
        sign_in(page, username)
        for name, url in urls.items():
            page.goto(url)
            if name == "form with errors":
                page.locator("main form[method=post] button[type=submit]").first.click()
                expect(page.locator("main [aria-invalid=true]").first).to_be_visible()
            expect(page.locator("html")).to_have_attribute("lang", language)
            page.wait_for_load_state("networkidle")  # htmx fragments (the bell) are in
            yield name, page
        page.context.close()


def axe(page: Page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    return page.evaluate(AXE_RUN, WCAG_TAGS)


@pytest.mark.parametrize("language", ["en", "fr", "ar"])
def test_main_pages_have_no_serious_or_critical_axe_violation(browser, live_server, case, language):
    found: dict[str, list[dict]] = {}
    for name, page in walk(browser, live_server, case, language):
        found[name] = axe(page)
        if name == "form with errors":
            assert page.evaluate(UNDESCRIBED_INVALID_FIELDS) == [], "an invalid field is not tied to its error"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    counts = {name: dict(Counter(v["impact"] for v in violations)) for name, violations in found.items()}
    (ARTIFACTS / f"axe-{language}.json").write_text(
        json.dumps({"counts": counts, "violations": found}, indent=2, ensure_ascii=False)
    )
    blocking = {
        name: [f"{v['impact']} {v['id']}: {v['nodes'][:3]}" for v in violations if v["impact"] in BLOCKING]
        for name, violations in found.items()
    }
    assert not any(blocking.values()), json.dumps(blocking, indent=2, ensure_ascii=False)


def test_keyboard_only_login_skip_link_search_and_open_a_case(browser, live_server, case):
    page = new_page(browser, live_server, "en")

    def focused() -> dict:
        return page.evaluate(FOCUSED)

    # the login form: the username has the focus, Tab reaches the password, Enter submits
    assert focused()["id"] == page.locator("input[autocomplete=username]").get_attribute("id")
    page.keyboard.type("caseworker")
    page.keyboard.press("Tab")
    assert focused()["id"] == page.locator("input[autocomplete=current-password]").get_attribute("id")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)

    page.goto("/cases/")
    page.evaluate("() => { window.__focusOrder = []; }")
    # the first Tab shows the skip link; Enter moves to the main content, past the navigation
    page.keyboard.press("Tab")
    skip = focused()
    assert (skip["text"], skip["href"], skip["visible"]) == ("Skip to main content", "#main", True)
    assert skip["outline"] >= 2
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"

    def tab_to(predicate: Callable[[dict], bool], limit: int = 40) -> dict:
        for _ in range(limit):
            page.keyboard.press("Tab")
            now = focused()
            # every stop shows where the focus is, and is on screen
            assert now["visible"], now
            assert now["outline"] >= 2, f"no visible focus indicator on {now}"
            if predicate(now):
                return now
        raise AssertionError(f"not reached by Tab in {limit} presses")

    # the page's primary action is the first stop in the main content
    assert tab_to(lambda f: True)["text"] == "Open a case"
    tab_to(lambda f: f["id"] == "id_q")
    page.keyboard.type(case.participant.case_code)
    tab_to(lambda f: f["text"] == "Search")
    with page.expect_response(lambda r: f"q={case.participant.case_code}" in r.url):
        page.keyboard.press("Enter")  # htmx swaps the results in; the focus stays on the button
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')")
    expect(page.locator("#results tbody tr")).to_have_count(1)
    tab_to(lambda f: f["text"] == case.participant.case_code)
    assert page.evaluate(FOCUS_ORDER_BREAKS) == []
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/cases/{case.pk}/")
    expect(page.get_by_test_id("stage")).to_have_text("Active")
    page.context.close()


def test_arabic_pages_are_right_to_left_do_not_overflow_and_are_screenshot(browser, live_server, case):
    shown = {"case list", "case detail", "mentor portal", "counsellor page", "dashboard"}
    overflowing = {}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for name, page in walk(browser, live_server, case, "ar"):
        if name not in shown:
            continue
        shown.remove(name)
        assert page.evaluate("() => document.documentElement.dir") == "rtl", name
        page.screenshot(path=ARTIFACTS / f"ar-{name.replace(' ', '-')}.png", full_page=True)
        overflowing[name] = page.evaluate(OVERFLOWING_TEXT)
    assert shown == set(), f"not visited: {shown}"
    assert not any(overflowing.values()), json.dumps(overflowing, indent=2, ensure_ascii=False)


NOWRAP = 'style="white-space: nowrap; width: max-content"'
SNIPPET = """<!doctype html><html lang="{lang}" dir="{dir}"><head><style>
  body {{ margin: 0; font: 16px sans-serif; }}
  .box {{ width: 120px; overflow: hidden; white-space: nowrap; }}
  .visually-hidden {{ position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0, 0, 0, 0); }}
  .scroller {{ overflow-x: auto; width: 200px; }}
</style></head><body>
  <p>A short paragraph that fits.</p>
  <span class="visually-hidden">A long hidden label for screen readers only, wider than one pixel</span>
  <div class="scroller"><table><tr><td style="white-space: nowrap">{wide}</td></tr></table></div>
  {extra}
</body></html>"""


@pytest.mark.parametrize(
    ("direction", "extra", "expected"),
    [
        ("ltr", "", []),
        ("rtl", "", []),
        ("ltr", '<div class="box" id="clipped">A label far too long for its box</div>', ["clipped"]),
        ("rtl", '<div class="box" id="clipped">تسمية أطول بكثير من مربعها المحدود</div>', ["clipped"]),
        ("ltr", f"<p {NOWRAP}>{'overflow ' * 40}</p>", ["outside"]),
        ("rtl", f"<p {NOWRAP}>{'تجاوز ' * 60}</p>", ["outside"]),
    ],
)
def test_the_overflow_check_finds_text_that_does_not_fit(browser, direction, extra, expected):
    """The check of the Arabic pages is only worth something if it fails on overflowing text."""
    context = browser.new_context(viewport={"width": 800, "height": 600})
    page = context.new_page()
    wide = "a wide cell in a horizontally scrolling table " * 10
    page.set_content(SNIPPET.format(lang="ar" if direction == "rtl" else "en", dir=direction, extra=extra, wide=wide))
    found = page.evaluate(OVERFLOWING_TEXT)
    context.close()
    assert [f.split(" ", 1)[0] for f in found] == expected, found
