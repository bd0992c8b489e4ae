"""The NGO-authority boundary (issue 10): sharing basis, the authority's shared view (exactly the
granted categories), the disclosure log row of every read, legal events, referrals, information
requests and exceptional disclosures."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Organisation, Role, User
from casemgmt import access, boundary_services, shared_view
from casemgmt.boundary_models import DisclosureLog, ExceptionalDisclosure, InformationRequest, LegalMandate
from casemgmt.casefile import Consent, LegalEvent
from casemgmt.casefile_services import record_create
from casemgmt.models import Case, ReferralSource, Stage
from tests.factories import case_move_stage

TODAY = timezone.localdate
PROBATION = "Regional Probation Office"


def probation():
    return Organisation.objects.get(name=PROBATION)


def consent(case, by, categories, **dates):
    data = {
        "purpose": "Coordination",
        "recipient": probation(),
        "categories": categories,
        "given_on": dates.get("given_on", TODAY() - datetime.timedelta(days=10)),
        "expires_on": dates.get("expires_on"),
    }
    return record_create(key="consent", case=case, by=by, data=data)


def mandate(case, by, **extra):
    data = {
        "kind": "court_order",
        "reference": "CO-1",
        "issuing_body": "Court",
        "authority": probation(),
        "starts_on": TODAY() - datetime.timedelta(days=30),
        **extra,
    }
    return record_create(key="mandate", case=case, by=by, data=data)


@pytest.fixture
def shared(demo, case):
    for stage in (Stage.SCREENING, Stage.ASSESSMENT, Stage.ACTIVE):
        case_move_stage(case=case, by=demo["caseworker"], to_stage=stage, reason="walk")
    return case


@pytest.fixture
def manager2(demo):
    """A manager of the other NGO (Atlantic)."""
    from accounts.models import Membership

    user = User.objects.create_user("manager2", password="x" * 14)
    Membership.objects.create(user=user, organisation=demo["caseworker2"].membership.organisation, role=Role.MANAGER)
    return user


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def keys_expected(categories):
    return set(shared_view.keys_for(categories))


# --- Basis and categories ------------------------------------------------------------------------


def test_without_a_basis_the_authority_sees_nothing(demo, shared, client):
    client.force_login(demo["authority"])
    page = client.get(reverse("home"))
    assert page.status_code == 200
    assert shared.participant.case_code not in page.content.decode()
    assert client.get(reverse("shared-case", args=[shared.pk])).status_code == 404
    assert api(demo["authority"]).get(f"/api/v1/shared-cases/{shared.pk}/").status_code == 404
    assert api(demo["authority"]).get("/api/v1/shared-cases/").json()["results"] == []
    assert not DisclosureLog.objects.exists()


@pytest.mark.parametrize(
    "categories",
    [["identity"], ["program_stage"], ["legal_status", "risk_band"], ["compliance"], ["placement", "identity"]],
)
def test_response_keys_equal_exactly_the_granted_categories(demo, shared, categories):
    consent(shared, demo["caseworker"], categories)
    body = api(demo["authority"]).get(f"/api/v1/shared-cases/{shared.pk}/").json()
    assert set(body) == keys_expected(categories)
    assert body["categories"] == sorted(categories)
    assert body["case_code"] == shared.participant.case_code
    assert body["caseworker"]["email"] == demo["caseworker"].email
    listed = api(demo["authority"]).get("/api/v1/shared-cases/").json()["results"]
    assert [set(r) for r in listed] == [set(shared_view.list_keys(categories))]


def test_html_shows_exactly_the_granted_fields(demo, shared, client):
    consent(shared, demo["caseworker"], ["program_stage"])
    client.force_login(demo["authority"])
    html = client.get(reverse("shared-case", args=[shared.pk])).content.decode()
    p = shared.participant
    assert p.case_code in html
    assert "Program stage" in html
    assert "Next review" in html
    for hidden in (p.given_name_latin, p.family_name_latin, p.national_id):
        assert hidden not in html, hidden
    shown = re.findall(r'<dt class="col-sm-4">([^<]+)</dt>', html)
    assert shown == ["Caseworker", "Program stage", "In this stage since", "Next review"]
    consent(shared, demo["caseworker"], ["identity"])
    html = client.get(reverse("shared-case", args=[shared.pk])).content.decode()
    assert p.given_name_latin in html
    assert p.national_id in html


def test_family_contact_consent_opens_nothing_for_an_authority(demo, shared):
    consent(shared, demo["caseworker"], ["family_contact"])
    body = api(demo["authority"]).get(f"/api/v1/shared-cases/{shared.pk}/").json()
    assert set(body) == keys_expected([])


def test_a_mandate_gives_identity_legal_status_stage_and_compliance(demo, shared):
    mandate(shared, demo["manager"])
    body = api(demo["authority"]).get(f"/api/v1/shared-cases/{shared.pk}/").json()
    assert body["categories"] == ["compliance", "identity", "legal_status", "program_stage"]
    assert body["basis"] == ["mandate"]
    assert set(body) == keys_expected(body["categories"])
    assert len(body["compliance"]) == shared_view.COMPLIANCE_MONTHS


def test_withdrawal_expiry_and_revocation_take_effect_on_the_next_request(demo, shared, client):
    c = consent(shared, demo["caseworker"], ["identity"])
    client.force_login(demo["authority"])
    url = reverse("shared-case", args=[shared.pk])
    assert client.get(url).status_code == 200
    Consent.objects.filter(pk=c.pk).update(withdrawn_on=TODAY())
    assert client.get(url).status_code == 404
    Consent.objects.filter(pk=c.pk).update(withdrawn_on=None, expires_on=TODAY() - datetime.timedelta(days=1))
    assert client.get(url).status_code == 404
    m = mandate(shared, demo["manager"])
    assert client.get(url).status_code == 200
    LegalMandate.objects.filter(pk=m.pk).update(revoked_on=TODAY())
    assert client.get(url).status_code == 404


def test_another_authority_does_not_see_the_case(demo, shared):
    consent(shared, demo["caseworker"], ["identity"])
    from accounts.models import City, Membership

    other = Organisation.objects.create(
        name="Other Prosecutor", kind=Organisation.Kind.AUTHORITY, city=City.objects.first()
    )
    liaison = User.objects.create_user("liaison2", password="x" * 14)

    Membership.objects.create(user=liaison, organisation=other, role=Role.AUTHORITY_LIAISON)
    assert api(liaison).get(f"/api/v1/shared-cases/{shared.pk}/").status_code == 404


def test_staff_pages_stay_closed_to_the_authority_even_with_a_basis(demo, shared, client):
    consent(shared, demo["caseworker"], ["identity", "legal_status", "program_stage", "risk_band"])
    client.force_login(demo["authority"])
    for url in (
        reverse("case-detail", args=[shared.pk]),
        reverse("casefile-list", args=[shared.pk, "legal-events"]),
        f"/api/v1/cases/{shared.pk}/",
    ):
        assert client.get(url).status_code == 404, url


# --- Disclosure log ----------------------------------------------------------------------------------


def test_every_authority_read_appends_a_disclosure_row(demo, shared, client):
    c = consent(shared, demo["caseworker"], ["identity", "risk_band"])
    m = mandate(shared, demo["manager"])
    client.force_login(demo["authority"])
    client.get(reverse("home"))
    client.get(reverse("shared-case", args=[shared.pk]))
    api(demo["authority"]).get("/api/v1/shared-cases/")
    api(demo["authority"]).get(f"/api/v1/shared-cases/{shared.pk}/")
    rows = list(DisclosureLog.objects.order_by("pk"))
    assert [(r.channel, r.view) for r in rows] == [
        ("ui", "authority-home"),
        ("ui", "authority-case"),
        ("api", "api-shared-case-list"),
        ("api", "api-shared-case-detail"),
    ]
    for row in rows:
        assert row.user_id == demo["authority"].pk
        assert row.organisation_id == probation().pk
        assert row.case_id == shared.pk
        assert row.basis == ["consent", "mandate"]
        assert row.basis_ids == sorted([f"consent:{c.pk}", f"mandate:{m.pk}"])
    assert set(rows[1].categories) == {"identity", "risk_band", "legal_status", "program_stage", "compliance"}


def test_the_disclosure_log_holds_no_personal_data(demo, shared):
    consent(shared, demo["caseworker"], ["identity"])
    api(demo["authority"]).get(f"/api/v1/shared-cases/{shared.pk}/")
    row = DisclosureLog.objects.values().get()
    text = repr(row)
    p = shared.participant
    for value in (p.given_name_latin, p.family_name_latin, p.national_id, p.case_code):
        assert value not in text


# --- Legal events -------------------------------------------------------------------------------------


def test_authority_records_legal_events_only_with_legal_status(demo, shared, client):
    consent(shared, demo["caseworker"], ["identity"])
    client.force_login(demo["authority"])
    url = reverse("shared-case-legal-event", args=[shared.pk])
    data = {"event-kind": "hearing", "event-date": TODAY().isoformat(), "event-description": "Hearing"}
    assert client.post(url, data).status_code == 404
    assert (
        api(demo["authority"])
        .post(f"/api/v1/shared-cases/{shared.pk}/legal-events/", {"kind": "hearing", "date": TODAY().isoformat()})
        .status_code
        == 404
    )
    consent(shared, demo["caseworker"], ["legal_status"])
    assert client.post(url, data).status_code == 302
    response = api(demo["authority"]).post(
        f"/api/v1/shared-cases/{shared.pk}/legal-events/",
        {"kind": "breach", "date": TODAY().isoformat(), "description": "Missed appointment"},
        format="json",
    )
    assert response.status_code == 201
    events = LegalEvent.objects.filter(case=shared).order_by("pk")
    assert [(e.kind, e.recorded_by_id) for e in events] == [
        ("hearing", demo["authority"].pk),
        ("breach", demo["authority"].pk),
    ]


def test_bad_legal_event_input_is_a_field_error_and_writes_nothing(demo, shared, client):
    consent(shared, demo["caseworker"], ["legal_status"])
    response = api(demo["authority"]).post(
        f"/api/v1/shared-cases/{shared.pk}/legal-events/", {"kind": "party", "date": "tomorrow"}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"kind", "date"}
    client.force_login(demo["authority"])
    page = client.post(reverse("shared-case-legal-event", args=[shared.pk]), {"event-kind": "hearing"})
    assert page.status_code == 400
    assert "This field is required" in page.content.decode()
    assert not LegalEvent.objects.filter(case=shared).exists()


def test_closed_cases_take_no_legal_events_from_authorities(demo, shared):
    consent(shared, demo["caseworker"], ["legal_status"])
    Case.objects.filter(pk=shared.pk).update(stage=Stage.CLOSED)
    response = api(demo["authority"]).post(
        f"/api/v1/shared-cases/{shared.pk}/legal-events/", {"kind": "hearing", "date": TODAY().isoformat()}
    )
    assert response.status_code == 404


# --- Referrals -------------------------------------------------------------------------------------------


def test_a_referral_lands_in_the_intake_queue_and_the_authority_sees_its_status(demo, client, manager):
    client.force_login(demo["authority"])
    northern = manager.membership.organisation
    from accounts.models import City

    response = client.post(
        reverse("authority-referral-create"),
        {
            "organisation": northern.pk,
            "given_name_latin": "Tariq",
            "family_name_latin": "Synthetic-Ref",
            "city": City.objects.first().pk,
            "reason": "Released on licence, asks for support.",
            "reference": "PR-77",
        },
    )
    assert response.status_code == 302
    case = Case.objects.get(participant__family_name_latin="Synthetic-Ref")
    assert case.organisation == northern
    assert case.stage == Stage.REFERRAL
    assert case.referral_source == ReferralSource.AUTHORITY
    assert case.referring_organisation == probation()
    assert not case.team.exists()
    # the manager's intake queue shows it
    client.force_login(manager)
    assert case.participant.case_code in client.get(reverse("home")).content.decode()
    # the authority follows the status, and nothing else of the case
    body = api(demo["authority"]).get("/api/v1/authority-referrals/").json()["results"]
    assert [(r["case_code"], r["status"], r["reference"]) for r in body] == [
        (case.participant.case_code, "Received", "PR-77")
    ]
    assert set(body[0]) == {"id", "case_code", "programme", "reference", "submitted_at", "status"}
    assert api(demo["authority"]).get(f"/api/v1/shared-cases/{case.pk}/").status_code == 404


def test_referral_field_errors(demo):
    response = api(demo["authority"]).post(
        "/api/v1/authority-referrals/", {"organisation": probation().pk, "given_name_latin": ""}, format="json"
    )
    assert response.status_code == 400
    assert {"organisation", "given_name_latin", "family_name_latin", "city", "reason"} <= set(response.json()["errors"])
    assert not Case.objects.exists()


def test_only_authorities_refer(demo, client):
    for name in ("caseworker", "manager", "auditor", "caseworker2"):
        client.force_login(demo[name])
        assert client.get(reverse("authority-referral-create")).status_code == 404
        assert api(demo[name]).post("/api/v1/authority-referrals/", {}, format="json").status_code == 404


# --- Information requests ---------------------------------------------------------------------------


def test_information_request_granted_with_a_new_consent(demo, shared, client, manager2):
    mandate(shared, demo["manager"])
    response = api(demo["authority"]).post(
        "/api/v1/information-requests/",
        {"case": shared.pk, "categories": ["risk_band"], "purpose": "Supervision report"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    item = InformationRequest.objects.get()
    assert item.status == "pending"
    assert item.authority == probation()
    # other NGOs' managers and caseworkers do not see it; the case's manager does
    assert api(manager2).get(f"/api/v1/information-requests/{item.pk}/").status_code == 404
    assert (
        api(demo["caseworker"])
        .post(f"/api/v1/information-requests/{item.pk}/grant/", {"given_on": TODAY().isoformat()})
        .status_code
        == 404
    )
    client.force_login(demo["manager"])
    assert "Supervision report" in client.get(reverse("information-requests")).content.decode()
    response = client.post(
        reverse("information-request-decide", args=[item.pk]),
        {"decision": "grant", "grant-given_on": TODAY().isoformat()},
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.status == "granted"
    assert item.consent.categories == ["risk_band"]
    assert item.consent.recipient == probation()
    body = api(demo["authority"]).get(f"/api/v1/shared-cases/{shared.pk}/").json()
    assert "risk_band" in body["categories"]
    # answered once
    again = api(demo["manager"]).post(f"/api/v1/information-requests/{item.pk}/refuse/", {"reason": "no"})
    assert again.status_code == 400


def test_information_request_refused_needs_a_reason(demo, shared):
    consent(shared, demo["caseworker"], ["program_stage"])
    item = boundary_services.information_request_submit(
        case=shared, by=demo["authority"], categories=["identity"], purpose="Why"
    )
    response = api(demo["manager"]).post(f"/api/v1/information-requests/{item.pk}/refuse/", {"reason": ""})
    assert response.status_code == 400
    assert "reason" in response.json()["errors"]
    response = api(demo["manager"]).post(
        f"/api/v1/information-requests/{item.pk}/refuse/", {"reason": "The participant said no."}
    )
    assert response.status_code == 200
    assert response.json()["status"] == "refused"
    assert Consent.objects.filter(case=shared).count() == 1
    body = api(demo["authority"]).get("/api/v1/information-requests/").json()["results"]
    assert body[0]["reason"] == "The participant said no."


def test_no_request_on_a_case_without_basis(demo, shared):
    response = api(demo["authority"]).post(
        "/api/v1/information-requests/",
        {"case": shared.pk, "categories": ["identity"], "purpose": "Fishing"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"case": ["No such case."]}
    assert not InformationRequest.objects.exists()


# --- Exceptional disclosure --------------------------------------------------------------------------


def test_exceptional_disclosure_needs_a_second_approver_and_is_a_snapshot(demo, shared, client):
    client.force_login(demo["manager"])
    response = client.post(
        reverse("disclosure-prepare", args=[shared.pk]),
        {
            "authority": probation().pk,
            "legal_basis": "danger",
            "justification": "A credible threat against a named person was reported today.",
            "categories": ["identity", "risk_band"],
        },
    )
    assert response.status_code == 302
    item = ExceptionalDisclosure.objects.get()
    # not yet visible to the authority; the preparer cannot approve
    assert api(demo["authority"]).get(f"/api/v1/exceptional-disclosures/{item.pk}/").status_code == 404
    client.post(reverse("disclosure-act", args=[item.pk]), {"action": "approve"})
    item.refresh_from_db()
    assert item.status == "prepared"
    client.force_login(demo["auditor"])
    assert shared.participant.given_name_latin not in client.get(reverse("disclosures")).content.decode()
    client.post(reverse("disclosure-act", args=[item.pk]), {"action": "approve"})
    item.refresh_from_db()
    assert item.status == "approved"
    assert item.approved_by == demo["auditor"]
    assert item.snapshot["given_name_latin"] == shared.participant.given_name_latin
    assert set(item.snapshot) == keys_expected(["identity", "risk_band"]) - {"basis"} | {"taken_at"}
    assert api(demo["authority"]).get(f"/api/v1/exceptional-disclosures/{item.pk}/").status_code == 404
    # the auditor cannot deliver; the manager records delivery
    client.post(reverse("disclosure-act", args=[item.pk]), {"action": "deliver"})
    item.refresh_from_db()
    assert item.status == "approved"
    client.force_login(demo["manager"])
    client.post(reverse("disclosure-act", args=[item.pk]), {"action": "deliver"})
    item.refresh_from_db()
    assert item.status == "delivered"
    # the name changes later: the authority still sees the snapshot, and that read is logged
    shared.participant.given_name_latin = "Changed"
    shared.participant.save()
    body = api(demo["authority"]).get(f"/api/v1/exceptional-disclosures/{item.pk}/").json()
    assert body["snapshot"]["given_name_latin"] != "Changed"
    row = DisclosureLog.objects.get()
    assert row.basis == ["exceptional"]
    assert row.basis_ids == [f"exceptional:{item.pk}"]
    # it never opens the live case
    assert api(demo["authority"]).get(f"/api/v1/shared-cases/{shared.pk}/").status_code == 404


def test_disclosure_form_errors(demo, shared, client):
    client.force_login(demo["manager"])
    response = client.post(
        reverse("disclosure-prepare", args=[shared.pk]),
        {"authority": probation().pk, "legal_basis": "danger", "justification": "short"},
    )
    assert response.status_code == 400
    assert not ExceptionalDisclosure.objects.exists()


@pytest.mark.parametrize(
    "name", ["caseworker", "colleague", "placement", "auditor", "admin", "caseworker2", "authority"]
)
def test_only_a_manager_of_the_case_prepares_a_disclosure(demo, shared, client, name):
    client.force_login(demo[name])
    assert client.get(reverse("disclosure-prepare", args=[shared.pk])).status_code == 404


def test_manager_of_another_ngo_sees_no_disclosures_or_requests(demo, shared, client, manager2):
    item = boundary_services.disclosure_prepare(
        case=shared,
        by=demo["manager"],
        authority=probation(),
        legal_basis="danger",
        justification="A credible threat against a named person.",
        categories=["identity"],
    )
    client.force_login(manager2)
    assert str(shared.participant.case_code) not in client.get(reverse("disclosures")).content.decode()
    client.post(reverse("disclosure-act", args=[item.pk]), {"action": "approve"})
    item.refresh_from_db()
    assert item.status == "prepared"


# --- Mandates in the case file ----------------------------------------------------------------------


def test_mandates_are_recorded_by_the_manager_and_read_by_caseworkers(demo, shared, client, manager2):
    client.force_login(demo["caseworker"])
    url = reverse("casefile-create", args=[shared.pk, "mandates"])
    assert client.get(url).status_code in (403, 404)
    client.force_login(demo["manager"])
    response = client.post(
        url,
        {
            "kind": "probation",
            "reference": "PS-9",
            "issuing_body": "Probation service",
            "authority": probation().pk,
            "starts_on": TODAY().isoformat(),
            "ends_on": (TODAY() - datetime.timedelta(days=5)).isoformat(),
        },
    )
    assert response.status_code == 200
    assert "ends_on" in response.context["form"].errors
    assert not LegalMandate.objects.exists()
    response = client.post(
        url,
        {
            "kind": "probation",
            "reference": "PS-9",
            "issuing_body": "Probation service",
            "authority": probation().pk,
            "starts_on": TODAY().isoformat(),
        },
    )
    assert response.status_code == 302
    assert access.records_visible_to(demo["caseworker"], "mandate").count() == 1
    assert access.records_visible_to(demo["placement"], "mandate").count() == 0
    assert access.records_visible_to(manager2, "mandate").count() == 0


def test_mandate_authority_must_be_an_authority(demo, shared):
    northern = demo["manager"].membership.organisation
    response = api(demo["manager"]).post(
        "/api/v1/legal-mandates/",
        {
            "case": shared.pk,
            "kind": "court_order",
            "reference": "X",
            "issuing_body": "Court",
            "authority": northern.pk,
            "starts_on": TODAY().isoformat(),
        },
        format="json",
    )
    assert response.status_code in (400, 405)
    assert not LegalMandate.objects.exists()


# --- Query counts -----------------------------------------------------------------------------------


def _count(callable_):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        response = callable_()
    assert response.status_code == 200
    return len(ctx.captured_queries)


def _share(demo, n):
    from tests.factories import northern_case

    for i in range(n):
        case = northern_case(demo, n=100 + i + Case.objects.count())
        if i % 2:
            consent(case, demo["caseworker"], ["identity", "program_stage", "risk_band", "placement"])
        else:
            mandate(case, demo["manager"])


def test_authority_pages_and_api_cost_the_same_for_2_or_12_cases(demo, client):
    client.force_login(demo["authority"])
    _share(demo, 2)
    home = _count(lambda: client.get(reverse("home")))
    listing = _count(lambda: api(demo["authority"]).get("/api/v1/shared-cases/"))
    first = Case.objects.order_by("pk").first()
    detail = _count(lambda: client.get(reverse("shared-case", args=[first.pk])))
    _share(demo, 10)
    assert _count(lambda: client.get(reverse("home"))) == home
    assert _count(lambda: api(demo["authority"]).get("/api/v1/shared-cases/")) == listing
    assert _count(lambda: client.get(reverse("shared-case", args=[first.pk]))) == detail
    assert DisclosureLog.objects.filter(view="authority-home").count() == 2 + 12


def test_manager_request_and_disclosure_lists_are_flat(demo, client):
    _share(demo, 2)
    client.force_login(demo["manager"])

    def ask():
        for case in access.shared_cases_for(demo["authority"]):
            boundary_services.information_request_submit(
                case=case, by=demo["authority"], categories=["identity"], purpose="p"
            )
            boundary_services.disclosure_prepare(
                case=case,
                by=demo["manager"],
                authority=probation(),
                legal_basis="danger",
                justification="A credible threat against a named person.",
                categories=["identity"],
            )

    ask()
    requests = _count(lambda: client.get(reverse("information-requests")))
    disclosures = _count(lambda: client.get(reverse("disclosures")))
    InformationRequest.objects.all().delete()
    _share(demo, 8)
    ask()
    assert _count(lambda: client.get(reverse("information-requests"))) == requests
    assert _count(lambda: client.get(reverse("disclosures"))) == disclosures


@pytest.mark.parametrize("case", [0, -1, 2**63, "x", None, 10**30])
def test_information_request_case_ids_are_validated(demo, case):
    response = api(demo["authority"]).post(
        "/api/v1/information-requests/", {"case": case, "categories": ["identity"], "purpose": "p"}, format="json"
    )
    assert response.status_code == 400
    assert "case" in response.json()["errors"]


def test_boundary_api_lists_are_flat(demo, client):
    """Requests, referrals and delivered disclosures: the same cost for 2 or 10 rows."""
    from accounts.models import City

    def add(n):
        _share(demo, n)
        for case in access.shared_cases_for(demo["authority"]).exclude(
            pk__in=InformationRequest.objects.values("case_id")
        ):
            boundary_services.information_request_submit(
                case=case, by=demo["authority"], categories=["identity"], purpose="p"
            )
            item = boundary_services.disclosure_prepare(
                case=case,
                by=demo["manager"],
                authority=probation(),
                legal_basis="danger",
                justification="A credible threat against a named person.",
                categories=["identity"],
            )
            item = boundary_services.disclosure_approve(disclosure=item, by=demo["auditor"])
            boundary_services.disclosure_deliver(disclosure=item, by=demo["manager"])
            boundary_services.authority_referral_submit(
                by=demo["authority"],
                organisation=demo["manager"].membership.organisation,
                participant={
                    "given_name_latin": "Ref",
                    "family_name_latin": f"Synthetic{case.pk}",
                    "city": City.objects.first(),
                },
                reason="Asks for support.",
            )

    urls = ["/api/v1/information-requests/", "/api/v1/authority-referrals/", "/api/v1/exceptional-disclosures/"]
    add(2)
    counts = {url: _count(lambda url=url: api(demo["authority"]).get(url)) for url in urls}
    manager = _count(lambda: api(demo["manager"]).get(urls[0]))
    add(8)
    assert {url: _count(lambda url=url: api(demo["authority"]).get(url)) for url in urls} == counts
    assert _count(lambda: api(demo["manager"]).get(urls[0])) == manager
    assert len(api(demo["authority"]).get(urls[2]).json()["results"]) == 10
