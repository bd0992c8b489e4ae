"""Search: accents, case, Arabic variants, partial names, case codes, national IDs, and scope."""

import pytest
from rest_framework.test import APIClient

from tests.factories import CaseFactory, northern_case

NAMES = {
    "accented": {"given_name_latin": "Zoé", "family_name_latin": "Bénhaïm", "national_id": "K123456"},
    "plain": {"given_name_latin": "Ilyas", "family_name_latin": "Rahmouni", "national_id": "L654321"},
    "arabic": {
        "given_name_latin": "Amine",
        "family_name_latin": "Sefrioui",
        "given_name_arabic": "أَمين",
        "family_name_arabic": "الصفريوي",
        "national_id": "M111222",
    },
}


@pytest.fixture
def people(demo):
    from casemgmt import services
    from casemgmt.models import Case

    created = {}
    for key, names in NAMES.items():
        case = northern_case(demo, n=len(created) + 100)
        services.case_profile_update(case=case, by=demo["caseworker"], changes=names)
        created[key] = Case.objects.get(pk=case.pk)
    return created


def _ids(user, query):
    api = APIClient()
    api.force_authenticate(user)
    response = api.get("/api/v1/cases/", {"search": query})
    assert response.status_code == 200
    return {row["id"] for row in response.json()["results"]}


@pytest.mark.parametrize(
    ("query", "who"),
    [
        ("benhaim", "accented"),  # accents typed without them
        ("BENHAÏM", "accented"),
        ("zoe ben", "accented"),  # partial, across given and family name
        ("rahmoun", "plain"),
        ("rahmóuni", "plain"),  # and the reverse: an accent the name does not have
        ("امين", "arabic"),  # without hamza and diacritics
        ("أمين", "arabic"),
        ("الصفريوي", "arabic"),
        ("صفري", "arabic"),
        ("K123456", "accented"),  # national ID, exact
        ("k 123 456", "accented"),
    ],
)
def test_search_finds(demo, people, query, who):
    assert _ids(demo["caseworker"], query) == {people[who].pk}


def test_search_by_case_code(demo, people):
    case = people["plain"]
    assert _ids(demo["caseworker"], case.participant.case_code) == {case.pk}
    assert case.pk in _ids(demo["caseworker"], case.participant.case_code.lower()[:8])


def test_national_id_is_exact_not_partial(demo, people):
    assert _ids(demo["caseworker"], "K12345") == set()


def test_national_id_search_is_not_open_to_roles_that_cannot_see_it(demo, people):
    # the placement officer is on these teams but may not see national IDs
    assert _ids(demo["placement"], "K123456") == set()
    assert _ids(demo["placement"], "benhaim") == {people["accented"].pk}


def test_search_never_returns_out_of_scope_cases(demo, people):
    other = CaseFactory(
        organisation=demo["caseworker2"].membership.organisation, by=demo["caseworker2"], lead=demo["caseworker2"]
    )
    from casemgmt import services

    services.case_profile_update(case=other, by=demo["caseworker2"], changes={"family_name_latin": "Bénhaïm"})
    assert _ids(demo["caseworker"], "benhaim") == {people["accented"].pk}
    assert _ids(demo["caseworker2"], "benhaim") == {other.pk}
    assert _ids(demo["colleague"], "benhaim") == set()
    assert _ids(demo["authority"], "benhaim") == set()


def test_wildcards_are_literal(demo, people):
    assert _ids(demo["caseworker"], "%") == set()
    assert _ids(demo["caseworker"], "_") == set()


def test_page_search_uses_the_same_rules(client, demo, people):
    client.force_login(demo["caseworker"])
    response = client.get("/cases/", {"q": "BENHAIM"})
    assert [c.pk for c, _ in response.context["rows"]] == [people["accented"].pk]


def test_risk_band_filter(demo, people):
    import datetime

    from casemgmt import casefile_services as cs
    from casemgmt.default_template import ensure_default_template
    from tests.casemgmt.conftest import answers_for

    ensure_default_template()
    from casemgmt.casefile import AssessmentTemplate

    template = AssessmentTemplate.objects.get()
    day = datetime.date.today() - datetime.timedelta(days=2)
    cs.assessment_record(
        case=people["plain"],
        by=demo["caseworker"],
        template=template,
        assessed_on=day,
        answers=answers_for(template, 3, 0),
    )
    cs.assessment_record(
        case=people["arabic"],
        by=demo["caseworker"],
        template=template,
        assessed_on=day,
        answers=answers_for(template, 0, 3),
    )
    # an earlier assessment recorded later does not change the current band (the latest assessed date)
    cs.assessment_record(
        case=people["plain"],
        by=demo["caseworker"],
        template=template,
        assessed_on=day - datetime.timedelta(days=30),
        answers=answers_for(template, 0, 3),
    )
    api = APIClient()
    api.force_authenticate(demo["caseworker"])
    assert {r["id"] for r in api.get("/api/v1/cases/", {"risk_band": "high"}).json()["results"]} == {people["plain"].pk}
    assert {r["id"] for r in api.get("/api/v1/cases/", {"risk_band": "low"}).json()["results"]} == {people["arabic"].pk}
    api.force_authenticate(demo["placement"])  # placement officers do not see risk bands
    assert api.get("/api/v1/cases/", {"risk_band": "high"}).status_code == 400
