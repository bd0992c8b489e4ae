"""Right-to-left in a real browser (issue 15): the dashboard's charts read from the right in Arabic."""

import datetime

from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.conftest import log_in
from tests.reports.conftest import open_case

CHART_OPTIONS = """() => {
  const chart = Chart.getChart(document.getElementById('chart-referrals_month'));
  const o = chart.options;
  return {legend: o.plugins.legend.rtl, tooltip: o.plugins.tooltip.rtl, reverse: o.scales.x.reverse,
          position: o.scales.y.position};
}"""


def _dashboard(page, demo, language):
    manager = demo["manager"]
    manager.language = language
    manager.save(update_fields=["language"])
    day = (timezone.localdate() - datetime.timedelta(days=20)).isoformat()
    open_case(demo, by=manager, organisation=manager.membership.organisation, day=day, source="family", city="TNG")
    log_in(page, "manager")
    page.goto("/reports/")
    expect(page.locator("#chart-referrals_month")).to_be_visible()
    page.wait_for_function("() => window.Chart && Chart.getChart(document.getElementById('chart-referrals_month'))")
    return page.evaluate(CHART_OPTIONS)


def test_arabic_dashboard_charts_read_right_to_left(page, demo):
    options = _dashboard(page, demo, "ar")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    assert options == {"legend": True, "tooltip": True, "reverse": True, "position": "right"}


def test_english_dashboard_charts_read_left_to_right(page, demo):
    options = _dashboard(page, demo, "en")
    assert options == {"legend": False, "tooltip": False, "reverse": False, "position": "left"}
