"""Bulk import (issue 14): dry run, atomic and idempotent import, CSV and XLSX, bad files."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from rest_framework.test import APIClient

from accounts.models import Organisation
from casemgmt.crypto import national_id_hash
from casemgmt.models import Case, Participant, StageChange
from imports import services
from imports.models import ImportedRow, ImportRun, ImportStatus
from programs.models import Opportunity, PartnerProfile

from .conftest import (
    OPPORTUNITY_HEADER,
    PARTICIPANT_HEADER,
    PARTNER_HEADER,
    csv_bytes,
    participant_row,
    xlsx_bytes,
)

pytestmark = pytest.mark.django_db


def _counts() -> dict[str, int]:
    return {
        "organisations": Organisation.objects.count(),
        "partners": PartnerProfile.objects.count(),
        "opportunities": Opportunity.objects.count(),
        "participants": Participant.objects.count(),
        "cases": Case.objects.count(),
        "stage_changes": StageChange.objects.count(),
        "imported_rows": ImportedRow.objects.count(),
    }


def _partners_file(names: list[str]) -> list[list[str]]:
    rows = [PARTNER_HEADER]
    for i, name in enumerate(names):
        rows.append([name, "employer", "logistics", "TNG" if i % 2 else "Tetouan", "Contact", "", "signed"])
    return rows


# --- dry run ---------------------------------------------------------------------------------------------


def test_dry_run_lists_every_bad_row_and_writes_nothing(manager):
    rows = [
        PARTICIPANT_HEADER,
        participant_row(1),
        participant_row(2, city="Atlantis"),  # unknown city
        participant_row(3),
        participant_row(4, date_of_birth="2090-01-01", referral_source="rumour"),  # two bad cells
        participant_row(5, given_name_latin=""),  # required
        participant_row(6, referral_date="not a date"),
        participant_row(7),
    ]
    before = _counts()
    run = services.import_check(by=manager, kind="participants", name="cases.csv", data=csv_bytes(rows))
    assert _counts() == before  # nothing written: no participant, case, stage change, sequence use shows
    assert run.status == ImportStatus.INVALID
    assert run.total_rows == 7
    assert run.to_create == 3
    found = {(e["row"], e["column"]) for e in run.errors}
    assert found == {
        (3, "city"),
        (5, "date_of_birth"),
        (5, "referral_source"),
        (6, "given_name_latin"),
        (7, "referral_date"),
    }
    city_error = next(e for e in run.errors if e["column"] == "city")
    assert "Atlantis" in city_error["message"]


def test_dry_run_messages_are_in_the_users_language(manager):
    rows = [PARTICIPANT_HEADER, participant_row(1, given_name_latin="")]
    with translation.override("fr"):
        run = services.import_check(by=manager, kind="participants", name="cases.csv", data=csv_bytes(rows))
    assert run.errors == [{"row": 2, "column": "given_name_latin", "message": "Ce champ est obligatoire."}]


def test_dry_run_runs_the_services_checks_too(placement):
    """A name taken by a non-partner organisation is refused by `partner_create` itself."""
    rows = _partners_file(["Regional Probation Office", "New Employer"])
    run = services.import_check(by=placement, kind="partners", name="p.csv", data=csv_bytes(rows))
    assert run.errors == [{"row": 2, "column": "name", "message": "An organisation with this name exists already."}]
    assert run.to_create == 1
    assert not Organisation.objects.filter(name="New Employer").exists()


# --- import: atomic, idempotent ------------------------------------------------------------------------------


def test_import_creates_cases_in_the_intake_queue(manager):
    rows = [PARTICIPANT_HEADER, participant_row(1), participant_row(2, national_id="")]
    run = services.import_check(by=manager, kind="participants", name="cases.csv", data=csv_bytes(rows))
    assert run.status == ImportStatus.CHECKED
    run = services.import_apply(by=manager, run=run)
    assert (run.status, run.created, run.skipped, run.error_count) == (ImportStatus.IMPORTED, 2, 0, 0)
    assert run.content == b""  # the file is not kept once imported
    cases = Case.objects.filter(
        organisation=manager.membership.organisation, participant__given_name_latin__in=["Imran1", "Imran2"]
    )
    assert cases.count() == 2
    for case in cases:
        assert case.stage == "referral"
        assert not case.team.exists()  # intake: no lead yet, the manager assigns one
        assert case.participant.case_code.startswith("TNG-")
    assert Participant.objects.get(given_name_latin="Imran1").languages == ["ar", "fr"]


def test_import_is_atomic_one_bad_row_at_import_time_writes_nothing(placement, demo):
    """The dry run passed; before the import, another officer took a name the file uses: the import
    fails on that row and writes none of the others."""
    rows = _partners_file(["Alpha Foods", "Beta Works", "Gamma Build"])
    run = services.import_check(by=placement, kind="partners", name="p.xlsx", data=xlsx_bytes(rows))
    assert (run.status, run.to_create) == (ImportStatus.CHECKED, 3)
    from accounts.models import City

    Organisation.objects.create(name="Gamma Build", kind="ngo", city=City.objects.get(code="TNG"))
    before = _counts()
    run = services.import_apply(by=placement, run=run)
    assert run.status == ImportStatus.FAILED
    assert run.errors == [{"row": 4, "column": "name", "message": "An organisation with this name exists already."}]
    assert _counts() == before
    assert not Organisation.objects.filter(name__in=["Alpha Foods", "Beta Works"]).exists()
    # a failed run cannot be confirmed again
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="Only a checked file"):
        services.import_apply(by=placement, run=run)


def test_same_file_twice_creates_no_duplicates(manager):
    rows = [PARTICIPANT_HEADER, participant_row(1), participant_row(2), participant_row(3, national_id="")]
    data = csv_bytes(rows)
    first = services.import_apply(
        by=manager, run=services.import_check(by=manager, kind="participants", name="a.csv", data=data)
    )
    assert (first.created, first.skipped) == (3, 0)
    after_first = _counts()
    again = services.import_check(by=manager, kind="participants", name="a.csv", data=data)
    assert (again.to_create, again.skipped) == (0, 3)
    assert {r["reason"] for r in again.skipped_rows} == {"Already imported."}
    second = services.import_apply(by=manager, run=again)
    assert (second.status, second.created, second.skipped) == (ImportStatus.IMPORTED, 0, 3)
    assert _counts() == after_first


def test_changed_row_with_the_same_national_id_is_skipped_not_duplicated(manager):
    services.import_file(
        by=manager, kind="participants", name="a.csv", data=csv_bytes([PARTICIPANT_HEADER, participant_row(1)])
    )
    # the same person, a corrected phone-less spelling: another fingerprint, the same national ID (typed with a space)
    rows = [PARTICIPANT_HEADER, participant_row(1, given_name_latin="Imrane", national_id="kb 100001")]
    run = services.import_file(by=manager, kind="participants", name="b.csv", data=csv_bytes(rows))
    assert (run.created, run.skipped) == (0, 1)
    assert "national ID" in run.skipped_rows[0]["reason"]
    assert Participant.objects.filter(national_id_hash=national_id_hash("KB100001")).count() == 1


def test_another_ngo_may_import_a_person_known_elsewhere_without_learning_it(manager, other_manager):
    services.import_file(
        by=manager, kind="participants", name="a.csv", data=csv_bytes([PARTICIPANT_HEADER, participant_row(1)])
    )
    run = services.import_check(
        by=other_manager, kind="participants", name="a.csv", data=csv_bytes([PARTICIPANT_HEADER, participant_row(1)])
    )
    # neither "already imported" (fingerprints are per organisation) nor "exists": nothing leaks
    assert (run.to_create, run.skipped, run.error_count) == (1, 0, 0)


def test_duplicates_within_one_file(placement):
    rows = _partners_file(["Delta Port", "delta port", "Epsilon"])
    rows.append(rows[3])  # identical to row 4
    run = services.import_check(by=placement, kind="partners", name="p.csv", data=csv_bytes(rows))
    assert run.to_create == 2
    assert run.skipped_rows == [
        {"row": 3, "reason": "Same record as row 2."},
        {"row": 5, "reason": "Same as row 4."},
    ]


def test_existing_partner_and_opportunity_are_skipped(placement):
    services.import_file(by=placement, kind="partners", name="p.csv", data=csv_bytes(_partners_file(["Zeta Hotels"])))
    # Strait Logistics is a demo employer without a profile: the service refuses it as a name taken
    rows = [
        OPPORTUNITY_HEADER,
        ["Zeta Hotels", "Kitchen helper", "job", "hospitality", "TNG", "3", "2027-01-10", "yes"],
        ["zeta hotels", "Kitchen Helper", "Job", "Hospitality and catering", "Tangier", "2", "2027-01-10", ""],
        ["Zeta Hotels", "Receptionist", "job", "hospitality", "TNG", "1", "", "no"],
        ["Nowhere Ltd", "Porter", "job", "logistics", "TNG", "1", "", ""],
    ]
    run = services.import_file(by=placement, kind="opportunities", name="o.csv", data=csv_bytes(rows))
    assert run.status == ImportStatus.INVALID  # the unknown partner
    assert run.errors == [{"row": 5, "column": "partner", "message": "\u201cNowhere Ltd\u201d is not known here."}]
    assert Opportunity.objects.filter(partner__name="Zeta Hotels").count() == 0
    run = services.import_file(by=placement, kind="opportunities", name="o.csv", data=csv_bytes(rows[:4]))
    assert (run.status, run.created, run.skipped) == (ImportStatus.IMPORTED, 2, 1)
    assert run.skipped_rows[0]["row"] == 3
    receptionist = Opportunity.objects.get(title="Receptionist")
    assert receptionist.is_open is False
    assert Opportunity.objects.get(title="Kitchen helper").is_open is True
    again = services.import_file(by=placement, kind="opportunities", name="o2.csv", data=csv_bytes(rows[:4]))
    assert (again.created, again.skipped) == (0, 3)


def test_csv_and_xlsx_give_the_same_result(placement):
    rows = _partners_file(["Eta Bakery", "Theta Garage"])
    csv_run = services.import_check(by=placement, kind="partners", name="p.csv", data=csv_bytes(rows, delimiter=";"))
    xlsx_run = services.import_check(by=placement, kind="partners", name="p.xlsx", data=xlsx_bytes(rows))
    assert (csv_run.file_format, xlsx_run.file_format) == ("csv", "xlsx")
    assert csv_run.to_create == xlsx_run.to_create == 2
    services.import_apply(by=placement, run=xlsx_run)
    assert PartnerProfile.objects.filter(organisation__name__in=["Eta Bakery", "Theta Garage"]).count() == 2
    # the CSV with the same rows (another format) is recognised as already imported
    csv_again = services.import_check(by=placement, kind="partners", name="p.csv", data=csv_bytes(rows))
    assert csv_again.skipped == 2


def test_xlsx_dates_and_numbers_are_read_as_the_form_expects(placement):
    import datetime

    services.import_file(by=placement, kind="partners", name="p.csv", data=csv_bytes(_partners_file(["Iota Farms"])))
    rows = [
        OPPORTUNITY_HEADER,
        ["Iota Farms", "Picker", "job", "agriculture", "FES", 4, datetime.date(2027, 2, 1), True],
    ]
    run = services.import_file(by=placement, kind="opportunities", name="o.xlsx", data=xlsx_bytes(rows))
    assert run.status == ImportStatus.IMPORTED, run.errors
    opportunity = Opportunity.objects.get(title="Picker")
    assert (opportunity.places, opportunity.start_date) == (4, datetime.date(2027, 2, 1))


# --- bad files -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "fragment"),
    [
        ("cases.pdf", b"%PDF-1.4", "CSV (UTF-8) or an XLSX"),
        ("cases.xlsx", b"not a zip at all", "XLSX file cannot be read"),
        ("cases.xlsx", b"PK\x03\x04broken zip", "XLSX file cannot be read"),
        ("cases.csv", "given_name_latin;city\nÉlise;TNG\n".encode("latin-1"), "not UTF-8"),
        ("cases.csv", b"\x00\x01\x02binary", "not a CSV"),
        ("cases.csv", b"", "empty"),
        ("cases.csv", csv_bytes([PARTICIPANT_HEADER]), "no rows"),
        ("cases.csv", csv_bytes([["given_name_latin", "shoe_size"], ["A", "42"]]), "Missing columns"),
        ("cases.csv", csv_bytes([[*PARTICIPANT_HEADER, "shoe_size"], [*participant_row(1), "42"]]), "shoe_size"),
    ],
)
def test_bad_files_are_refused_with_a_message_on_file(manager, name, data, fragment):
    from django.core.exceptions import ValidationError

    before = ImportRun.objects.count()
    with pytest.raises(ValidationError) as error:
        services.import_check(by=manager, kind="participants", name=name, data=data)
    assert fragment in error.value.message_dict["file"][0]
    assert ImportRun.objects.count() == before


def test_too_many_rows_and_too_many_bytes(manager, settings):
    from django.core.exceptions import ValidationError

    settings.IMPORT_MAX_ROWS = 3
    rows = [PARTICIPANT_HEADER, *[participant_row(i) for i in range(4)]]
    with pytest.raises(ValidationError, match="more than 3 rows"):
        services.import_check(by=manager, kind="participants", name="a.csv", data=csv_bytes(rows))
    with pytest.raises(ValidationError, match="more than 3 rows"):
        services.import_check(by=manager, kind="participants", name="a.xlsx", data=xlsx_bytes(rows))
    settings.IMPORT_MAX_ROWS = 5000
    settings.IMPORT_MAX_BYTES = 100
    with pytest.raises(ValidationError, match="larger than"):
        services.import_check(by=manager, kind="participants", name="a.csv", data=csv_bytes(rows))


# --- API ---------------------------------------------------------------------------------------------------------


def _api(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def _upload(client, *, kind="participants", name="a.csv", data: bytes, dry_run=None):
    body = {"kind": kind, "file": SimpleUploadedFile(name, data)}
    if dry_run is not None:
        body["dry_run"] = "true" if dry_run else "false"
    return client.post(reverse("api-import-list"), body, format="multipart")


def test_api_dry_run_then_confirm_then_status(manager):
    client = _api(manager)
    data = csv_bytes([PARTICIPANT_HEADER, participant_row(1), participant_row(2)])
    response = _upload(client, data=data)
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["to_create"], body["created"]) == ("checked", 2, 0)
    assert Participant.objects.filter(given_name_latin__startswith="Imran").count() == 0
    response = client.post(reverse("api-import-confirm", args=[body["id"]]))
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["created"]) == ("imported", 2)
    status = client.get(body["url"]).json()
    assert (status["status"], status["created"], status["skipped"]) == ("imported", 2, 0)
    listing = client.get(reverse("api-import-list")).json()
    assert [r["id"] for r in listing["results"]] == [body["id"]]
    # a second confirmation imports nothing more
    again = client.post(reverse("api-import-confirm", args=[body["id"]]))
    assert again.status_code == 400
    assert again.json()["errors"]["status"]
    assert Participant.objects.filter(given_name_latin__startswith="Imran").count() == 2


def test_api_import_without_dry_run_refuses_bad_rows_with_a_problem(manager):
    data = csv_bytes([PARTICIPANT_HEADER, participant_row(1), participant_row(2, city="Atlantis")])
    response = _upload(_api(manager), data=data, dry_run=False)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["errors"]["rows"] == ["Row 3, city: \u201cAtlantis\u201d is not known here."]
    assert body["import"]["errors"] == [
        {"row": 3, "column": "city", "message": "\u201cAtlantis\u201d is not known here."}
    ]
    assert not Participant.objects.filter(given_name_latin="Imran1").exists()


def test_api_import_without_dry_run_twice(manager):
    data = xlsx_bytes([PARTICIPANT_HEADER, participant_row(1)])
    first = _upload(_api(manager), name="a.xlsx", data=data, dry_run=False)
    second = _upload(_api(manager), name="a.xlsx", data=data, dry_run=False)
    assert (first.status_code, second.status_code) == (201, 201)
    assert (first.json()["created"], second.json()["created"], second.json()["skipped"]) == (1, 0, 1)
    assert Participant.objects.filter(given_name_latin="Imran1").count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "participants", "file": ("a.txt", b"hello")}, "file"),
        ({"kind": "participants", "file": ("a.csv", "x\n\xe9".encode("latin-1"))}, "file"),
        ({"kind": "participants", "file": ("a.csv", b"name,kind\nA,employer\n")}, "file"),
        ({"kind": "partners", "file": ("a.csv", b"name\nA\n")}, "kind"),  # a manager does not import partners
        ({"kind": "cats", "file": ("a.csv", b"name\nA\n")}, "kind"),
        ({"kind": "participants"}, "file"),
    ],
)
def test_api_bad_files_are_400_problems_with_field_messages(manager, body, field):
    payload = dict(body)
    if "file" in payload:
        payload["file"] = SimpleUploadedFile(*payload["file"])
    response = _api(manager).post(reverse("api-import-list"), payload, format="multipart")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"][field]


def test_api_too_big_is_a_400(manager, settings):
    settings.IMPORT_MAX_BYTES = 1024
    data = csv_bytes([PARTICIPANT_HEADER, *[participant_row(i) for i in range(40)]])
    response = _upload(_api(manager), data=data)
    assert response.status_code == 400
    assert "larger than" in response.json()["errors"]["file"][0]


def test_a_file_checked_and_never_imported_is_forgotten_after_a_day(manager):
    import datetime

    from django.utils import timezone

    rows = [PARTICIPANT_HEADER, participant_row(1)]
    old = services.import_check(by=manager, kind="participants", name="a.csv", data=csv_bytes(rows))
    fresh = services.import_check(by=manager, kind="participants", name="b.csv", data=csv_bytes(rows))
    done = services.import_file(
        by=manager, kind="participants", name="c.csv", data=csv_bytes([PARTICIPANT_HEADER, participant_row(2)])
    )
    ImportRun.objects.filter(pk__in=[old.pk, done.pk]).update(created_at=timezone.now() - datetime.timedelta(hours=25))
    assert services.import_purge_stale(now=timezone.now()) == 1
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert (bytes(old.content), old.status) == (b"", ImportStatus.EXPIRED)
    assert bytes(fresh.content) != b""
    assert old.to_create == 1  # the report stays
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.import_apply(by=manager, run=old)
    assert not Participant.objects.filter(given_name_latin="Imran1").exists()
