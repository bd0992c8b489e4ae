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
