"""Factories for synthetic test data. Names are invented."""

from __future__ import annotations

import datetime

import factory
from django.utils import timezone

from accounts.models import City
from casemgmt import services
from casemgmt.models import Case, ReferralSource, TeamRole


def participant_data(**overrides) -> dict:
    n = overrides.pop("n", 0)
    data = {
        "given_name_latin": f"Test{n}",
        "family_name_latin": "Elyazidi",
        "given_name_arabic": "تجربة",
        "family_name_arabic": "اليزيدي",
        "date_of_birth": datetime.date(1990, 5, 17),
        "national_id": f"ZZ{100000 + n}",
        "city": City.objects.get(code="TNG"),
        "languages": ["ar", "fr"],
        "phone": "+212 600 000 000",
        "email": f"p{n}@demo.invalid",
        "address": "1, rue des Tests",
    }
    data.update(overrides)
    return data


class CaseFactory(factory.Factory):
    """Opens cases through the service, as the app does, so codes, history and team are real."""

    class Meta:
        model = Case

    organisation = None
    by = None
    lead = None
    team = ()  # (user, role) pairs
    stage_path = ()

    @classmethod
    def _create(cls, model_class, *, organisation, by, lead=None, team=(), stage_path=(), **kwargs):
        case = services.case_open(
            by=by,
            organisation=organisation,
            participant=participant_data(n=kwargs.pop("n", Case.objects.count())),
            referral_source=ReferralSource.FAMILY,
            referral_date=timezone.localdate() - datetime.timedelta(days=30),
            referral_reason="Test referral",
            lead=lead,
        )
        for user, role in team:
            services.team_member_add(case=case, by=by, user=user, role=role)
        for stage in stage_path:
            services.case_move_stage(case=case, by=by, to_stage=stage, reason="test move")
        return case


def northern_case(demo, **kwargs) -> Case:
    """A Northern case led by `caseworker`, with `placement` on the team."""
    kwargs.setdefault("team", [(demo["placement"], TeamRole.PLACEMENT_OFFICER)])
    return CaseFactory(
        organisation=demo["caseworker"].membership.organisation,
        by=demo["caseworker"],
        lead=demo["caseworker"],
        **kwargs,
    )


def case_move_stage(*, case, by, to_stage, reason):
    """Walk a case in tests: a legal move to `exited` or `closed` goes through the exit and closure
    services (a manager of the case's organisation closes before the follow-ups are done)."""
    from accounts.models import Role, User
    from casemgmt import casefile_services, services
    from casemgmt.models import Stage

    case.refresh_from_db()
    if to_stage == Stage.EXITED and case.can_move_to(to_stage):
        return casefile_services.case_exit(
            case=case, by=by, reason="goals_met", exited_on=timezone.localdate(), outcome={"employment": "employed"}
        )
    if to_stage == Stage.CLOSED and case.can_move_to(to_stage):
        manager = User.objects.filter(
            membership__organisation_id=case.organisation_id, membership__role=Role.MANAGER
        ).first()
        return casefile_services.case_close(case=case, by=manager or by, reason=reason)
    return services.case_move_stage(case=case, by=by, to_stage=to_stage, reason=reason)
