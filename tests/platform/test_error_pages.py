"""Error pages and API errors show no internals outside DEBUG, and the log of a 500 keeps the stack
but not the exception's message (which may quote personal data)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT, subprocess_env
from tests.platform.boom_urls import SECRET

INTERNALS = ("Traceback", "ValueError", "could not be", SECRET, 'File "', "site-packages", "DEBUG", "SECRET_KEY")

PRODUCTION_500 = """
import json
import django
django.setup()
from django.conf import settings
settings.ROOT_URLCONF = "tests.platform.boom_urls"
from django.test import Client
client = Client(raise_request_exception=False)
out = {}
for url in ("/boom/", "/api/v1/boom/", "/api/v1/nowhere/"):
    response = client.get(url, secure=True)
    out[url] = {"status": response.status_code, "type": response["Content-Type"], "body": response.content.decode()}
print(json.dumps(out))
"""


def test_a_500_in_production_settings_shows_nothing_of_the_failure_and_logs_no_message():
    result = subprocess.run(
        [sys.executable, "-c", PRODUCTION_500],
        cwd=ROOT,
        env=subprocess_env(
            DJANGO_SETTINGS_MODULE="casemgmt.settings",
            DJANGO_DEBUG="0",
            DJANGO_SECRET_KEY="y" * 60,
            DJANGO_ALLOWED_HOSTS="testserver",
        ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout.splitlines()[-1])

    page = out["/boom/"]
    assert page["status"] == 500
    assert "Something went wrong on our side." in page["body"]
    api = out["/api/v1/boom/"]
    assert api["status"] == 500
    assert api["type"] == "application/problem+json"
    assert json.loads(api["body"]) == {
        "type": "about:blank",
        "title": "Server error",
        "status": 500,
        "instance": "/api/v1/boom/",
    }
    missing = out["/api/v1/nowhere/"]
    assert missing["status"] == 404
    assert json.loads(missing["body"])["title"] == "Not found"
    for url, answer in out.items():
        leaked = [word for word in INTERNALS if word in answer["body"]]
        assert not leaked, f"{url} shows {leaked}"

    # Both failures are logged, with their stack and type, without the message.
    log = result.stderr
    assert log.count("Traceback (most recent call last):") >= 2, log[-3000:]
    assert "builtins.ValueError (message withheld: may hold personal data)" in log
    assert "tests/platform/boom_urls.py" in log  # the stack is kept: where it failed
    assert SECRET not in log
    assert "ZqBoom" not in log


@pytest.mark.django_db
def test_a_disallowed_host_answers_the_plain_400_page(client):
    response = client.get("/cases/", HTTP_HOST="evil.example.org")
    assert response.status_code == 400
    body = response.content.decode()
    assert "The request could not be understood." in body
    assert "evil.example.org" not in body
    assert "ALLOWED_HOSTS" not in body


def test_an_api_validation_error_is_a_problem_without_a_traceback(caseworker, case):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(caseworker)
    response = api.post("/api/v1/notes/", {"case": case.pk}, format="json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 400
    assert problem["errors"]
    assert "Traceback" not in response.content.decode()
