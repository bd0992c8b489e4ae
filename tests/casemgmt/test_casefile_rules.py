"""Restricted notes, assessments, screening, uploads, validation and query counts of the case file."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from casemgmt import casefile_services as cs
from casemgmt.casefile import Assessment, AssessmentAnswer, AssessmentItem, Attachment, Note
from casemgmt.models import Stage
from casemgmt.services import case_reopen, team_member_add
from tests.casemgmt.conftest import answers_for
from tests.factories import case_move_stage

PDF = b"%PDF-1.4\n%test\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 20
YESTERDAY = timezone.localdate() - datetime.timedelta(days=1)


# --- Restricted notes ----------------------------------------------------------------------


@pytest.fixture
def notes(demo, active_case):
    team_member_add(case=active_case, by=demo["caseworker"], user=demo["colleague"], role="caseworker")

    def note(by, visibility, text):
        return cs.record_create(
            key="note",
            case=active_case,
            by=by,
            data={"kind": "call", "date": YESTERDAY, "visibility": visibility, "text": text},
        )

    return {
        "team": note(demo["colleague"], "team", "TEAM-TEXT"),
        "by_colleague": note(demo["colleague"], "restricted", "COLLEAGUE-SECRET"),
        "by_lead": note(demo["caseworker"], "restricted", "LEAD-SECRET"),
    }


# who sees which note: the author and the lead see a restricted note; nobody else, managers included
NOTE_READERS = {
    "team": {"caseworker", "colleague", "placement", "manager"},
    "by_colleague": {"caseworker", "colleague"},
    "by_lead": {"caseworker"},
}


@pytest.mark.parametrize("username", ["caseworker", "colleague", "placement", "manager", "caseworker2", "auditor"])
def test_restricted_notes_in_list_detail_history_and_api(client, demo, active_case, notes, username):
    user = demo[username]
    client.force_login(user)
    api = APIClient()
    api.force_authenticate(user)
    listing = client.get(reverse("casefile-list", args=[active_case.pk, "notes"]))
    api_ids = {r["id"] for r in api.get("/api/v1/notes/", {"case": active_case.pk}).json()["results"]}
    history = client.get(reverse("case-history", args=[active_case.pk]))
    for name, note in notes.items():
        allowed = username in NOTE_READERS[name]
        if listing.status_code == 200:
            assert (note.pk in [r.pk for r, _ in listing.context["table"]]) == allowed, name
        detail = client.get(reverse("casefile-detail", args=[active_case.pk, "notes", note.pk]))
        assert detail.status_code == (200 if allowed else 404), name
        assert api.get(f"/api/v1/notes/{note.pk}/").status_code == (200 if allowed else 404), name
        assert (note.pk in api_ids) == allowed, name
        if history.status_code == 200:
            assert (note.text in history.content.decode()) == allowed, name


def test_only_the_author_edits_a_note(client, demo, notes, active_case):
    client.force_login(demo["caseworker"])  # the lead reads the colleague's note but may not rewrite it
    url = reverse("casefile-edit", args=[active_case.pk, "notes", notes["by_colleague"].pk])
    assert client.get(url).status_code == 404
    client.force_login(demo["colleague"])
    assert client.get(url).status_code == 200


# --- Assessments ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("risk", "protective", "band", "score"),
    [
        (0, 3, "low", "0.000"),
        (1, 0, "medium", "0.333"),
        (1, 3, "low", "0.083"),
        (2, 0, "high", "0.667"),
        (2, 2, "medium", "0.500"),
        (3, 3, "high", "0.750"),
        (3, 0, "high", "1.000"),
    ],
)
def test_band_derivation(demo, active_case, template, risk, protective, band, score):
    assessment = cs.assessment_record(
        case=active_case,
        by=demo["caseworker"],
        template=template,
        assessed_on=YESTERDAY,
        answers=answers_for(template, risk, protective),
    )
    assert assessment.risk_band == band
    assert assessment.risk_score == Decimal(score)
    assert set(assessment.needs_profile) == {"housing", "employment", "education", "health", "family", "legal"}


def test_needs_do_not_change_the_band(template):
    items = list(AssessmentItem.objects.filter(domain__template=template))
    low = cs.derive_risk([(i, 0 if i.kind != "need" else 3) for i in items])
    assert low[0] == "low"


def test_unknown_item_and_missing_ratings_are_field_errors_and_leave_no_rows(demo, active_case, template):
    answers = answers_for(template)
    with pytest.raises(ValidationError) as caught:
        cs.assessment_record(
            case=active_case,
            by=demo["caseworker"],
            template=template,
            assessed_on=YESTERDAY,
            answers=[*answers, {"item": 999999, "rating": 1}],
        )
    assert "not part of this template" in caught.value.message_dict["answers"][0]
    with pytest.raises(ValidationError, match="Rate every item"):
        cs.assessment_record(
            case=active_case, by=demo["caseworker"], template=template, assessed_on=YESTERDAY, answers=answers[1:]
        )
    with pytest.raises(ValidationError) as caught:
        cs.assessment_record(
            case=active_case,
            by=demo["caseworker"],
            template=template,
            assessed_on=timezone.localdate() + datetime.timedelta(days=3),
            answers=answers,
        )
    assert "assessed_on" in caught.value.message_dict
    assert not Assessment.objects.exists()
    assert not AssessmentAnswer.objects.exists()


def test_api_assessment_bad_input_is_400_without_rows(demo, active_case, template):
    api = APIClient()
    api.force_authenticate(demo["caseworker"])
    base = {"case": active_case.pk, "template": template.pk, "assessed_on": str(YESTERDAY)}
    answers = [{"item": a["item"], "rating": a["rating"]} for a in answers_for(template)]
    bad = api.post(
        "/api/v1/assessments/", {**base, "answers": [*answers, {"item": 999999, "rating": 1}]}, format="json"
    )
    assert bad.status_code == 400
    assert "answers" in bad.json()["errors"]
    bad = api.post(
        "/api/v1/assessments/", {**base, "answers": [{**answers[0], "rating": 7}, *answers[1:]]}, format="json"
    )
    assert bad.status_code == 400
    assert not Assessment.objects.exists()
    good = api.post("/api/v1/assessments/", {**base, "answers": answers}, format="json")
    assert good.status_code == 201, good.json()
    assert good.json()["risk_band"] == "low"  # risk 1/3, protective 1/3: 0.333 - 0.083 = 0.25


def test_earlier_assessments_stay_and_the_comparison_shows_the_change(client, demo, active_case, template):
    first = cs.assessment_record(
        case=active_case,
        by=demo["caseworker"],
        template=template,
        assessed_on=YESTERDAY - datetime.timedelta(days=90),
        answers=answers_for(template, 3, 0),
    )
    second = cs.assessment_record(
        case=active_case,
        by=demo["caseworker"],
        template=template,
        assessed_on=YESTERDAY,
        answers=answers_for(template, 1, 3),
    )
    client.force_login(demo["manager"])
    listing = client.get(reverse("casefile-list", args=[active_case.pk, "assessments"]))
    assert [r.pk for r, _ in listing.context["table"]] == [second.pk, first.pk]
    response = client.get(reverse("assessment-compare", args=[active_case.pk]), {"a": second.pk, "b": first.pk})
    assert response.status_code == 200
    assert response.context["first"] == first
    assert [delta for _item, _old, _new, delta in response.context["rows"]][:3] == [-2, -2, -2]
    assert "High" in response.content.decode()
    assert 'data-testid="band-change">Low' in response.content.decode()


def test_the_case_page_shows_the_current_band(client, demo, active_case, template):
    client.force_login(demo["caseworker"])
    assert "not assessed yet" in client.get(active_case.get_absolute_url()).content.decode()
    cs.assessment_record(
        case=active_case,
        by=demo["caseworker"],
        template=template,
        assessed_on=YESTERDAY,
        answers=answers_for(template, 3, 0),
    )
    client.force_login(demo["caseworker"])
    assert 'data-field="risk_band">High' in client.get(active_case.get_absolute_url()).content.decode()
    # the band of the latest assessed date (the case row's summary), not of the last one recorded
    cs.assessment_record(
        case=active_case,
        by=demo["caseworker"],
        template=template,
        assessed_on=YESTERDAY - datetime.timedelta(days=40),
        answers=answers_for(template, 0, 3),
    )
    page = client.get(active_case.get_absolute_url())
    assert 'data-field="risk_band">High' in page.content.decode()
    assert page.context["risk"].assessed_on == YESTERDAY
    client.force_login(demo["placement"])  # risk band: caseworkers and managers only
    assert 'data-field="risk_band"' not in client.get(active_case.get_absolute_url()).content.decode()


def test_reopening_goes_to_active_with_a_fresh_assessment_and_to_assessment_with_a_stale_one(
    demo, active_case, template
):
    cs.assessment_record(
        case=active_case,
        by=demo["caseworker"],
        template=template,
        assessed_on=YESTERDAY,
        answers=answers_for(template, 0, 3),
    )  # low: reassess after 12 months
    case_move_stage(case=active_case, by=demo["caseworker"], to_stage=Stage.EXITED, reason="goals met")
    case_reopen(case=active_case, by=demo["caseworker"], reason="asked for help again")
    active_case.refresh_from_db()
    assert active_case.stage == Stage.ACTIVE
    assert cs.assessment_is_stale(active_case, today=YESTERDAY + datetime.timedelta(days=370))
    assert not cs.assessment_is_stale(active_case, today=YESTERDAY + datetime.timedelta(days=300))


# --- Screening ----------------------------------------------------------------------------


def test_screening_accept_and_decline(client, demo, case):
    case_move_stage(case=case, by=demo["caseworker"], to_stage=Stage.SCREENING, reason="contact")
    client.force_login(demo["caseworker"])
    data = {"screen-first_contact_date": str(YESTERDAY), "screen-decision": "accept", "screen-reason": "eligible"}
    assert client.post(reverse("case-screen", args=[case.pk]), data).status_code == 302
    case.refresh_from_db()
    assert (case.stage, case.eligibility, case.first_contact_date) == (Stage.ASSESSMENT, "accept", YESTERDAY)


@pytest.mark.parametrize(("decision", "stage"), [("decline", Stage.DECLINED), ("refer_elsewhere", Stage.DECLINED)])
def test_screening_other_decisions_decline(demo, case, decision, stage):
    case_move_stage(case=case, by=demo["caseworker"], to_stage=Stage.SCREENING, reason="contact")
    cs.case_screen(case=case, by=demo["manager"], first_contact_date=YESTERDAY, decision=decision, reason="no")
    case.refresh_from_db()
    assert case.stage == stage


def test_screening_refuses_bad_dates_and_wrong_stage(demo, case):
    with pytest.raises(ValidationError, match="Only a case in screening"):
        cs.case_screen(case=case, by=demo["caseworker"], first_contact_date=YESTERDAY, decision="accept", reason="x")
    case_move_stage(case=case, by=demo["caseworker"], to_stage=Stage.SCREENING, reason="contact")
    with pytest.raises(ValidationError) as caught:
        cs.case_screen(
            case=case,
            by=demo["caseworker"],
            first_contact_date=timezone.localdate() + datetime.timedelta(days=2),
            decision="accept",
            reason="",
        )
    assert {"first_contact_date", "reason"} <= set(caught.value.message_dict)
    case.refresh_from_db()
    assert case.stage == Stage.SCREENING
    assert case.first_contact_date is None


def test_api_screen(demo, case):
    case_move_stage(case=case, by=demo["caseworker"], to_stage=Stage.SCREENING, reason="contact")
    api = APIClient()
    api.force_authenticate(demo["placement"])
    assert api.post(f"/api/v1/referrals/{case.pk}/screen/", {}).status_code == 404
    api.force_authenticate(demo["manager"])
    assert [r["id"] for r in api.get("/api/v1/referrals/").json()["results"]] == [case.pk]
    response = api.post(
        f"/api/v1/referrals/{case.pk}/screen/",
        {"first_contact_date": str(YESTERDAY), "decision": "accept", "reason": "fits"},
    )
    assert response.status_code == 200
    assert response.json()["stage"] == "assessment"


# --- Validation of rows ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "data", "field"),
    [
        ("note", {"kind": "call", "date": "FUTURE", "text": "x", "visibility": "team"}, "date"),
        ("note", {"kind": "call", "date": "YESTERDAY", "text": "x", "visibility": "secret"}, "visibility"),
        (
            "note",
            {"kind": "call", "date": "YESTERDAY", "text": "x", "visibility": "team", "duration_minutes": 0},
            "duration_minutes",
        ),
        ("conflict_history", {"country": "A", "from_date": "2016-01-01", "to_date": "2015-01-01"}, "to_date"),
        (
            "consent",
            {"purpose": "p", "categories": ["identity"], "given_on": "YESTERDAY", "expires_on": "2000-01-01"},
            "expires_on",
        ),
        ("consent", {"purpose": "p", "categories": ["nonsense"], "given_on": "YESTERDAY"}, "categories"),
        ("consent", {"purpose": "p", "categories": [], "given_on": "YESTERDAY"}, "categories"),
        (
            "service_referral",
            {"kind": "housing", "provider": "x", "referred_on": "YESTERDAY", "ended_on": "2000-01-01"},
            "ended_on",
        ),
        ("relapse_event", {"kind": "threat", "date": "not-a-date", "description": "x"}, "date"),
    ],
)
def test_bad_rows_are_400_with_the_field_and_leave_nothing(demo, active_case, key, data, field):
    from casemgmt.access import record_model
    from casemgmt.casefile_views import SECTIONS

    dates = {"FUTURE": str(timezone.localdate() + datetime.timedelta(days=5)), "YESTERDAY": str(YESTERDAY)}
    payload = {k: dates.get(v, v) if isinstance(v, str) else v for k, v in data.items()}
    api = APIClient()
    api.force_authenticate(demo["caseworker"])
    slug = next(s.slug for s in SECTIONS if s.key == key)
    before = record_model(key).objects.count()
    response = api.post(f"/api/v1/{slug}/", {"case": active_case.pk, **payload}, format="json")
    assert response.status_code == 400, response.json()
    # nested fields are flat keys in the problem's errors: `categories.0`
    assert field in {name.split(".")[0] for name in response.json()["errors"]}, response.json()
    assert record_model(key).objects.count() == before


def test_page_form_shows_field_errors(client, demo, active_case):
    client.force_login(demo["caseworker"])
    response = client.post(
        reverse("casefile-create", args=[active_case.pk, "notes"]),
        {
            "kind": "call",
            "date": str(timezone.localdate() + datetime.timedelta(days=4)),
            "visibility": "team",
            "text": "x",
            "held": "on",
        },
    )
    assert response.status_code == 200
    assert "date" in response.context["form"].errors
    assert not Note.objects.exists()


def test_goal_owner_must_be_on_the_team(demo, active_case):
    with pytest.raises(ValidationError) as caught:
        cs.record_create(
            key="goal",
            case=active_case,
            by=demo["caseworker"],
            data={"domain": "housing", "title": "x", "owner": demo["caseworker2"]},
        )
    assert "owner" in caught.value.message_dict


def test_closed_case_file_is_read_only(demo, active_case):
    for stage in (Stage.EXITED, Stage.CLOSED):
        case_move_stage(case=active_case, by=demo["caseworker"], to_stage=stage, reason="walk")
    with pytest.raises(ValidationError, match="read-only"):
        cs.record_create(
            key="note",
            case=active_case,
            by=demo["caseworker"],
            data={"kind": "call", "date": YESTERDAY, "text": "x", "visibility": "team"},
        )


# --- Attachments -----------------------------------------------------------------------------


def test_upload_and_download_through_the_policy(client, demo, records, active_case, settings):
    consent = records["consent"]
    client.force_login(demo["caseworker"])
    response = client.post(
        reverse("attachment-upload", args=[active_case.pk]),
        {
            "record_type": "consent",
            "record_id": consent.pk,
            "description": "signed",
            "file": SimpleUploadedFile("form.pdf", PDF, content_type="application/pdf"),
        },
    )
    assert response.status_code == 302
    attachment = Attachment.objects.get()
    assert attachment.content_type == "application/pdf"
    assert str(settings.MEDIA_ROOT) in attachment.file.path  # outside the static root, never routed
    download = client.get(reverse("attachment-download", args=[attachment.pk]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert download["Content-Disposition"].startswith("attachment")
    for username in ("placement", "colleague", "caseworker2", "authority", "auditor"):
        client.force_login(demo[username])  # consents: caseworkers and managers only
        assert client.get(reverse("attachment-download", args=[attachment.pk])).status_code == 404
    client.force_login(demo["manager"])
    assert client.get(reverse("attachment-download", args=[attachment.pk])).status_code == 200


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("form.pdf", PNG, "does not match its content"),
        ("photo.png", PDF, "does not match its content"),
        ("script.pdf", b"#!/bin/sh\necho hi\n", "Only PDF, PNG and JPEG"),
        ("empty.pdf", b"", "empty"),
        ("big.pdf", PDF + b"0" * (10 * 1024 * 1024), "larger than 10 MB"),
    ],
)
def test_bad_uploads_are_refused_and_store_nothing(demo, active_case, name, content, message, settings):
    api = APIClient()
    api.force_authenticate(demo["caseworker"])
    response = api.post(
        "/api/v1/attachments/",
        {"case": active_case.pk, "record_type": "case", "file": SimpleUploadedFile(name, content)},
        format="multipart",
    )
    assert response.status_code == 400
    assert message in str(response.json()["errors"])
    assert not Attachment.objects.exists()
    stored = (
        list((settings.MEDIA_ROOT / "attachments").rglob("*")) if (settings.MEDIA_ROOT / "attachments").exists() else []
    )
    assert not [p for p in stored if p.is_file() and p.name.startswith(name.split(".")[0])]


def test_api_attachment_on_a_record_the_writer_cannot_see_is_refused(demo, records, active_case):
    api = APIClient()
    api.force_authenticate(demo["placement"])
    response = api.post(
        "/api/v1/attachments/",
        {
            "case": active_case.pk,
            "record_type": "consent",
            "record_id": records["consent"].pk,
            "file": SimpleUploadedFile("x.pdf", PDF),
        },
        format="multipart",
    )
    assert response.status_code == 400
    assert not Attachment.objects.exists()


# --- Query counts --------------------------------------------------------------------------


def _count(call):
    with CaptureQueriesContext(connection) as ctx:
        response = call()
    assert response.status_code == 200
    return len(ctx.captured_queries)


LISTS = [
    "notes",
    "goals",
    "legal-events",
    "relapse-events",
    "conflict-history",
    "consents",
    "service-referrals",
    "assessments",
    "safety-flags",
]


@pytest.mark.parametrize("slug", LISTS)
def test_list_query_counts_do_not_grow(client, demo, active_case, template, slug):
    from casemgmt.casefile_views import BY_SLUG

    key = BY_SLUG[slug].key
    client.force_login(demo["manager"])
    api = APIClient()
    api.force_authenticate(demo["manager"])

    def add(n):
        for i in range(n):
            make_row(key, demo, active_case, template, i)

    add(2)
    page = _count(lambda: client.get(reverse("casefile-list", args=[active_case.pk, slug])))
    endpoint = _count(lambda: api.get(f"/api/v1/{slug}/", {"case": active_case.pk}))
    add(20)
    assert _count(lambda: client.get(reverse("casefile-list", args=[active_case.pk, slug]))) == page
    assert _count(lambda: api.get(f"/api/v1/{slug}/", {"case": active_case.pk})) == endpoint


def make_row(key, demo, case, template, i):
    from accounts.models import Organisation

    lead = demo["caseworker"]
    data = {
        "note": {"kind": "call", "date": YESTERDAY, "text": f"n{i}", "visibility": "team"},
        "goal": {"domain": "housing", "title": f"g{i}", "owner": lead},
        "legal_event": {"kind": "hearing", "date": YESTERDAY, "description": "x"},
        "consent": {
            "purpose": f"p{i}",
            "categories": ["identity"],
            "given_on": YESTERDAY,
            "recipient": Organisation.objects.get(name="Regional Probation Office"),
        },
        "service_referral": {"kind": "housing", "provider": f"p{i}", "referred_on": YESTERDAY},
        "safety_flag": {"kind": "other", "note": f"f{i}", "active": True},
        "relapse_event": {"kind": "threat", "date": YESTERDAY, "description": f"r{i}"},
        "conflict_history": {"country": f"C{i}", "from_date": datetime.date(2015, 1, 1)},
    }
    if key == "assessment":
        return cs.assessment_record(
            case=case, by=lead, template=template, assessed_on=YESTERDAY, answers=answers_for(template)
        )
    return cs.record_create(key=key, case=case, by=lead, data=data[key])


def test_attachment_and_referral_lists_do_not_grow(demo, active_case):
    api = APIClient()
    api.force_authenticate(demo["manager"])

    def add(n):
        for i in range(n):
            cs.attachment_add(case=active_case, by=demo["caseworker"], upload=SimpleUploadedFile(f"f{i}.pdf", PDF))

    add(2)
    attachments = _count(lambda: api.get("/api/v1/attachments/", {"case": active_case.pk}))
    referrals = _count(lambda: api.get("/api/v1/referrals/"))
    add(20)
    from tests.factories import northern_case

    for n in range(10):
        northern_case(demo, n=200 + n)  # more referrals in the intake
    assert _count(lambda: api.get("/api/v1/attachments/", {"case": active_case.pk})) == attachments
    assert _count(lambda: api.get("/api/v1/referrals/")) == referrals


def test_assessment_templates_are_configured_in_the_admin(client, superuser, template):
    client.force_login(superuser)
    assert client.get(f"/admin/casemgmt/assessmenttemplate/{template.pk}/change/").status_code == 200
    assert client.get("/admin/casemgmt/assessmentdomain/").status_code == 200
