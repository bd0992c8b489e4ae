"""Data-subject rights (issue 10, item 7): the export of everything held about a participant, approved
by a manager; the retention review and the pseudonymisation of confirmed cases, history included."""

from __future__ import annotations

import datetime
import json

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from casemgmt import retention, services, subject_export, tasks
from casemgmt.boundary_models import DisclosureLog
from casemgmt.casefile import Attachment, Note
from casemgmt.casefile_services import attachment_add, record_create
from casemgmt.crypto import encrypted_columns
from casemgmt.dpo_models import RetentionReview, SubjectExportRequest
from casemgmt.followup_models import FollowUp
from casemgmt.models import AccessLog, Case, Participant, Stage, TeamRole
from tests.factories import CaseFactory, case_move_stage

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


def _as(client, demo, who):
    if who != "anonymous":
        client.force_login(demo[who])
    return client


def _expect(response, who, allowed: set[str], ok: int = 200):
    if who == "anonymous":
        assert response.status_code == 302
        assert reverse("login") in response["Location"]
    else:
        assert response.status_code == (ok if who in allowed else 404), who


# --- Data-subject export --------------------------------------------------------------------------


@pytest.fixture
def approved(demo, team_case):
    export = subject_export.subject_export_request(case=team_case, by=demo["caseworker"])
    return subject_export.subject_export_decide(export=export, by=demo["manager"], approve=True)


@pytest.mark.parametrize("who", ROLES)
def test_only_the_lead_opens_and_requests_the_export(client, demo, team_case, who):
    url = reverse("subject-export-case", args=[team_case.pk])
    _expect(_as(client, demo, who).get(url), who, {"caseworker"})
    _expect(client.post(url), who, {"caseworker"}, ok=302)
    assert SubjectExportRequest.objects.filter(case=team_case).count() == (1 if who == "caseworker" else 0)


@pytest.mark.parametrize("who", ROLES)
def test_only_a_manager_of_the_organisation_approves(client, demo, team_case, who):
    export = subject_export.subject_export_request(case=team_case, by=demo["caseworker"])
    response = _as(client, demo, who).post(reverse("subject-export-decide", args=[export.pk]), {"decision": "approve"})
    _expect(response, who, {"manager"}, ok=302)
    export.refresh_from_db()
    if who == "manager":
        assert (export.status, export.decided_by, export.decided_at is not None) == (
            "approved",
            demo["manager"],
            True,
        )
    else:
        assert export.status == "pending"


@pytest.mark.parametrize("who", ROLES)
def test_only_the_lead_downloads_the_approved_export(client, demo, approved, who):
    for name in ("subject-export-download", "subject-export-print"):
        response = _as(client, demo, who).get(reverse(name, args=[approved.pk]))
        _expect(response, who, {"caseworker"})


@pytest.mark.parametrize("who", ROLES)
def test_the_list_of_exports(client, demo, approved, who):
    response = _as(client, demo, who).get(reverse("subject-export-list"))
    # managers decide, caseworkers follow their own requests; everybody else: nothing here
    _expect(response, who, {"manager", "caseworker", "colleague", "caseworker2"})
    if response.status_code == 200:
        rows = list(response.context["page"].object_list)
        assert [r.pk for r in rows] == ([approved.pk] if who in ("manager", "caseworker") else [])


def test_nothing_to_download_before_the_approval_or_after_a_refusal(client, demo, team_case):
    export = subject_export.subject_export_request(case=team_case, by=demo["caseworker"])
    client.force_login(demo["caseworker"])
    assert client.get(reverse("subject-export-download", args=[export.pk])).status_code == 404
    subject_export.subject_export_decide(export=export, by=demo["manager"], approve=False)
    assert client.get(reverse("subject-export-download", args=[export.pk])).status_code == 404
    # a second pending request is refused while one waits
    subject_export.subject_export_request(case=team_case, by=demo["caseworker"])
    client.post(reverse("subject-export-case", args=[team_case.pk]))
    assert SubjectExportRequest.objects.filter(case=team_case, status="pending").count() == 1


def test_the_lead_downloads_json_and_a_printable_page_and_each_read_is_logged(client, demo, team_case):
    lead = demo["caseworker"]
    restricted = record_create(
        key="note",
        case=team_case,
        by=lead,
        data={"kind": "visit", "date": TODAY(), "visibility": "restricted", "text": "RESTRICTED-NOTE-TEXT"},
    )
    client.force_login(lead)
    client.post(reverse("subject-export-case", args=[team_case.pk]))
    export = SubjectExportRequest.objects.get(case=team_case)
    client.force_login(demo["manager"])
    client.post(reverse("subject-export-decide", args=[export.pk]), {"decision": "approve"})
    client.force_login(lead)
    response = client.get(reverse("subject-export-download", args=[export.pk]))
    assert response["Content-Type"].startswith("application/json")
    data = json.loads(response.content)
    assert set(subject_export.SECTIONS) <= set(data)
    assert data["participant"]["family_name_latin"] == team_case.participant.family_name_latin
    assert [n["text"] for n in data["notes"]] == ["RESTRICTED-NOTE-TEXT"]  # restricted notes included
    assert restricted.pk == data["notes"][0]["id"]
    page = client.get(reverse("subject-export-print", args=[export.pk])).content.decode()
    assert "RESTRICTED-NOTE-TEXT" in page
    assert team_case.participant.case_code in page
    views = list(AccessLog.objects.filter(case=team_case, user=lead).values_list("view", flat=True))
    assert "subject-export" in views
    assert "subject-print" in views
    export.refresh_from_db()
    assert export.downloads == 2


@pytest.fixture
def seeded(db, settings):
    settings.DEBUG = True
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    return Case.objects.all()


def _case_with(app_label: str, model: str, path: str = "case_id") -> Case:
    row = apps.get_model(app_label, model).objects.values_list(path, flat=True).order_by(path).first()
    assert row is not None, f"the demo has no {model}"
    return Case.objects.select_related("participant", "organisation").get(pk=row)


def test_the_export_of_demo_cases_is_complete_and_lists_confidential_notes_by_date_and_author_only(seeded, demo):
    from families.models import CounsellingConfidentialNote
    from programs.models import MentoringConfidentialNote

    MentoringConfidentialNote.objects.update(text="CONFIDENTIAL-MARKER mentoring")
    CounsellingConfidentialNote.objects.update(text="CONFIDENTIAL-MARKER counselling")
    checks = {  # a section and a demo row kind that must be in it
        "assessments": ("casemgmt", "Assessment"),
        "goals": ("casemgmt", "Goal"),
        "notes": ("casemgmt", "Note"),
        "legal_events": ("casemgmt", "LegalEvent"),
        "safety_flags": ("casemgmt", "SafetyFlag"),
        "consents": ("casemgmt", "Consent"),
        "service_referrals": ("casemgmt", "ServiceReferral"),
        "attachments": ("casemgmt", "Attachment"),
        "outcomes": ("casemgmt", "Outcome"),
        "stage_changes": ("casemgmt", "StageChange"),
    }
    for section, (app_label, model) in checks.items():
        data = subject_export.build(_case_with(app_label, model))
        assert data[section], section
    mentored = _case_with("programs", "MentoringConfidentialNote", "session__case_id")
    data = subject_export.build(mentored)
    assert data["mentoring"]["sessions"]
    assert data["mentoring"]["assignments"]
    notes = data["mentoring"]["confidential_notes"]
    assert notes["notes"]
    assert all(set(n) == {"date", "author"} for n in notes["notes"])
    assert "professional secrecy" in notes["note"]
    counselled = _case_with("families", "CounsellingConfidentialNote", "session__case_id")
    data = subject_export.build(counselled)
    assert data["family"]["household"]
    assert data["family"]["members"]
    assert data["family"]["engagements"]
    assert data["family"]["sessions"]
    assert data["family"]["confidential_notes"]["notes"]
    placed = _case_with("programs", "Placement")
    data = subject_export.build(placed)
    assert data["placements"]["placements"]
    for case in (mentored, counselled, placed):
        text = json.dumps(subject_export.build(case), default=str)
        assert "CONFIDENTIAL-MARKER" not in text
        assert "DEMO confidential" not in text


def test_the_export_lists_the_disclosures_to_authorities(demo, team_case):
    from casemgmt import disclosure

    disclosure.record(
        organisation_id=demo["authority"].membership.organisation_id,
        case_id=team_case.pk,
        categories=["identity", "program_stage"],
        basis=["consent"],
        basis_ids=["consent:1"],
        channel="ui",
        view="shared-case",
        user_id=demo["authority"].pk,
    )
    data = subject_export.build(team_case)
    assert [(d["authority"], d["categories"], d["basis"]) for d in data["disclosures_to_authorities"]] == [
        ("Regional Probation Office", ["identity", "program_stage"], ["consent"])
    ]


def test_the_export_list_costs_the_same_for_few_or_many_requests(client, demo):
    def add(n):
        for _ in range(n):
            case = CaseFactory(organisation=demo["manager"].membership.organisation, by=demo["caseworker"])
            subject_export.subject_export_request(case=case, by=demo["caseworker"])

    client.force_login(demo["manager"])
    add(2)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("subject-export-list"))
    add(15)
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("subject-export-list"))
    assert len(few.captured_queries) == len(many.captured_queries)


# --- Retention ---------------------------------------------------------------------------------------


def _close(case, by, *, years_ago: float = 3):
    case_move_stage(case=case, by=by, to_stage=Stage.SCREENING, reason="walk")
    for stage in (Stage.ASSESSMENT, Stage.ACTIVE, Stage.EXITED, Stage.CLOSED):
        case_move_stage(case=case, by=by, to_stage=stage, reason="walk")
    Case.objects.filter(pk=case.pk).update(closed_on=TODAY() - datetime.timedelta(days=int(365 * years_ago)))
    case.refresh_from_db()
    return case


def test_the_daily_task_lists_closed_cases_past_the_organisations_retention_period(demo, team_case):
    from casemgmt.followup_models import OrganisationRuleSetting
    from casemgmt.followups import rule_row

    old = _close(team_case, demo["caseworker"], years_ago=3)
    recent = _close(CaseFactory(organisation=old.organisation, by=demo["caseworker"]), demo["caseworker"], years_ago=1)
    assert tasks.list_retention_due() == 1
    review = RetentionReview.objects.get()
    assert (review.case, review.status) == (old, "listed")
    assert review.due_on == old.closed_on.replace(year=old.closed_on.year + 2)
    reminder = FollowUp.objects.get(case=old, kind="retention_review", due_on=TODAY())
    assert reminder.assignee == demo["manager"]
    assert tasks.list_retention_due() == 0  # idempotent
    # the NGO shortens its period on its reminder settings: the recent case is due too
    OrganisationRuleSetting.objects.create(
        rule=rule_row("retention_review"), organisation=old.organisation, params={"months": 6}
    )
    assert tasks.list_retention_due() == 1
    assert RetentionReview.objects.filter(case=recent).exists()
    assert "list-retention-due" in __import__("django.conf").conf.settings.CELERY_BEAT_SCHEDULE


@pytest.mark.parametrize("who", ROLES)
def test_only_managers_review_retention(client, demo, team_case, who):
    _close(team_case, demo["caseworker"])
    retention.list_due()
    review = RetentionReview.objects.get()
    _expect(_as(client, demo, who).get(reverse("retention-list")), who, {"manager"})
    response = client.post(reverse("retention-confirm"), {"reviews": [review.pk], "step": "confirm", "confirm": "on"})
    _expect(response, who, {"manager"}, ok=302)
    review.refresh_from_db()
    assert review.status == ("confirmed" if who == "manager" else "listed")


def test_confirming_takes_a_confirmation_step_and_records_who_and_when(client, demo, team_case):
    _close(team_case, demo["caseworker"])
    retention.list_due()
    review = RetentionReview.objects.get()
    client.force_login(demo["manager"])
    listed = client.get(reverse("retention-list"))
    assert [r.pk for r in listed.context["page"].object_list] == [review.pk]
    assert team_case.participant.family_name_latin not in listed.content.decode()
    step = client.post(reverse("retention-confirm"), {"reviews": [review.pk]})
    assert step.status_code == 200
    assert team_case.participant.case_code in step.content.decode()
    review.refresh_from_db()
    assert review.status == "listed"  # nothing happens before the confirmation
    unticked = client.post(reverse("retention-confirm"), {"reviews": [review.pk], "step": "confirm"})
    assert unticked.status_code == 400
    assert "Tick the box to confirm." in unticked.content.decode()
    empty = client.post(reverse("retention-confirm"), {"step": "confirm", "confirm": "on"})
    assert empty.status_code == 400
    assert "Choose at least one case." in empty.content.decode()
    client.post(reverse("retention-confirm"), {"reviews": [review.pk], "step": "confirm", "confirm": "on"})
    review.refresh_from_db()
    assert (review.status, review.confirmed_by) == ("confirmed", demo["manager"])
    assert not FollowUp.objects.filter(case=team_case, kind="retention_review", status="pending").exists()


def _text_hits(needle: str) -> list[tuple[str, str]]:
    """Every (table, column) of the database whose text holds `needle`, history tables included."""
    hits = []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' "
            "AND data_type IN ('text', 'character varying', 'jsonb', 'json', 'ARRAY')"
        )
        for table, column in cursor.fetchall():
            cursor.execute(
                f'SELECT count(*) FROM "{table}" WHERE "{column}"::text ILIKE %s',
                [f"%{needle}%"],
            )
            if cursor.fetchone()[0]:
                hits.append((table, column))
        # encrypted columns (casemgmt/crypto.py) hold ciphertext: read and decrypt every value
        for model, field in encrypted_columns():
            cursor.execute(f'SELECT "{field.column}" FROM "{model._meta.db_table}"')
            if any(needle.lower() in field.decrypt_stored(value).lower() for (value,) in cursor.fetchall()):
                hits.append((model._meta.db_table, field.column))
    return hits


IDENTITY = {
    "given_name_latin": "Zorvanel",
    "family_name_latin": "Quistoraxe",
    "given_name_arabic": "زورفانيل",
    "family_name_arabic": "كويستوراكس",
    "national_id": "QZ998877",
    "phone": "+212 699 123 987",
    "email": "zorvanel.q@demo.invalid",
}
MARKER = "FREE-TEXT-MARKER-77"


def _confirm(case, manager):
    review = RetentionReview.objects.create(case=case, due_on=TODAY(), status="listed")
    retention.reviews_confirm(reviews=[review], by=manager)
    return review


def test_pseudonymisation_leaves_no_name_anywhere_and_leaves_the_logs_and_other_cases(
    as_owner, demo, team_case, settings, tmp_path
):
    from casemgmt import disclosure
    from casemgmt.disclosure_chain import anchor_head

    settings.AUDIT_HEAD_FILE = tmp_path / "heads.jsonl"
    lead = demo["caseworker"]
    probation = demo["authority"].membership.organisation
    for view in ("authority-home", "authority-case"):  # the authority read the case before it closed
        disclosure.record(
            organisation_id=probation.pk,
            case_id=team_case.pk,
            categories=["identity"],
            basis=["consent"],
            channel="ui",
            view=view,
            user_id=demo["authority"].pk,
        )
    anchor_head()
    services.case_profile_update(
        case=team_case, by=lead, changes={k: v for k, v in IDENTITY.items() if k != "given_name_latin"}
    )
    services.case_profile_update(case=team_case, by=lead, changes={"given_name_latin": IDENTITY["given_name_latin"]})
    services.case_profile_update(case=team_case, by=lead, changes={"referral_reason": f"{MARKER} reason"})
    for visibility in ("team", "restricted"):
        record_create(
            key="note",
            case=team_case,
            by=lead,
            data={"kind": "visit", "date": TODAY(), "visibility": visibility, "text": f"{MARKER} {visibility}"},
        )
    record_create(
        key="relapse_event", case=team_case, by=lead, data={"kind": "threat", "date": TODAY(), "description": MARKER}
    )
    attachment = attachment_add(
        case=team_case,
        by=lead,
        upload=SimpleUploadedFile(f"{IDENTITY['family_name_latin']}.pdf", b"%PDF-1.4\n%%EOF\n"),
        description=MARKER,
    )
    stored = attachment.file.path
    services.access_log_record(user=lead, case=team_case, channel="ui", view="case-detail", shown=frozenset())
    other = CaseFactory(organisation=team_case.organisation, by=lead, lead=lead)
    record_create(key="note", case=other, by=lead, data={"kind": "visit", "date": TODAY(), "text": "other note"})
    other_before = Participant.objects.filter(pk=other.participant_id).values().get()
    logs_before = list(AccessLog.objects.order_by("pk").values())
    disclosures_before = list(DisclosureLog.objects.order_by("pk").values())
    _close(team_case, lead)
    review = _confirm(team_case, demo["manager"])
    # the search finds what is there: history tables included, before the run
    assert ("casemgmt_participantevent", "family_name_latin") in _text_hits(IDENTITY["family_name_latin"])
    assert ("casemgmt_noteevent", "text") in _text_hits(MARKER)

    out = __import__("io").StringIO()
    call_command("apply_retention", stdout=out)
    assert f"[1/1] {team_case.participant.case_code}: pseudonymised" in out.getvalue()

    for needle in [*IDENTITY.values(), MARKER]:
        assert _text_hits(needle) == [], needle
    participant = Participant.objects.get(pk=team_case.participant_id)
    assert participant.family_name_latin == team_case.participant.case_code
    assert participant.date_of_birth is None
    assert IDENTITY["family_name_latin"].lower() not in participant.search_text.lower()
    assert Note.objects.filter(case=team_case).count() == 2  # the rows stay, their text does not
    assert not __import__("os").path.exists(stored)
    assert Attachment.objects.get(pk=attachment.pk).file.name == ""
    review.refresh_from_db()
    assert review.status == "pseudonymised"
    assert review.pseudonymised_at is not None
    # other cases and the logs (ids only) are untouched
    assert Participant.objects.filter(pk=other.participant_id).values().get() == other_before
    assert Note.objects.get(case=other).text == "other note"
    assert list(AccessLog.objects.order_by("pk").values()) == logs_before
    assert list(DisclosureLog.objects.order_by("pk").values()) == disclosures_before
    assert len(disclosures_before) == 2
    verified = __import__("io").StringIO()
    call_command("verify_audit", stdout=verified, stderr=__import__("io").StringIO())  # the chain still holds
    assert "intact: 2 rows" in verified.getvalue()
    # idempotent: a second run has nothing to do and changes nothing
    snapshot = Participant.objects.filter(pk=team_case.participant_id).values().get()
    out = __import__("io").StringIO()
    call_command("apply_retention", stdout=out)
    assert "No confirmed cases" in out.getvalue()
    assert retention.pseudonymise(review=review) is False
    assert Participant.objects.filter(pk=team_case.participant_id).values().get() == snapshot


def test_pseudonymisation_reaches_the_apps_rows_and_their_history(as_owner, seeded, demo):
    from families.models import CounsellingConfidentialNote, CounsellingSession, FamilyMember, Household
    from programs.models import MentoringConfidentialNote, MentoringSession, Placement

    mentored = _case_with("programs", "MentoringConfidentialNote", "session__case_id")
    counselled = _case_with("families", "CounsellingConfidentialNote", "session__case_id")
    placed = _case_with("programs", "Placement")
    targets = {mentored.pk: mentored, counselled.pk: counselled, placed.pk: placed}
    keep = Case.objects.exclude(pk__in=targets).filter(organisation=mentored.organisation).first()
    keep_notes = sorted(Note.objects.filter(case=keep).values_list("text", flat=True))
    for n, case in enumerate(targets.values()):
        # updates behind the services' back: the history triggers record the marker too
        Participant.objects.filter(pk=case.participant_id).update(
            given_name_latin=f"Zorvanel{n}x", national_id=f"QZ{n}55443"
        )
        Note.objects.filter(case=case).update(text=f"{MARKER} note")
    MentoringSession.objects.filter(case=mentored).update(summary=f"{MARKER} mentoring")
    MentoringConfidentialNote.objects.filter(session__case=mentored).update(text=f"{MARKER} mentor secret")
    CounsellingSession.objects.filter(case=counselled).update(summary=f"{MARKER} counselling")
    CounsellingConfidentialNote.objects.filter(session__case=counselled).update(text=f"{MARKER} counsellor secret")
    Household.objects.filter(case=counselled).update(situation=f"{MARKER} household")
    from families.models import HouseholdMember

    shared = HouseholdMember.objects.exclude(case=counselled).values("member_id")
    only_here = FamilyMember.objects.filter(links__case=counselled).exclude(pk__in=shared)
    assert only_here.update(family_name="Quistoraxe")
    Placement.objects.filter(case=placed).update(note=f"{MARKER} placement")
    Case.objects.filter(pk__in=targets).update(stage=Stage.CLOSED, closed_on=TODAY() - datetime.timedelta(days=1200))
    for case in targets.values():
        _confirm(case, demo["manager"])

    assert ("programs_mentoringsessionevent", "summary") in _text_hits(MARKER)
    assert ("families_familymemberevent", "family_name") in _text_hits("Quistoraxe")
    call_command("apply_retention", stdout=__import__("io").StringIO())

    for needle in (MARKER, "Zorvanel", "Quistoraxe", "QZ055443", "QZ155443", "QZ255443"):
        assert _text_hits(needle) == [], needle
    assert sorted(Note.objects.filter(case=keep).values_list("text", flat=True)) == keep_notes
    # rows and their dates stay: the statistics of §7 still count them
    assert MentoringConfidentialNote.objects.filter(session__case=mentored).exists()


def test_apply_retention_fails_clearly_without_the_owner_role(demo, team_case):
    """The tests run as the application role, which may not rewrite history rows."""
    _close(team_case, demo["caseworker"])
    _confirm(team_case, demo["manager"])
    import dj_database_url
    from django.conf import settings

    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        assert cursor.fetchone()[0] != dj_database_url.parse(settings.DATABASE_OWNER_URL)["USER"]
    with pytest.raises(CommandError, match="must run under the database owner role"):
        call_command("apply_retention", stdout=__import__("io").StringIO())
    assert RetentionReview.objects.get(case=team_case).status == "confirmed"
    assert Participant.objects.get(pk=team_case.participant_id).family_name_latin == "Elyazidi"
