"""Opening and editing a case: field errors, nothing half-saved."""

import pytest
from django.urls import reverse

from casemgmt.models import Case, Participant

GOOD = {
    "given_name_latin": "Walid",
    "family_name_latin": "Testaoui",
    "city": "",  # filled in per test with a City pk
    "referral_source": "family",
    "referral_date": "2026-11-01",
    "languages": ["ar"],
}


@pytest.fixture
def good(demo):
    from accounts.models import City

    return {**GOOD, "city": City.objects.get(code="SLE").pk}


def test_open_a_case(client, caseworker, good):
    client.force_login(caseworker)
    response = client.post(reverse("case-open"), good)
    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("case-detail", args=[case.pk])
    assert case.participant.case_code.startswith("SLE-")
    assert case.team.get(is_lead=True).user == caseworker


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"given_name_latin": ""}, "given_name_latin"),
        ({"referral_date": "2999-01-01"}, "referral_date"),
        ({"referral_date": "yesterday"}, "referral_date"),
        ({"date_of_birth": "2999-01-01"}, "date_of_birth"),
        ({"city": "999999"}, "city"),
        ({"languages": ["xx"]}, "languages"),
        ({"email": "not-an-address"}, "email"),
    ],
)
def test_bad_input_shows_the_field_error_and_saves_nothing(client, caseworker, good, change, field):
    client.force_login(caseworker)
    response = client.post(reverse("case-open"), {**good, **change})
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert 'aria-invalid="true"' in response.content.decode()
    assert not Participant.objects.exists()
    assert not Case.objects.exists()


def test_edit_only_shows_fields_the_user_may_change(client, demo, case):
    client.force_login(demo["manager"])
    form = client.get(reverse("case-edit", args=[case.pk])).context["form"]
    assert set(form.fields) == {"referral_source", "referral_date", "referring_organisation", "referral_reason"}
    client.force_login(demo["caseworker"])
    form = client.get(reverse("case-edit", args=[case.pk])).context["form"]
    assert {"national_id", "date_of_birth", "phone", "referral_reason"} <= set(form.fields)


def test_manager_cannot_slip_an_identity_change_into_the_form(client, demo, case):
    client.force_login(demo["manager"])
    data = {"referral_source": "family", "referral_date": "2026-10-01", "referral_reason": "ok", "national_id": "HACK"}
    assert client.post(reverse("case-edit", args=[case.pk]), data).status_code == 302
    case.participant.refresh_from_db()
    assert case.participant.national_id != "HACK"


def test_edit_with_a_future_birth_date_is_refused(client, demo, case):
    client.force_login(demo["caseworker"])
    form = client.get(reverse("case-edit", args=[case.pk])).context["form"]
    data = {name: form.initial.get(name) or "" for name in form.fields}
    data.update({"city": case.participant.city_id, "languages": ["ar"], "date_of_birth": "2999-01-01"})
    data["referral_date"] = "2026-10-01"
    response = client.post(reverse("case-edit", args=[case.pk]), data)
    assert response.status_code == 200
    assert "date_of_birth" in response.context["form"].errors
    case.participant.refresh_from_db()
    assert case.participant.date_of_birth.year == 1990
