"""Transfer to another NGO: consent, accept or refuse, what each side sees afterwards."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Membership, Organisation, Role, User
from casemgmt import casefile_services as cs
from casemgmt.models import AccessLog, CaseTransfer
from casemgmt.services import access_log_record

YESTERDAY = timezone.localdate() - datetime.timedelta(days=1)


@pytest.fixture
def atlantic():
    return Organisation.objects.get(name="Atlantic Family Support Association")


@pytest.fixture
def atlantic_manager(demo, atlantic):
    user = User.objects.create_user(
        "atlantic-manager", password="x-long-password-2026", first_name="Awa", last_name="Test"
    )
    Membership.objects.create(user=user, organisation=atlantic, role=Role.MANAGER)
    return user


@pytest.fixture
def consent(demo, active_case, atlantic):
    return cs.record_create(
        key="consent",
        case=active_case,
        by=demo["caseworker"],
        data={
            "purpose": "Transfer to Atlantic",
            "recipient": atlantic,
            "categories": ["identity"],
            "given_on": YESTERDAY,
        },
    )


def _request(demo, case, atlantic, consent):
    return cs.transfer_request(
        case=case, by=demo["caseworker"], to_organisation=atlantic, consent=consent, reason="Moved to Casablanca"
    )


def test_accepted_transfer_moves_the_same_case(demo, active_case, atlantic, atlantic_manager, consent):
    code = active_case.participant.case_code
    access_log_record(user=demo["caseworker"], case=active_case, channel="ui", view="case-detail", shown=frozenset())
    transfer = _request(demo, active_case, atlantic, consent)
    api = APIClient()
    api.force_authenticate(atlantic_manager)
    # before accepting, the receiver sees the transfer (case code), not the case
    assert api.get(f"/api/v1/cases/{active_case.pk}/").status_code == 404
    assert api.get("/api/v1/transfers/").json()["results"][0]["case_code"] == code
    assert api.post(f"/api/v1/transfers/{transfer.pk}/accept/").status_code == 200

    active_case.refresh_from_db()
    assert active_case.organisation == atlantic
    assert active_case.participant.case_code == code
    assert api.get(f"/api/v1/cases/{active_case.pk}/").status_code == 200
    assert not active_case.team.exists()  # the receiving manager assigns a lead

    for username in ("caseworker", "placement", "manager"):  # the sending side lost the case...
        other = APIClient()
        other.force_authenticate(demo[username])
        assert other.get(f"/api/v1/cases/{active_case.pk}/").status_code == 404, username
    sender = APIClient()
    sender.force_authenticate(demo["manager"])  # ...but keeps the transfer record and its own log rows
    assert [t["status"] for t in sender.get("/api/v1/transfers/").json()["results"]] == ["accepted"]
    from casemgmt.access import access_logs_visible_to

    assert access_logs_visible_to(demo["auditor"]).filter(case=active_case).count() == 1
    assert AccessLog.objects.filter(case=active_case, organisation=demo["manager"].membership.organisation).exists()


def test_refused_transfer_changes_nothing(client, demo, active_case, atlantic, atlantic_manager, consent):
    transfer = _request(demo, active_case, atlantic, consent)
    client.force_login(atlantic_manager)
    response = client.post(reverse("transfer-decide", args=[transfer.pk]), {"decision": "refuse", "reason": ""})
    assert response.status_code == 302
    transfer.refresh_from_db()
    assert transfer.status == "pending"  # a refusal needs a reason
    client.post(reverse("transfer-decide", args=[transfer.pk]), {"decision": "refuse", "reason": "No capacity"})
    transfer.refresh_from_db()
    active_case.refresh_from_db()
    assert transfer.status == "refused"
    assert active_case.organisation == demo["manager"].membership.organisation
    assert active_case.team.filter(is_lead=True).exists()


def test_transfer_needs_a_current_consent_naming_the_receiver(demo, active_case, atlantic):
    probation = Organisation.objects.get(name="Regional Probation Office")
    wrong = cs.record_create(
        key="consent",
        case=active_case,
        by=demo["caseworker"],
        data={"purpose": "Probation", "recipient": probation, "categories": ["identity"], "given_on": YESTERDAY},
    )
    with pytest.raises(ValidationError) as caught:
        _request(demo, active_case, atlantic, wrong)
    assert "consent" in caught.value.message_dict
    withdrawn = cs.record_create(
        key="consent",
        case=active_case,
        by=demo["caseworker"],
        data={
            "purpose": "Transfer",
            "recipient": atlantic,
            "categories": ["identity"],
            "given_on": YESTERDAY,
            "withdrawn_on": YESTERDAY,
        },
    )
    with pytest.raises(ValidationError):
        _request(demo, active_case, atlantic, withdrawn)
    with pytest.raises(ValidationError):
        _request(demo, active_case, probation, wrong)  # not an NGO
    assert not CaseTransfer.objects.exists()


def test_one_pending_transfer_at_a_time(demo, active_case, atlantic, consent):
    _request(demo, active_case, atlantic, consent)
    with pytest.raises(ValidationError, match="already waiting"):
        _request(demo, active_case, atlantic, consent)


@pytest.mark.parametrize(
    ("username", "status"),
    [
        ("caseworker", 201),
        ("manager", 201),
        ("placement", 404),
        ("colleague", 404),
        ("caseworker2", 404),
        ("authority", 404),
    ],
)
def test_who_may_request_a_transfer(demo, active_case, atlantic, consent, username, status):
    api = APIClient()
    api.force_authenticate(demo[username])
    response = api.post(
        f"/api/v1/cases/{active_case.pk}/transfer/",
        {"to_organisation": atlantic.pk, "consent": consent.pk, "reason": "moved"},
    )
    assert response.status_code == status


@pytest.mark.parametrize("username", ["caseworker", "placement", "manager", "caseworker2", "authority", "auditor"])
def test_who_may_decide(demo, active_case, atlantic, consent, username):
    transfer = _request(demo, active_case, atlantic, consent)
    api = APIClient()
    api.force_authenticate(demo[username])
    # only a manager of the receiving organisation decides; the sender's manager sees it but may not decide
    assert api.post(f"/api/v1/transfers/{transfer.pk}/accept/").status_code == 404
    listed = [t["id"] for t in api.get("/api/v1/transfers/").json()["results"]]
    assert listed == ([transfer.pk] if username == "manager" else [])
