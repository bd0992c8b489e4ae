"""seed_demo builds the demo the issue describes, only in demo mode, and only once."""

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from casemgmt.models import Case, CaseTeamMember, Stage


@pytest.fixture
def seeded(db, settings):
    settings.DEBUG = True
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    return Case.objects.select_related("organisation", "participant__city")


def _leads(username):
    return CaseTeamMember.objects.filter(is_lead=True, user__username=username).count()


def test_demo_cases(seeded):
    assert seeded.count() == 60
    northern = seeded.filter(organisation__name="Northern Reintegration Centre")
    assert northern.count() == 45
    assert seeded.filter(organisation__name="Atlantic Family Support Association").count() == 15
    assert _leads("caseworker") == 20
    assert _leads("colleague") == 20
    assert _leads("caseworker2") == 15
    without_lead = northern.exclude(team__is_lead=True)
    assert without_lead.count() == 5
    assert set(without_lead.values_list("stage", flat=True)) == {Stage.REFERRAL}
    assert CaseTeamMember.objects.filter(user__username="placement").exists()
    assert set(seeded.values_list("stage", flat=True)) == set(Stage.values)
    assert {c.participant.city.code for c in seeded} == {"TNG", "TET", "FNQ", "CAS", "FES", "SLE"}
    assert all(c.participant.given_name_arabic and c.participant.given_name_latin for c in seeded)


def test_seed_demo_is_idempotent(seeded, settings):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert Case.objects.count() == 60


def test_seed_demo_refuses_with_debug_off(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG off"):
        call_command("seed_demo")


def test_demo_follow_ups_in_every_state(seeded):
    from casemgmt.followup_models import FollowUp, Notification

    mine = FollowUp.objects.filter(assignee__username="caseworker")
    states = set(mine.values_list("status", flat=True))
    assert {"pending", "snoozed", "done"} <= states
    assert FollowUp.objects.filter(status__in=["pending", "escalated"], due_on__lt=timezone.localdate()).exists()
    kinds = set(FollowUp.objects.values_list("kind", flat=True))
    assert {"first_contact", "reassessment", "post_exit_outcome", "mentoring_gap", "placement_check_in"} <= kinds
    assert Notification.objects.filter(user__username="caseworker").exists()


def test_demo_authority_boundary(seeded):
    from accounts.models import User
    from casemgmt import access
    from casemgmt.boundary_models import ExceptionalDisclosure, InformationRequest, LegalMandate
    from casemgmt.casefile import Consent

    authority = User.objects.get(username="authority")
    shared = access.shared_cases_for(authority)
    assert "Northern Reintegration Centre" in {c.organisation.name for c in shared.select_related("organisation")}
    categories = {frozenset(access.shared_categories(c)) for c in shared}
    assert len(categories) > 2  # consents of different categories, and a mandate
    mandated = LegalMandate.objects.get(kind="court_order")
    assert shared.filter(pk=mandated.case_id).exists()
    today = timezone.localdate()
    expired = Consent.objects.filter(recipient=authority.membership.organisation, expires_on__lt=today)
    withdrawn = Consent.objects.filter(recipient=authority.membership.organisation, withdrawn_on__isnull=False)
    assert expired.exists()
    assert withdrawn.exists()
    for consent in [*expired, *withdrawn]:
        assert not shared.filter(pk=consent.case_id).exists()
    assert InformationRequest.objects.filter(status="pending", requested_by=authority).count() == 1
    assert access.exceptional_disclosures_visible_to(authority).filter(status="delivered").count() == 1
    assert ExceptionalDisclosure.objects.get().approved_by.username == "auditor"


def test_demo_data_subject_rows(seeded):
    from casemgmt.dpo_models import RetentionReview, SubjectExportRequest

    assert SubjectExportRequest.objects.filter(status="pending", requested_by__username="caseworker").count() == 1
    review = RetentionReview.objects.get()
    assert (review.status, review.case.stage, review.case.organisation.name) == (
        "listed",
        Stage.CLOSED,
        "Northern Reintegration Centre",
    )
