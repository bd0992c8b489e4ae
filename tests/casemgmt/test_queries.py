"""The case list costs the same for 5 or 50 cases, in the UI and the API."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from casemgmt.models import Case
from tests.factories import northern_case


def _count(callable_):
    with CaptureQueriesContext(connection) as ctx:
        response = callable_()
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("username", ["caseworker", "manager", "placement"])
def test_case_list_page_queries_do_not_grow(client, demo, username):
    client.force_login(demo[username])
    for n in range(5):
        northern_case(demo, n=n)
    # session, user+membership, leads for the filter, cities for the filter, count, one page of cases,
    # the user's saved searches
    five = _count(lambda: client.get(reverse("case-list")))
    assert five <= 7
    for n in range(5, 50):
        northern_case(demo, n=n)
    assert _count(lambda: client.get(reverse("case-list"))) == five


@pytest.mark.parametrize("username", ["caseworker", "manager", "placement"])
def test_case_list_api_queries_do_not_grow(demo, username):
    api = APIClient()
    api.force_authenticate(demo[username])
    for n in range(5):
        northern_case(demo, n=n)
    # one page of cases with participant, city, organisation and lead (cursor pagination: no count)
    five = _count(lambda: api.get("/api/v1/cases/"))
    assert five == 1
    for n in range(5, 50):
        northern_case(demo, n=n)
    assert _count(lambda: api.get("/api/v1/cases/")) == five
    assert _count(lambda: api.get("/api/v1/participants/")) == five


def test_case_detail_queries_do_not_depend_on_team_size(client, demo):
    case = northern_case(demo)
    client.force_login(demo["caseworker"])
    before = _count(lambda: client.get(reverse("case-detail", args=[case.pk])))
    # session with user, the case (participant, city, organisation, pending transfer), the access-log
    # row, safety flags, recent moves, the team; the risk band comes with the case row
    assert before == 6
    from casemgmt.services import team_member_add

    team_member_add(case=case, by=demo["caseworker"], user=demo["colleague"], role="caseworker")
    assert _count(lambda: client.get(reverse("case-detail", args=[case.pk]))) == before
    # the referring organisation, shown in the referral section, comes with the case
    from accounts.models import Organisation

    referrer = Organisation.objects.exclude(pk=case.organisation_id).first()
    Case.objects.filter(pk=case.pk).update(referring_organisation=referrer)
    page = client.get(reverse("case-detail", args=[case.pk]))
    assert referrer.name in page.content.decode()
    assert _count(lambda: client.get(reverse("case-detail", args=[case.pk]))) == before


def test_home_page_queries_do_not_grow(client, demo):
    client.force_login(demo["caseworker"])
    for n in range(3):
        northern_case(demo, n=n)
    three = _count(lambda: client.get("/"))
    for n in range(3, 30):
        northern_case(demo, n=n)
    assert _count(lambda: client.get("/")) == three
