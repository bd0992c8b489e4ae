"""The timeline: one chronological view, filtered per viewer, paginated, open to other apps."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from casemgmt import casefile_services as cs
from casemgmt import timeline
from casemgmt.services import team_member_add
from tests.casemgmt.test_case_pages import ALL

YESTERDAY = timezone.localdate() - datetime.timedelta(days=1)


def _kinds(api, case):
    response = api.get(f"/api/v1/cases/{case.pk}/timeline/")
    return response, {e["kind"] for e in response.json()["results"]} if response.status_code == 200 else set()


@pytest.mark.parametrize(
    ("username", "kinds"),
    [
        ("caseworker", {"stage", "assessment", "note", "legal_event", "relapse_event", "consent", "service_referral"}),
        ("manager", {"stage", "assessment", "note", "legal_event", "relapse_event", "consent", "service_referral"}),
        ("placement", {"stage", "note"}),  # team notes; the legal event is a hearing, not a condition
    ],
)
def test_timeline_per_role(demo, records, active_case, username, kinds):
    api = APIClient()
    api.force_authenticate(demo[username])
    response, seen = _kinds(api, active_case)
    assert response.status_code == 200
    assert seen == kinds


@pytest.mark.parametrize("viewer", ALL, indirect=True)
def test_timeline_role_matrix(client, records, active_case, viewer, request):
    name = request.node.callspec.params["viewer"]
    if viewer is not None:
        client.force_login(viewer)
    expected = 302 if name == "anonymous" else 200 if name in {"caseworker", "placement", "manager"} else 404
    assert client.get(reverse("case-timeline", args=[active_case.pk])).status_code == expected


def test_restricted_notes_stay_out_of_the_timeline(demo, active_case):
    team_member_add(case=active_case, by=demo["caseworker"], user=demo["colleague"], role="caseworker")
    cs.record_create(
        key="note",
        case=active_case,
        by=demo["colleague"],
        data={"kind": "call", "date": YESTERDAY, "visibility": "restricted", "text": "PRIVATE-TEXT"},
    )
    for username, visible in (("manager", False), ("placement", False), ("colleague", True), ("caseworker", True)):
        api = APIClient()
        api.force_authenticate(demo[username])
        body = str(api.get(f"/api/v1/cases/{active_case.pk}/timeline/").json())
        assert ("PRIVATE-TEXT" in body) == visible, username


def test_stage_reasons_only_for_referral_readers(demo, active_case):
    api = APIClient()
    api.force_authenticate(demo["placement"])
    details = [
        e["detail"]
        for e in api.get(f"/api/v1/cases/{active_case.pk}/timeline/").json()["results"]
        if e["kind"] == "stage"
    ]
    assert details
    assert not any(details)


def test_pagination_and_order(demo, active_case):
    for i in range(60):
        cs.record_create(
            key="note",
            case=active_case,
            by=demo["caseworker"],
            data={
                "kind": "call",
                "date": YESTERDAY - datetime.timedelta(days=i),
                "visibility": "team",
                "text": f"n{i}",
            },
        )
    api = APIClient()
    api.force_authenticate(demo["caseworker"])
    first = api.get(f"/api/v1/cases/{active_case.pk}/timeline/").json()
    second = api.get(first["next"]).json()
    assert len(first["results"]) == 50
    assert first["previous"] is None
    assert second["previous"]
    stamps = [e["at"] for e in first["results"] + second["results"]]
    assert stamps == sorted(stamps, reverse=True)
    assert api.get(f"/api/v1/cases/{active_case.pk}/timeline/", {"page": "x"}).status_code == 400


def test_other_apps_register_their_events(demo, active_case):
    def mentoring(user, case, limit):
        return [timeline.TimelineEvent(timezone.now(), "mentoring", "Mentoring session")]

    timeline.register(mentoring)
    try:
        api = APIClient()
        api.force_authenticate(demo["caseworker"])
        kinds = {e["kind"] for e in api.get(f"/api/v1/cases/{active_case.pk}/timeline/").json()["results"]}
        assert "mentoring" in kinds
    finally:
        timeline.SOURCES.remove(mentoring)


def test_timeline_queries_do_not_grow_with_events(client, demo, active_case):
    client.force_login(demo["caseworker"])

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("case-timeline", args=[active_case.pk])).status_code == 200
        return len(ctx.captured_queries)

    few = count()
    for i in range(30):
        cs.record_create(
            key="note",
            case=active_case,
            by=demo["caseworker"],
            data={"kind": "call", "date": YESTERDAY, "visibility": "team", "text": f"n{i}"},
        )
    assert count() == few


def test_rows_of_one_case_follow_the_same_rule_as_rows_of_all_cases(demo, records, active_case):
    """`case_records_visible_to` (the timeline's shortcut) equals `records_visible_to(...).filter(case=...)`."""
    from casemgmt import access

    team_member_add(case=active_case, by=demo["caseworker"], user=demo["colleague"], role="caseworker")
    for author, visibility in (("colleague", "restricted"), ("caseworker", "restricted"), ("colleague", "team")):
        cs.record_create(
            key="note",
            case=active_case,
            by=demo[author],
            data={"kind": "call", "date": YESTERDAY, "visibility": visibility, "text": f"{author}-{visibility}"},
        )
    checked = 0
    for username, user in demo.items():
        case = access.cases_visible_to(user).filter(pk=active_case.pk).first()
        for key in access.RECORD_RULES:
            everywhere = set(access.records_visible_to(user, key).filter(case=active_case).values_list("pk", flat=True))
            if case is None:
                assert everywhere == set(), (username, key)
                continue
            here = set(access.case_records_visible_to(user, case, key).values_list("pk", flat=True))
            assert here == everywhere, (username, key)
            checked += bool(here)
    assert checked > 10  # the comparison saw rows, not only empty sets


def _part_rows(part):
    sql, params = part
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def test_the_union_as_sql_equals_the_orm_for_every_user(demo, records, active_case):
    """Each source's WHERE compiled under its cached SELECT gives exactly the rows of the whole
    queryset compiled by the ORM, for every demo user, and so does the page of events."""
    from casemgmt import access

    team_member_add(case=active_case, by=demo["caseworker"], user=demo["colleague"], role="caseworker")
    cs.record_create(
        key="note",
        case=active_case,
        by=demo["colleague"],
        data={"kind": "call", "date": YESTERDAY, "visibility": "restricted", "text": "colleague only"},
    )
    fast_parts = compared_rows = 0
    for username, user in demo.items():
        case = access.cases_visible_to(user).filter(pk=active_case.pk).first()
        if case is None:
            continue
        for index, source in enumerate(timeline.QUERY_SOURCES):
            shape = source.rows(user, case)
            if shape is None:
                continue
            rows, spec = shape
            fast = timeline._part_sql(rows, spec, kind=index, wanted=51)
            orm = timeline._part_sql(rows, spec, kind=index, wanted=51, fast=False)
            if orm is None:
                assert fast is None, (username, source.kind)
                continue
            fast_parts += timeline._select_sql(rows.model, spec, rows.db) is not None
            got, expected = _part_rows(fast), _part_rows(orm)
            assert got == expected, (username, source.kind)
            compared_rows += len(expected)
    assert fast_parts > 30  # the cached SELECTs were used, not only the ORM
    assert compared_rows > 20  # and they read rows, not only empty sets


def test_a_source_with_joins_goes_through_the_orm(demo, records, active_case):
    from casemgmt.casefile import Note

    rows, spec = timeline.columns(
        Note.objects.filter(case__organisation=active_case.organisation, case=active_case), at=timeline.noon("date")
    )
    assert not timeline._plain(rows.query)
    sql, params = timeline._part_sql(rows, spec, kind=0, wanted=5)
    assert "INNER JOIN" in sql
    assert [row[1] for row in _part_rows((sql, params))] == list(
        Note.objects.filter(case=active_case).order_by("-date", "-pk").values_list("pk", flat=True)[:5]
    )


def test_an_empty_source_gives_no_part(demo, active_case):
    from casemgmt.casefile import Note

    rows, spec = timeline.columns(Note.objects.none(), at=timeline.noon("date"))
    assert timeline._part_sql(rows, spec, kind=0, wanted=5) is None
