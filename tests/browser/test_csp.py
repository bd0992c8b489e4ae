"""The main pages under the strict CSP in a real browser: no violation reported, htmx and the charts
still work, Swagger UI and the Django admin still load."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.conftest import log_in
from tests.factories import northern_case
from tests.reports.conftest import open_case

# Recorded from the first script of every document (Playwright's init scripts are not subject to the
# page's CSP), so a refused inline style or script shows even when nothing visible breaks.
RECORDER = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""


@pytest.fixture
def watched(page):
    page.add_init_script(RECORDER)
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text) if "Content Security Policy" in m.text else None)
    page.console_csp = console
    return page


def _assert_clean(page, where: str):
    page.wait_for_load_state("networkidle")
    violations = page.evaluate("() => window.__csp") + page.console_csp
    assert violations == [], f"{where}: {violations}"


def test_main_pages_raise_no_csp_violation(watched, demo):
    page = watched
    case = northern_case(demo)
    manager = demo["manager"]
    day = (timezone.localdate() - datetime.timedelta(days=20)).isoformat()
    open_case(demo, by=manager, organisation=manager.membership.organisation, day=day, source="family", city="TNG", n=1)

    log_in(page, "caseworker")
    _assert_clean(page, "home after login")
    page.goto("/cases/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    _assert_clean(page, "case list")
    page.goto(f"/cases/{case.pk}/")
    expect(page.get_by_text(case.participant.case_code).first).to_be_visible()
    _assert_clean(page, "case detail")
    # htmx works (the bell's count is loaded by hx-get) and injected no <style>
    expect(page.get_by_test_id("bell")).to_be_visible()
    assert page.evaluate("() => Boolean(window.htmx) && htmx.config.includeIndicatorStyles === false")
    page.goto(f"/cases/{case.pk}/edit/")
    expect(page.locator("form").first).to_be_visible()
    _assert_clean(page, "case edit form")
    page.goto("/api/v1/docs/")
    expect(page.locator(".swagger-ui").first).to_be_visible()
    expect(page.get_by_text("Reintegration case management API").first).to_be_visible()
    _assert_clean(page, "Swagger UI")

    page.context.clear_cookies()
    log_in(page, "manager")
    page.get_by_role("link", name="Reports").click()
    expect(page.locator("canvas").first).to_be_visible()
    # the canvas is in the page before the chart script has run: wait for the chart (fails after 10 s)
    drawn = page.wait_for_function(
        "() => Boolean(window.Chart && Chart.getChart(document.querySelector('canvas')))", timeout=10_000
    )
    assert drawn.json_value(), "Chart.js drew nothing under the CSP"
    _assert_clean(page, "reports dashboard")


def test_the_django_admin_works_under_the_csp(watched, superuser):
    page = watched
    page.goto("/admin/login/")
    page.get_by_label("Username").fill("root")
    page.get_by_label("Password").fill("root-password-long-enough")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
    _assert_clean(page, "admin index")
    page.goto("/admin/accounts/organisation/add/")
    expect(page.locator("#organisation_form")).to_be_visible()
    _assert_clean(page, "admin add form")
