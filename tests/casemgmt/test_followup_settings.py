"""An NGO's admin changes its reminder rules; the system's defaults stay; bad settings are refused."""

import pytest
from django.urls import reverse

from casemgmt import followups
from casemgmt.followup_models import FollowUp, OrganisationRuleSetting

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", ["caseworker", "manager", "auditor", "caseworker2", "mentor"])
def test_only_the_admin_opens_the_reminder_settings(client, demo, name):
    client.force_login(demo[name])
    assert client.get(reverse("orgsettings:rule-list")).status_code == 404
    assert client.get(reverse("orgsettings:rule-edit", args=["reassessment"])).status_code == 404


def test_the_admin_changes_a_rule_for_their_organisation_only(client, demo):
    client.force_login(demo["admin"])
    page = client.get(reverse("orgsettings:rule-list")).content.decode()
    assert "Reassessment by risk band" in page
    url = reverse("orgsettings:rule-edit", args=["reassessment"])
    bad = client.post(url, {"params": '{"months": {"high": 0, "medium": 6, "low": 12}}'})
    assert bad.status_code == 400
    wrong_keys = client.post(url, {"params": '{"weeks": 3}'})
    assert wrong_keys.status_code == 400
    ok = client.post(
        url, {"params": '{"months": {"high": 2, "medium": 4, "low": 8}}', "escalation_days": "3", "enabled": "1"}
    )
    assert ok.status_code == 302
    northern = demo["admin"].membership.organisation_id
    atlantic = demo["caseworker2"].membership.organisation_id
    assert followups.settings_for("reassessment", northern).params["months"]["high"] == 2
    assert followups.settings_for("reassessment", northern).escalation_days == 3
    assert followups.settings_for("reassessment", atlantic).params["months"]["high"] == 3
    assert OrganisationRuleSetting.objects.count() == 1


def test_a_rule_turned_off_schedules_nothing(client, demo):
    from tests.factories import CaseFactory

    client.force_login(demo["admin"])
    client.post(reverse("orgsettings:rule-edit", args=["first_contact"]), {"enabled": "0"})
    case = CaseFactory(
        organisation=demo["caseworker"].membership.organisation, by=demo["manager"], lead=demo["caseworker"]
    )
    assert not FollowUp.objects.filter(case=case, kind="first_contact").exists()
