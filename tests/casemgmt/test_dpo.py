"""The data-protection officer's pages (issue 10, item 6): access and disclosure logs with filters,
sorting, pages and CSV; grants and mandates; anomalies; a case's change history without values."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Organisation
from casemgmt import disclosure, services
from casemgmt.boundary_models import DisclosureLog, LegalMandate
from casemgmt.casefile_services import record_create
from casemgmt.models import AccessLog, TeamRole
from tests.factories import CaseFactory

ROLES = [
    "caseworker",  # the lead
    "colleague",  # another caseworker on the team
    "counsellor",
    "mentor",
    "manager",
    "auditor",
    "admin",
    "caseworker2",
    "authority",
    "anonymous",
]
TODAY = timezone.localdate


@pytest.fixture
def team_case(demo, case):
    services.team_member_add(case=case, by=demo["caseworker"], user=demo["colleague"], role=TeamRole.CASEWORKER)
    return case


@pytest.fixture
def other_case(demo):
    return CaseFactory(
        organisation=demo["caseworker2"].membership.organisation, by=demo["caseworker2"], lead=demo["caseworker2"]
    )


def _as(client, demo, who):
    if who != "anonymous":
        client.force_login(demo[who])
    return client


def _read(user, case, view="case-detail"):
    return services.access_log_record(user=user, case=case, channel="ui", view=view, shown=frozenset({"names"}))


def _disclose(demo, case, *, basis=("consent",), at=None):
    if at is not None:
        # the log is append-only: a row at another time is inserted as such
        return DisclosureLog.objects.create(
            at=at,
            user_id=demo["authority"].pk,
            organisation_id=demo["authority"].membership.organisation_id,
            case_id=case.pk,
            categories=["identity"],
            basis=list(basis),
            channel="ui",
            view="shared-case",
        )
    return disclosure.record(
        organisation_id=demo["authority"].membership.organisation_id,
        case_id=case.pk,
        categories=["identity"],
        basis=basis,
        basis_ids=[f"{basis[0]}:1"],
        channel="ui",
        view="shared-case",
        user_id=demo["authority"].pk,
    )


DPO_PAGES = ["access-log", "access-log-csv", "disclosure-log", "disclosure-log-csv", "dpo-grants", "dpo-anomalies"]


@pytest.mark.parametrize("page", DPO_PAGES)
@pytest.mark.parametrize("who", ROLES)
def test_who_opens_the_dpo_pages(client, demo, team_case, page, who):
    response = _as(client, demo, who).get(reverse(page))
    if who == "anonymous":
        assert response.status_code == 302
        assert reverse("login") in response["Location"]
    else:
        assert response.status_code == (200 if who in ("manager", "auditor") else 404)


@pytest.mark.parametrize("who", ROLES)
def test_only_the_auditor_opens_a_case_change_history(client, demo, team_case, who):
    response = _as(client, demo, who).get(reverse("dpo-case-history", args=[team_case.pk]))
    if who == "anonymous":
        assert response.status_code == 302
    else:
        # managers have the full History tab of the case; this who/when view is the auditor's
        assert response.status_code == (200 if who == "auditor" else 404)
    lookup = client.get(reverse("dpo-history-lookup"), {"code": f"#{team_case.pk}"})
    if who == "auditor":
        assert lookup.status_code == 302
    elif who != "anonymous":
        assert lookup.status_code == 404


def test_the_auditor_reaches_no_other_organisations_case_history(client, demo, other_case):
    client.force_login(demo["auditor"])
    assert client.get(reverse("dpo-case-history", args=[other_case.pk])).status_code == 404
    lookup = client.get(reverse("dpo-history-lookup"), {"code": str(other_case.pk)})
    assert lookup.status_code == 404
    # the auditor holds no case codes: a typed code finds nothing
    mine = client.get(reverse("dpo-history-lookup"), {"code": other_case.participant.case_code})
    assert mine.status_code == 404


def test_access_log_filters_sorts_and_shows_no_case_content(client, demo, team_case, other_case):
    second = CaseFactory(organisation=team_case.organisation, by=demo["caseworker"], lead=demo["caseworker"])
    _read(demo["caseworker"], team_case)
    _read(demo["colleague"], team_case)
    _read(demo["colleague"], second)
    _read(demo["caseworker2"], other_case)  # another NGO's read of its own case: never here
    client.force_login(demo["auditor"])

    rows = list(client.get(reverse("access-log")).context["page"].object_list)
    assert {r.case_id for r in rows} == {team_case.pk, second.pk}
    html = client.get(reverse("access-log")).content.decode()
    assert f"#{team_case.pk}" in html  # case numbers: no codes (handbook: DPO, case code —), never names
    for name in (
        team_case.participant.case_code,
        team_case.participant.family_name_latin,
        team_case.participant.given_name_arabic,
    ):
        assert name not in html

    rows = list(client.get(reverse("access-log"), {"case_code": f"#{team_case.pk}"}).context["page"].object_list)
    assert {r.case_id for r in rows} == {team_case.pk}
    code = team_case.participant.case_code
    assert not client.get(reverse("access-log"), {"case_code": code}).context["page"].object_list
    client.force_login(demo["manager"])  # the manager reads codes, typed in lower case
    rows = list(client.get(reverse("access-log"), {"case_code": code.lower()}).context["page"].object_list)
    assert {r.case_id for r in rows} == {team_case.pk}
    assert code in client.get(reverse("access-log")).content.decode()
    client.force_login(demo["auditor"])
    rows = list(client.get(reverse("access-log"), {"user": demo["colleague"].pk}).context["page"].object_list)
    assert {r.case_id for r in rows} == {team_case.pk, second.pk}
    assert all(r.user_id == demo["colleague"].pk for r in rows)
    tomorrow = (TODAY() + datetime.timedelta(days=1)).isoformat()
    assert not client.get(reverse("access-log"), {"since": tomorrow}).context["page"].object_list
    rows = client.get(reverse("access-log"), {"sort": "case"}).context["page"].object_list
    codes = [r.case_code for r in rows]
    assert codes == sorted(codes)


def test_an_invalid_filter_shows_its_error_and_no_rows(client, demo, team_case):
    _read(demo["caseworker"], team_case)
    client.force_login(demo["auditor"])
    response = client.get(reverse("access-log"), {"since": "2026-05-02", "until": "2026-05-01"})
    assert response.status_code == 200
    assert "The end of the period cannot be before its start." in response.content.decode()
    assert 'aria-invalid="true"' in response.content.decode()
    assert not response.context["page"].object_list
    csv_rows = _csv(client.get(reverse("access-log-csv"), {"since": "2026-05-02", "until": "2026-05-01"}))
    assert len(csv_rows) == 1  # the header only


def _csv(response) -> list[list[str]]:
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_access_log_csv_streams_the_filtered_rows_with_ids_and_codes_only(client, demo, team_case):
    second = CaseFactory(organisation=team_case.organisation, by=demo["caseworker"], lead=demo["caseworker"])
    _read(demo["caseworker"], team_case)
    _read(demo["colleague"], second)
    client.force_login(demo["auditor"])
    rows = _csv(client.get(reverse("access-log-csv"), {"case_code": str(team_case.pk)}))
    header, *body = rows
    assert header == ["id", "at", "user_id", "organisation_id", "case_id", "case_ref", "channel", "view", "shown"]
    assert [(r[4], r[5], r[2]) for r in body] == [(str(team_case.pk), f"#{team_case.pk}", str(demo["caseworker"].pk))]
    text = "\n".join(",".join(r) for r in rows)
    for value in (
        team_case.participant.family_name_latin,
        team_case.participant.given_name_latin,
        team_case.participant.case_code,
        demo["caseworker"].last_name,
    ):
        assert value not in text


def test_disclosure_log_shows_the_organisations_cases_with_filters_and_csv(client, demo, team_case, other_case):
    _disclose(demo, team_case, basis=("consent",))
    _disclose(demo, team_case, basis=("mandate",))
    _disclose(demo, other_case, basis=("consent",))  # another NGO's case
    for who in ("auditor", "manager"):
        client.force_login(demo[who])
        rows = list(client.get(reverse("disclosure-log")).context["page"].object_list)
        assert [r.case_id for r in rows] == [team_case.pk, team_case.pk]
    rows = list(client.get(reverse("disclosure-log"), {"basis": "mandate"}).context["page"].object_list)
    assert [r.basis for r in rows] == [["mandate"]]
    authority = demo["authority"].membership.organisation
    rows = list(client.get(reverse("disclosure-log"), {"organisation": authority.pk}).context["page"].object_list)
    assert len(rows) == 2
    header, *body = _csv(client.get(reverse("disclosure-log-csv"), {"basis": "consent"}))
    assert header[:7] == ["id", "at", "user_id", "client_id", "authority_id", "case_id", "case_ref"]
    assert [(r[5], r[6], r[7], r[8]) for r in body] == [
        (str(team_case.pk), team_case.participant.case_code, "identity", "consent")
    ]
    html = client.get(reverse("disclosure-log")).content.decode()
    assert team_case.participant.family_name_latin not in html


def test_grants_and_mandates_with_expiry_filters(client, demo, team_case, other_case):
    probation = Organisation.objects.get(name="Regional Probation Office")
    lead = demo["caseworker"]
    day = TODAY() - datetime.timedelta(days=10)

    def consent(case, by, **extra):
        return record_create(
            key="consent",
            case=case,
            by=by,
            data={"purpose": "PURPOSE-TEXT", "recipient": probation, "categories": ["identity"], "given_on": day}
            | extra,
        )

    current = consent(team_case, lead)
    expiring = consent(team_case, lead, expires_on=TODAY() + datetime.timedelta(days=10))
    withdrawn = consent(team_case, lead, withdrawn_on=TODAY())
    record_create(  # a consent for the NGO's own work is not a grant to an authority
        key="consent",
        case=team_case,
        by=lead,
        data={"purpose": "own", "recipient": None, "categories": ["family_contact"], "given_on": day},
    )
    consent(other_case, demo["caseworker2"])
    mandate = LegalMandate.objects.create(
        case=team_case,
        recorded_by=demo["manager"],
        kind="court_order",
        reference="REF-SECRET-1",
        issuing_body="Court",
        authority=probation,
        starts_on=day,
        ends_on=TODAY() + datetime.timedelta(days=5),
    )
    revoked = LegalMandate.objects.create(
        case=team_case,
        recorded_by=demo["manager"],
        kind="probation",
        reference="REF-2",
        issuing_body="Court",
        authority=probation,
        starts_on=day,
        revoked_on=TODAY(),
    )
    client.force_login(demo["auditor"])

    def ids(state):
        context = client.get(reverse("dpo-grants"), {"state": state} if state else {}).context
        return {c.pk for c in context["consents"].object_list}, {m.pk for m in context["mandates"].object_list}

    assert ids("") == ({current.pk, expiring.pk, withdrawn.pk}, {mandate.pk, revoked.pk})
    assert ids("current") == ({current.pk, expiring.pk}, {mandate.pk})
    assert ids("expiring") == ({expiring.pk}, {mandate.pk})
    assert ids("ended") == ({withdrawn.pk}, {revoked.pk})
    html = client.get(reverse("dpo-grants")).content.decode()
    assert "PURPOSE-TEXT" not in html  # metadata only
    assert "REF-SECRET-1" not in html
    assert team_case.participant.family_name_latin not in html


def test_anomalies_count_distinct_cases_per_window_and_off_hours_authority_reads(client, demo, settings):
    settings.DPO_ANOMALY_DISTINCT_CASES = 3
    organisation = demo["caseworker"].membership.organisation
    cases = [CaseFactory(organisation=organisation, by=demo["caseworker"], lead=demo["caseworker"]) for _ in range(3)]
    for case in cases:
        _read(demo["colleague"], case)
        _read(demo["colleague"], case)  # the same case twice counts once
    _read(demo["caseworker"], cases[0])
    night = timezone.make_aware(datetime.datetime.combine(TODAY() - datetime.timedelta(days=1), datetime.time(2, 30)))
    _disclose(demo, cases[0], at=night)
    _disclose(demo, cases[1], at=night)
    client.force_login(demo["auditor"])
    context = client.get(reverse("dpo-anomalies")).context
    assert [(r["user_id"], r["cases"], r["reads"]) for r in context["bulk"]] == [(demo["colleague"].pk, 3, 6)]
    assert [(r["user_id"], r["reads"], r["cases"]) for r in context["off_hours"]] == [(demo["authority"].pk, 2, 2)]
    settings.DPO_ANOMALY_DISTINCT_CASES = 4
    assert client.get(reverse("dpo-anomalies")).context["bulk"] == []


def test_the_auditors_change_history_shows_who_and_when_never_values(client, demo, team_case):
    lead = demo["caseworker"]
    note = record_create(
        key="note",
        case=team_case,
        by=lead,
        data={"kind": "visit", "date": TODAY(), "visibility": "restricted", "text": "NOTE-VALUE-SECRET"},
    )
    services.case_profile_update(case=team_case, by=lead, changes={"national_id": "QX-VALUE-1"})
    client.force_login(demo["auditor"])
    response = client.get(reverse("dpo-case-history", args=[team_case.pk]))
    html = response.content.decode()
    records = {(row["record"], row["pgh_label"]) for row in response.context["rows"]}
    assert ("casemgmt.note", "insert") in records
    assert ("casemgmt.participant", "update") in records
    assert ("casemgmt.caseteammember", "insert") in records
    assert lead.get_full_name() in html
    for value in ("NOTE-VALUE-SECRET", "QX-VALUE-1", team_case.participant.family_name_latin, "national ID"):
        assert value not in html
    assert note.pk  # the note exists; only its kind and time are listed
    # the view is itself recorded as a read of the case (no groups shown)
    assert AccessLog.objects.filter(case=team_case, view="dpo-history", user=demo["auditor"], shown=[]).exists()


def _queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, params or {}).status_code == 200
    return len(ctx.captured_queries)


def test_dpo_lists_cost_the_same_for_few_or_many_rows(client, demo, team_case):
    probation = Organisation.objects.get(name="Regional Probation Office")
    client.force_login(demo["auditor"])

    def add(n):
        for _ in range(n):
            _read(demo["colleague"], team_case)
            _disclose(demo, team_case)
            record_create(
                key="consent",
                case=team_case,
                by=demo["caseworker"],
                data={"purpose": "p", "recipient": probation, "categories": ["identity"], "given_on": TODAY()},
            )
            record_create(
                key="note",
                case=team_case,
                by=demo["caseworker"],
                data={"kind": "visit", "date": TODAY(), "visibility": "team", "text": "x"},
            )

    urls = [
        reverse("access-log"),
        reverse("disclosure-log"),
        reverse("dpo-grants"),
        reverse("dpo-anomalies"),
        reverse("dpo-case-history", args=[team_case.pk]),
    ]
    add(2)
    few = [_queries(client, url) for url in urls]
    add(20)
    many = [_queries(client, url) for url in urls]
    assert few == many
