from __future__ import annotations

import csv
import io

import pytest
from openpyxl import Workbook

from accounts.models import Membership, Organisation, Role, User


def csv_bytes(rows: list[list[str]], *, delimiter: str = ",", bom: bool = True) -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter).writerows(rows)
    return (("\ufeff" if bom else "") + out.getvalue()).encode("utf-8")


def xlsx_bytes(rows: list[list]) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _user(username: str, organisation: str, role: str) -> User:
    user = User.objects.create_user(username, f"{username}@demo.invalid", "a-long-password-2026")
    Membership.objects.create(user=user, organisation=Organisation.objects.get(name=organisation), role=role)
    return User.objects.select_related("membership__organisation").get(pk=user.pk)


@pytest.fixture
def other_manager(demo) -> User:
    """A manager of another NGO (Atlantic): may import participants, never sees Northern's runs."""
    return _user("atlantic-manager", "Atlantic Family Support Association", Role.MANAGER)


@pytest.fixture
def other_placement(demo) -> User:
    return _user("atlantic-placement", "Atlantic Family Support Association", Role.PLACEMENT_OFFICER)


PARTNER_HEADER = ["name", "kind", "sector", "city", "contact_name", "contact_email", "agreement_status"]
OPPORTUNITY_HEADER = ["partner", "title", "kind", "sector", "city", "places", "start_date", "is_open"]
PARTICIPANT_HEADER = [
    "given_name_latin",
    "family_name_latin",
    "given_name_arabic",
    "family_name_arabic",
    "city",
    "languages",
    "date_of_birth",
    "national_id",
    "referral_source",
    "referral_date",
]


def participant_row(n: int, **over) -> list[str]:
    row = {
        "given_name_latin": f"Imran{n}",
        "family_name_latin": f"Zaytouni{n}",
        "given_name_arabic": "عمران",
        "family_name_arabic": "زيتوني",
        "city": "TNG",
        "languages": "ar;fr",
        "date_of_birth": "1994-03-02",
        "national_id": f"KB{100000 + n}",
        "referral_source": "prison_release",
        "referral_date": "2026-10-01",
    }
    row.update(over)
    return [row[h] for h in PARTICIPANT_HEADER]
