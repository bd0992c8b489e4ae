import datetime

import pytest
from django.core.management import call_command
from django.urls import reverse

from reports.figures import Filters
from reports.selectors import dashboard


def test_every_figure_runs_on_no_data(manager):
    f = Filters(
        organisation_id=manager.membership.organisation_id,
        start=datetime.date(2026, 1, 1),
        end=datetime.date(2026, 12, 31),
    )
    results = dashboard(f)
    assert all(r.rows == [] for r in results)


@pytest.fixture
def seeded(db, settings):
    settings.DEBUG = True
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


def test_demo_dashboard_renders(seeded, client, demo):
    client.force_login(demo["manager"])
    response = client.get(reverse("reports:dashboard"))
    assert response.status_code == 200
    content = response.content.decode()
    for slug in ("caseload_stage", "referrals_month", "timeliness", "disclosures_basis"):
        assert f'data-figure="{slug}"' in content
    r2 = client.get(reverse("reports:cases") + "?figure=caseload_stage&key=active&measure=cases")
    assert r2.status_code == 200
    r3 = client.get(reverse("reports:export", args=["all", "xlsx"]))
    assert r3.status_code == 200


def test_seed_demo_with_more_cases(db, settings):
    from casemgmt.models import Case

    settings.DEBUG = True
    call_command("seed_demo", "--cases", "75", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert Case.objects.count() == 75
    call_command("seed_demo", "--cases", "75", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert Case.objects.count() == 75
