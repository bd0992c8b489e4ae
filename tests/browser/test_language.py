from playwright.sync_api import expect

from tests.browser.conftest import log_in


def test_caseworker_logs_in_and_switches_to_arabic(page, demo):
    log_in(page, "caseworker")
    expect(page.get_by_test_id("whoami")).to_contain_text("Caseworker")
    expect(page.locator("html")).to_have_attribute("dir", "ltr")

    page.locator("button[name=language][value=ar]").click()

    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("html")).to_have_attribute("lang", "ar")
    # the RTL build of Bootstrap is what styles the page now
    expect(page.locator("link[href*='bootstrap.rtl.min.css']")).to_have_count(1)
    # and the choice sticks for the next page
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
