"""Import pages and endpoints: who may (role tests) and the page flow (upload, dry run, confirm)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook
from rest_framework.test import APIClient

from casemgmt.models import Participant
from imports import services
from imports.models import ImportRun, ImportStatus
from programs.models import PartnerProfile

from .conftest import PARTICIPANT_HEADER, PARTNER_HEADER, csv_bytes, participant_row

pytestmark = pytest.mark.django_db

# placement officers import partners and opportunities; managers participants; nobody else anything
MAY = {"placement": {"partners", "opportunities"}, "manager": {"participants"}}
OTHERS = [
    "caseworker",
    "colleague",
    "counsellor",
    "auditor",
    "admin",
    "caseworker2",
    "mentor",
    "supervisor",
    "authority",
]


def _partners_csv(name: str = "Kappa Textiles") -> bytes:
    return csv_bytes([PARTNER_HEADER, [name, "employer", "crafts", "FES", "", "", "none"]])


@pytest.fixture
def placement_run(placement):
    return services.import_check(by=placement, kind="partners", name="p.csv", data=_partners_csv())


@pytest.fixture
def manager_run(manager):
    return services.import_check(
        by=manager, kind="participants", name="c.csv", data=csv_bytes([PARTICIPANT_HEADER, participant_row(1)])
    )


@pytest.mark.parametrize("who", ["placement", "manager", *OTHERS, "other_manager", "other_placement"])
def test_upload_page_and_templates_by_role(client, request, who):
    user = request.getfixturevalue(who)
    client.force_login(user)
    allowed = MAY.get(who, set())
    if who == "other_manager":
        allowed = {"participants"}
    elif who == "other_placement":
        allowed = {"partners", "opportunities"}
    response = client.get(reverse("imports:upload"))
    assert response.status_code == (200 if allowed else 404)
    for kind in ("partners", "opportunities", "participants"):
        for fmt in ("csv", "xlsx"):
            response = client.get(reverse("imports:template", args=[kind, fmt]))
            assert response.status_code == (200 if kind in allowed else 404), (kind, fmt)


@pytest.mark.parametrize("who", [*OTHERS, "other_manager", "other_placement", "manager"])
def test_a_placement_officers_run_is_theirs_alone(client, request, placement_run, who):
    """Pages and API: another organisation's officer, the manager, an authority, an auditor: 404."""
    user = request.getfixturevalue(who)
    client.force_login(user)
    assert client.get(reverse("imports:run", args=[placement_run.pk])).status_code == 404
    assert client.post(reverse("imports:confirm", args=[placement_run.pk])).status_code == 404
    api = APIClient()
    api.force_authenticate(user)
    assert api.get(reverse("api-import-detail", args=[placement_run.pk])).status_code == 404
    assert api.post(reverse("api-import-confirm", args=[placement_run.pk])).status_code == 404
    listing = api.get(reverse("api-import-list"))
    assert listing.status_code in (200, 404)
    if listing.status_code == 200:
        assert listing.json()["results"] == []
    placement_run.refresh_from_db()
    assert placement_run.status == ImportStatus.CHECKED
    assert not PartnerProfile.objects.filter(organisation__name="Kappa Textiles").exists()


@pytest.mark.parametrize("who", [*OTHERS, "other_manager", "placement"])
def test_a_managers_participant_run_is_theirs_alone(client, request, manager_run, who):
    user = request.getfixturevalue(who)
    client.force_login(user)
    assert client.get(reverse("imports:run", args=[manager_run.pk])).status_code == 404
    assert client.post(reverse("imports:confirm", args=[manager_run.pk])).status_code == 404
    api = APIClient()
    api.force_authenticate(user)
    assert api.get(reverse("api-import-detail", args=[manager_run.pk])).status_code == 404
    assert not Participant.objects.filter(given_name_latin="Imran1").exists()


@pytest.mark.parametrize("who", OTHERS)
def test_roles_without_import_cannot_post(client, request, who):
    user = request.getfixturevalue(who)
    client.force_login(user)
    body = {
        "kind": "participants",
        "file": SimpleUploadedFile("c.csv", csv_bytes([PARTICIPANT_HEADER, participant_row(1)])),
    }
    assert client.post(reverse("imports:upload"), body).status_code == 404
    api = APIClient()
    api.force_authenticate(user)
    body["file"] = SimpleUploadedFile("c.csv", csv_bytes([PARTICIPANT_HEADER, participant_row(1)]))
    assert api.post(reverse("api-import-list"), body, format="multipart").status_code == 404
    assert api.get(reverse("api-import-list")).status_code == 404
    assert ImportRun.objects.count() == 0


def test_anonymous(client, placement_run):
    for url in (
        reverse("imports:upload"),
        reverse("imports:run", args=[placement_run.pk]),
        reverse("imports:template", args=["partners", "csv"]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    response = client.post(reverse("imports:confirm", args=[placement_run.pk]))
    assert response.status_code == 302
    api = APIClient()
    assert api.get(reverse("api-import-list")).status_code == 401
    assert api.get(reverse("api-import-detail", args=[placement_run.pk])).status_code == 401
    assert api.post(reverse("api-import-confirm", args=[placement_run.pk])).status_code == 401
    placement_run.refresh_from_db()
    assert placement_run.status == ImportStatus.CHECKED


def test_page_flow_upload_dry_run_confirm(client, placement):
    client.force_login(placement)
    response = client.post(
        reverse("imports:upload"),
        {"kind": "partners", "file": SimpleUploadedFile("partners.csv", _partners_csv("Lambda Print"))},
    )
    assert response.status_code == 302
    run = ImportRun.objects.get(created_by=placement)
    page = client.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-count="to-create">1<' in html
    assert reverse("imports:confirm", args=[run.pk]) in html
    assert "<script>" not in html
    assert "style=" not in html
    assert not PartnerProfile.objects.filter(organisation__name="Lambda Print").exists()
    response = client.post(reverse("imports:confirm", args=[run.pk]))
    assert response.status_code == 302
    assert PartnerProfile.objects.filter(organisation__name="Lambda Print").exists()
    html = client.get(response["Location"]).content.decode()
    assert 'data-count="created">1<' in html
    # confirming twice imports nothing more
    client.post(reverse("imports:confirm", args=[run.pk]))
    assert PartnerProfile.objects.filter(organisation__name="Lambda Print").count() == 1


def test_page_shows_row_errors_and_no_confirm(client, manager):
    client.force_login(manager)
    data = csv_bytes([PARTICIPANT_HEADER, participant_row(1, city="Atlantis"), participant_row(2)])
    response = client.post(
        reverse("imports:upload"), {"kind": "participants", "file": SimpleUploadedFile("c.csv", data)}, follow=True
    )
    html = response.content.decode()
    assert "Atlantis" in html
    assert 'id="import-errors"' in html
    run = ImportRun.objects.get(created_by=manager)
    assert reverse("imports:confirm", args=[run.pk]) not in html
    assert client.post(reverse("imports:confirm", args=[run.pk])).status_code == 302
    assert not Participant.objects.filter(given_name_latin="Imran2").exists()


@pytest.mark.parametrize(
    ("name", "data"),
    [("c.txt", b"hello"), ("c.csv", "a\n\xe9".encode("latin-1")), ("c.csv", b"shoe_size\n42\n")],
)
def test_page_bad_file_is_a_400_with_the_field_error(client, manager, name, data):
    client.force_login(manager)
    response = client.post(reverse("imports:upload"), {"kind": "participants", "file": SimpleUploadedFile(name, data)})
    assert response.status_code == 400
    assert response.context["form"].errors["file"]
    assert ImportRun.objects.count() == 0


def test_page_kind_outside_the_role_is_a_form_error(client, manager):
    client.force_login(manager)
    response = client.post(
        reverse("imports:upload"), {"kind": "partners", "file": SimpleUploadedFile("p.csv", _partners_csv())}
    )
    assert response.status_code == 400
    assert response.context["form"].errors["kind"]


def test_templates_have_the_headers_the_import_accepts(client, placement, manager):
    from imports.kinds import KINDS

    client.force_login(placement)
    response = client.get(reverse("imports:template", args=["opportunities", "csv"]))
    header = response.content.decode("utf-8-sig").strip().split(",")
    assert header == KINDS["opportunities"].columns
    client.force_login(manager)
    response = client.get(reverse("imports:template", args=["participants", "xlsx"]))
    import io

    workbook = load_workbook(io.BytesIO(response.content), read_only=True)
    first = next(workbook.worksheets[0].iter_rows(values_only=True))
    assert list(first) == KINDS["participants"].columns
    # the template itself (headers only) is a file with no rows: refused with a clear message
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="no rows"):
        services.import_check(by=manager, kind="participants", name="t.xlsx", data=response.content)


def test_run_page_queries_do_not_grow_with_errors(client, manager, django_assert_max_num_queries):
    rows = [PARTICIPANT_HEADER, *[participant_row(i, city="Atlantis") for i in range(60)]]
    run = services.import_check(by=manager, kind="participants", name="c.csv", data=csv_bytes(rows))
    assert run.error_count == 60
    client.force_login(manager)
    # session, user+membership, the run, navigation sources
    with django_assert_max_num_queries(8):
        assert client.get(reverse("imports:run", args=[run.pk])).status_code == 200
