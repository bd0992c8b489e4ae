"""Fixtures of the placement tests: a Northern case with `placement` on its team (and a counsellor and a
mentor, who must still see nothing of placements), a second placement officer off the team, partners,
opportunities and placements made through the services."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from accounts.models import City, Membership, Organisation, Role, User
from casemgmt.models import Stage
from casemgmt.services import team_member_add
from programs import placement_services as services
from tests.factories import case_move_stage, northern_case
from tests.programs.helpers import engage_counsellor, make_profile

TODAY = timezone.localdate
# Who is asked in the role matrices: "placement" is on the case team, "placement2" (same NGO) is not;
# "counsellor" and "mentor" are on the team in their own roles.
MATRIX = [
    "placement",
    "placement2",
    "caseworker",
    "colleague",
    "manager",
    "counsellor",
    "mentor",
    "auditor",
    "admin",
    "caseworker2",
    "authority",
    "anonymous",
]
CASE_READERS = {"placement", "caseworker", "manager"}
CASE_WRITERS = {"placement"}
REGISTRY_READERS = {"placement", "placement2", "manager"}
REGISTRY_WRITERS = {"placement", "placement2"}


@pytest.fixture
def placement2(demo) -> User:
    user = User.objects.create_user("placement2", "placement2@demo.invalid", "x-password-long-enough-2026")
    Membership.objects.create(
        user=user,
        organisation=Organisation.objects.get(name="Northern Reintegration Centre"),
        role=Role.PLACEMENT_OFFICER,
    )
    return User.objects.select_related("membership__organisation").get(pk=user.pk)


@pytest.fixture
def people(demo, placement2) -> dict[str, User | None]:
    return {**demo, "placement2": placement2, "anonymous": None}


@pytest.fixture
def active_case(demo):
    case = northern_case(demo)
    for stage in (Stage.SCREENING, Stage.ASSESSMENT, Stage.ACTIVE):
        case_move_stage(case=case, by=demo["caseworker"], to_stage=stage, reason="walk")
    engage_counsellor(case, by=demo["caseworker"], counsellor=demo["counsellor"])  # on the team as counsellor
    make_profile(demo["supervisor"], demo["mentor"])  # a vetted mentor: on the team, sees the case
    team_member_add(case=case, by=demo["caseworker"], user=demo["mentor"], role="mentor")
    case.refresh_from_db()
    return case


def make_partner(officer, name="Test Logistics", kind=Organisation.Kind.EMPLOYER, city="TNG"):
    return services.partner_create(
        by=officer,
        name=name,
        kind=kind,
        profile={"sector": "logistics", "city": City.objects.get(code=city), "contact_name": "Test Contact"},
    ).organisation


def make_opportunity(officer, partner, *, places=2, title="Warehouse job", city="TNG", **extra):
    data = {
        "partner": partner,
        "title": title,
        "kind": "job",
        "sector": "logistics",
        "city": City.objects.get(code=city),
        "places": places,
        "start_date": TODAY() + datetime.timedelta(days=10),
        "pay_band": "minimum_wage",
        **extra,
    }
    return services.opportunity_create(by=officer, data=data)


@pytest.fixture
def partner(demo):
    return make_partner(demo["placement"])


@pytest.fixture
def opportunity(demo, partner):
    return make_opportunity(demo["placement"], partner)


@pytest.fixture
def placement(demo, active_case, opportunity):
    """A started placement (with its three check-ins) on the active case."""
    officer = demo["placement"]
    day = TODAY() - datetime.timedelta(days=40)
    placed = services.placement_propose(by=officer, case=active_case, opportunity=opportunity, proposed_on=day)
    placed = services.placement_move(by=officer, placement=placed, to_status="accepted", on=day)
    return services.placement_move(
        by=officer, placement=placed, to_status="started", on=day + datetime.timedelta(days=2)
    )


@pytest.fixture
def profile(demo, active_case):
    return services.employability_save(
        by=demo["placement"], case=active_case, data={"education_level": 3, "sectors": ["logistics"]}
    )
