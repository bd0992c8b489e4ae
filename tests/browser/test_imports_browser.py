"""A manager uploads a CSV of participants, reads the dry run, corrects the file and imports it."""

from playwright.sync_api import expect

from casemgmt.models import Case, Participant
from tests.browser.conftest import log_in
from tests.imports.conftest import PARTICIPANT_HEADER, csv_bytes, participant_row


def test_manager_uploads_a_csv_sees_the_dry_run_and_imports(page, demo, tmp_path):
    bad = tmp_path / "intake.csv"
    bad.write_bytes(csv_bytes([PARTICIPANT_HEADER, participant_row(1), participant_row(2, city="Atlantis")]))
    good = tmp_path / "intake-fixed.csv"
    good.write_bytes(csv_bytes([PARTICIPANT_HEADER, participant_row(1), participant_row(2)]))
    log_in(page, "manager")

    page.get_by_role("link", name="Import", exact=True).click()
    expect(page.get_by_role("heading", name="Import from a spreadsheet")).to_be_visible()
    page.get_by_label("What the file holds").select_option("participants")
    page.get_by_label("File (CSV UTF-8 or XLSX)").set_input_files(str(bad))
    page.get_by_role("button", name="Check the file (dry run)").click()

    # the dry run: the bad row, by row and column; no import offered; nothing written
    errors = page.locator("#import-errors")
    expect(errors).to_contain_text("Atlantis")
    expect(errors.locator("tbody tr")).to_have_count(1)
    expect(errors.locator("tbody tr td").first).to_have_text("3")
    expect(page.get_by_role("button", name="Import 1 row")).to_have_count(0)
    assert not Participant.objects.filter(given_name_latin__in=["Imran1", "Imran2"]).exists()

    page.get_by_role("link", name="Import from a spreadsheet").click()  # the arrow is aria-hidden
    page.get_by_label("What the file holds").select_option("participants")
    page.get_by_label("File (CSV UTF-8 or XLSX)").set_input_files(str(good))
    page.get_by_role("button", name="Check the file (dry run)").click()
    expect(page.locator("[data-count='to-create']")).to_have_text("2")
    assert not Participant.objects.filter(given_name_latin__in=["Imran1", "Imran2"]).exists()

    page.get_by_role("button", name="Import 2 rows").click()
    expect(page.get_by_role("status").filter(has_text="Imported: 2 created, 0 skipped.")).to_be_visible()
    expect(page.locator("[data-count='created']")).to_have_text("2")
    cases = Case.objects.filter(participant__given_name_latin__in=["Imran1", "Imran2"])
    assert cases.count() == 2
    assert all(case.stage == "referral" and not case.team.exists() for case in cases)
