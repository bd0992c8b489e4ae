import csv
import datetime
import io

from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import City
from tests.browser.conftest import log_in
from tests.reports.conftest import open_case


def test_manager_opens_the_dashboard_filters_and_downloads_a_csv(page, demo):
    manager = demo["manager"]
    day = (timezone.localdate() - datetime.timedelta(days=20)).isoformat()
    for n, city in enumerate(["TNG", "TNG", "FES"], start=1):
        open_case(
            demo, by=manager, organisation=manager.membership.organisation, day=day, source="family", city=city, n=n
        )
    month = day[:7]

    log_in(page, "manager")
    page.get_by_role("link", name="Reports").click()
    expect(page.get_by_test_id("table-caseload_stage")).to_contain_text("Referral")
    referrals = page.get_by_test_id("table-referrals_month")
    expect(referrals.locator("tbody tr")).to_have_count(1)
    expect(referrals.locator("tbody td").first).to_have_text("3")
    # the chart was drawn from the JSON block by the static script
    drawn = page.evaluate(
        "() => Boolean(window.Chart && Chart.getChart(document.getElementById('chart-referrals_month')))"
    )
    assert drawn

    page.get_by_test_id("report-filters").get_by_label("City", exact=True).select_option(
        str(City.objects.get(code="FES").pk)
    )
    page.get_by_role("button", name="Apply").click()
    expect(referrals.locator("tbody td").first).to_have_text("1")

    with page.expect_download() as download_info:
        page.get_by_test_id("csv-referrals_month").click()
    download = download_info.value
    rows = list(csv.reader(io.StringIO(open(download.path(), encoding="utf-8-sig").read())))  # noqa: SIM115
    assert rows == [["Month", "Referral source", "Referrals"], [month, "Family", "1"]]

    # the number links to the case behind it
    referrals.locator("tbody td a").first.click()
    expect(page.get_by_test_id("drill-cases").locator("tbody tr")).to_have_count(1)
    expect(page.get_by_test_id("drill-cases")).to_contain_text("Fes")
