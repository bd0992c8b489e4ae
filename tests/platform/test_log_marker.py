"""No personal data in the application and worker logs (issue 11).

The authorization matrix's world (one case of every scope, one row of every record kind) gets a marker
written into every personal field, the field list generated from the models. Then the pages and the API
are driven over it as every role that reaches the case (exports and history included), bad input is
posted (400s), two requests fail with the marker in the exception's message (a 500 page, a 500 problem;
the page's one is PostgreSQL's "Failing row contains (...)"), and a real Celery worker delivers the
case's follow-ups and fails a task whose argument and exception carry the marker.

Every process of the run logs to files (settings LOG_DIR); this test checks the files it can see, and
`make test` scans all of them after the suite (scripts/logscan.py, which also fails a full run in which
this test did not plant the marker).
"""

from __future__ import annotations

import os
import secrets
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.db import connection, models
from django.test import Client, override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from casemgmt.dbroles import append_only_tables
from tests.authz_world import CONSENT, MANDATE, OWN, build_world
from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
from logscan import PLANTED, scan

pytestmark = pytest.mark.slow

MARKER = os.environ.get("CASEMGMT_LOG_MARKER") or "Qx" + secrets.token_hex(4)
APPS = ("casemgmt", "programs", "families")
# Text columns that hold codes, keys and configuration, not anything about a person.
NOT_PERSONAL = {"case_code", "code", "key", "kind", "source_type", "record_type", "content_type", "completed_with"}
NOT_PERSONAL |= {"link", "legal_status"}  # a URL the system builds; a coded status
NOT_PERSONAL |= {"first_risk_band", "latest_risk_band"}  # the case's assessment summary: coded low/medium/high
CONFIGURATION = {"assessmenttemplate", "assessmentdomain", "assessmentitem", "followuprule"}
PERSONAL_JSON = {("casemgmt", "exceptionaldisclosure", "snapshot")}  # a copy of the case's data
# What the handbook names as personal: the generated list must hold at least these.
MUST_PLANT = {
    "casemgmt.participant": {"given_name_latin", "family_name_arabic", "national_id", "phone", "email", "address"},
    "casemgmt.conflicthistory": {"account", "group_affiliation"},
    "casemgmt.note": {"text"},
    "casemgmt.case": {"referral_reason"},
    "programs.mentoringconfidentialnote": {"text"},
    "families.counsellingconfidentialnote": {"text"},
    "families.familymember": {"given_name", "family_name", "phone", "vulnerability_note"},
    "families.household": {"address", "situation"},
    "programs.employabilityprofile": {"work_history"},
}
ROLES_ON_OWN = ("caseworker", "manager", "counsellor", "mentor", "placement")


def personal_fields() -> dict[type[models.Model], list[models.Field]]:
    """Every free-text column of the case apps, outside the append-only tables (ids only, by design)."""
    append_only = append_only_tables()
    out = {}
    for app in APPS:
        for model in apps.get_app_config(app).get_models():
            meta = model._meta
            if meta.db_table in append_only or meta.proxy or not meta.managed or meta.model_name in CONFIGURATION:
                continue
            fields = [
                f
                for f in meta.concrete_fields
                if (
                    isinstance(f, (models.CharField, models.TextField))
                    and not f.choices
                    and not f.primary_key
                    and f.name not in NOT_PERSONAL
                )
                or (app, meta.model_name, f.name) in PERSONAL_JSON
            ]
            if fields:
                out[model] = fields
    return out


def _json_planted(value, text: str):
    if isinstance(value, dict):
        return {k: _json_planted(v, text) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_planted(v, text) for v in value]
    return text if isinstance(value, str) else value


def plant() -> dict[str, set[str]]:
    """The marker (with a row number, for unique columns) into every personal field of every row."""
    planted: dict[str, set[str]] = {}
    n = 0
    for model, fields in personal_fields().items():
        for pk, *values in model.objects.values_list("pk", *[f.name for f in fields]):
            changes = {}
            for field, value in zip(fields, values, strict=True):
                n += 1
                text = f"{MARKER}{n}"
                if isinstance(field, models.EmailField):
                    text += "@example.invalid"
                if isinstance(field, models.JSONField):
                    changes[field.name] = _json_planted(value, text)
                    continue
                assert field.max_length is None or len(text) <= field.max_length, f"{model.__name__}.{field.name}"
                changes[field.name] = text
            model.objects.filter(pk=pk).update(**changes)
            planted.setdefault(model._meta.label_lower, set()).update(changes)
    return planted


def _log_files() -> list[Path]:
    return list(Path(settings.LOG_DIR).glob("*.log"))


def _logs() -> str:
    return "\n".join(p.read_text(errors="replace") for p in _log_files())


def _wait_for(condition, seconds: float = 60.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.3)
    return False


def _drive_pages_and_api(world) -> dict[str, int]:
    """GET every mapped URL as each role that reaches the OWN case (the authority on its MANDATE and
    CONSENT cases), and POST nothing at every POST route as the lead: the 400s."""
    from tests.test_authz_matrix import CHECKS, _url

    statuses: dict[str, int] = {}
    posts: list[tuple[bool, str]] = []
    visits = [(role, OWN) for role in ROLES_ON_OWN] + [("authority", MANDATE), ("authority", CONSENT)]
    for role, case_kind in visits:
        ui, api = Client(), APIClient()
        ui.force_login(world.users[role])
        api.force_authenticate(world.users[role])
        for check in CHECKS:
            url = _url(check, world, case_kind)
            if url is None:
                continue
            client = api if check.route.api else ui
            if "get" in check.route.methods:
                status = client.get(url).status_code
                statuses[f"{status}"] = statuses.get(f"{status}", 0) + 1
            if role == "caseworker" and (not check.route.api or "post" in check.route.methods):
                posts.append((check.route.api, url))
        # a search for the marker (a name search travels in the query string)
        ui.get(f"/cases/?q={MARKER}1")
    # Bad input everywhere a form or a create endpoint is, last (a POST may log out or end things).
    lead = world.users["caseworker"]
    for is_api, url in posts:
        if is_api:
            api = APIClient()
            api.force_authenticate(lead)
            response = api.post(url, {"note": MARKER, "date_of_birth": MARKER, "case": MARKER}, format="json")
        else:
            ui = Client()
            ui.force_login(lead)
            response = ui.post(url, {"text": MARKER, "date_of_birth": MARKER, "national_id": MARKER * 4})
        key = f"post {response.status_code}"
        statuses[key] = statuses.get(key, 0) + 1
    return statuses


def _fail_with_personal_data(world, monkeypatch):
    """A 500 page whose exception is PostgreSQL's NOT NULL violation ("Failing row contains (...)",
    every column of the participant) and a 500 problem whose ValueError quotes the national ID."""
    from casemgmt import case_views
    from casemgmt.api import cases as api_cases
    from casemgmt.models import Participant

    own = world.cases[OWN]
    participant = Participant.objects.get(pk=own.participant_id)
    assert MARKER in participant.national_id

    def broken_detail(request, case):
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE casemgmt_participant SET given_name_latin = NULL WHERE id = %s", [case.participant_id]
            )
        raise AssertionError("unreachable")

    def broken_representation(self, instance):
        raise ValueError(f"cannot serialise participant with national ID {participant.national_id}")

    monkeypatch.setattr(case_views, "_detail_context", broken_detail)
    monkeypatch.setattr(api_cases.CaseSerializer, "to_representation", broken_representation)
    ui = Client(raise_request_exception=False)
    ui.force_login(world.users["caseworker"])
    assert ui.get(f"/cases/{own.pk}/").status_code == 500
    api = APIClient(raise_request_exception=False)
    api.force_authenticate(world.users["caseworker"])
    response = api.get(f"/api/v1/cases/{own.pk}/")
    assert response.status_code == 500
    assert MARKER not in response.content.decode()
    monkeypatch.undo()


def _run_the_worker(world):
    """A real worker delivers the OWN case's follow-ups (e-mails rendered from marked rows) and fails a
    task whose argument is a marked value (the ValueError quotes it)."""
    from casemgmt import tasks
    from casemgmt.celery import app
    from casemgmt.followup_models import FollowUp
    from tests.casemgmt.test_followup_delivery import start_worker

    queue = f"logscan-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    app.conf.task_default_queue = queue
    proc = start_worker(queue)
    try:
        due = FollowUp.objects.filter(case=world.cases[OWN], status="open")
        due.update(due_on=timezone.localdate())
        tasks.deliver_follow_ups.delay()
        tasks.send_notification_email.delay(f"{MARKER}-not-an-id")
        assert _wait_for(lambda: "send_notification_email" in _logs() and "raised unexpected" in _logs()), _logs()[
            -3000:
        ]
    finally:
        app.conf.task_default_queue = "celery"
        proc.terminate()
        proc.wait(20)


def test_a_marker_in_every_personal_field_never_reaches_the_logs(transactional_db, monkeypatch):
    media = tempfile.mkdtemp(prefix="log-marker-media-")
    with override_settings(MEDIA_ROOT=media):
        world = build_world(media)
        planted = plant()
        for label, names in MUST_PLANT.items():
            assert names <= planted.get(label, set()), f"{label}: {names - planted.get(label, set())} not planted"
        assert sum(len(v) for v in planted.values()) >= 60  # the generated list, not a hand-picked few
        (Path(settings.LOG_DIR) / PLANTED).write_text(MARKER)

        statuses = _drive_pages_and_api(world)
        assert statuses.get("200", 0) > 200, statuses  # the pages really showed the marked rows
        assert statuses.get("post 400", 0) > 0, statuses  # bad input was refused with field errors
        _fail_with_personal_data(world, monkeypatch)
        _run_the_worker(world)

    logs = _logs()
    # the failures were logged, with their type and stack, through the files scanned here
    assert "Internal Server Error: /cases/" in logs
    assert "Unhandled API error" in logs
    assert "IntegrityError [SQLSTATE 23502] (message withheld" in logs
    assert "ValueError (message withheld" in logs
    assert any(p.name.startswith("celery-") for p in _log_files())
    assert scan(Path(settings.LOG_DIR), MARKER) == []
