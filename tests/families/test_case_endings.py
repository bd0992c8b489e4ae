"""Closing or transferring a case ends its family engagements: no counsellor keeps a door to it."""

import datetime

import pytest
from django.utils import timezone

from accounts.models import Organisation
from casemgmt import access
from casemgmt import casefile_services as cs
from casemgmt.models import CaseTeamMember, Stage
from families.models import Engagement
from tests.factories import case_move_stage

pytestmark = pytest.mark.django_db
YESTERDAY = timezone.localdate() - datetime.timedelta(days=1)


def _open_engagements(case):
    return Engagement.objects.filter(case=case).exclude(status="ended")


def test_closing_the_case_ends_the_engagements(demo, active_case, engagement, session):
    assert access.cases_visible_to(demo["counsellor"]).filter(pk=active_case.pk).exists()
    case_move_stage(case=active_case, by=demo["caseworker"], to_stage=Stage.EXITED, reason="done")
    assert _open_engagements(active_case).exists()  # after an exit the family may still be supported
    case_move_stage(case=active_case, by=demo["caseworker"], to_stage=Stage.CLOSED, reason="done")
    assert not _open_engagements(active_case).exists()
    assert not CaseTeamMember.objects.filter(case=active_case, role="counsellor").exists()
    assert not access.cases_visible_to(demo["counsellor"]).filter(pk=active_case.pk).exists()


def test_a_transfer_ends_the_engagements(demo, active_case, engagement):
    atlantic = Organisation.objects.get(name="Atlantic Family Support Association")
    consent = cs.record_create(
        key="consent",
        case=active_case,
        by=demo["caseworker"],
        data={"purpose": "Transfer", "recipient": atlantic, "categories": ["identity"], "given_on": YESTERDAY},
    )
    transfer = cs.transfer_request(
        case=active_case, by=demo["caseworker"], to_organisation=atlantic, consent=consent, reason="moves"
    )
    from accounts.models import Membership, Role, User

    receiver = User.objects.create_user("atl-manager", password="x-long-password-2026")
    Membership.objects.create(user=receiver, organisation=atlantic, role=Role.MANAGER)
    cs.transfer_decide(transfer=transfer, by=receiver, accept=True)
    engagement.refresh_from_db()
    assert engagement.status == "ended"
    assert "another organisation" in engagement.end_reason
