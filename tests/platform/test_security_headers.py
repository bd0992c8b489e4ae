"""Security headers on HTML and JSON answers (issue 11): a strict CSP with a nonce per request,
nosniff, Referrer-Policy, frame-ancestors / X-Frame-Options, Cache-Control: no-store; HSTS with the
production settings."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from django.urls import reverse

from tests.conftest import ROOT, subprocess_env

NONCE = re.compile(r"'nonce-([A-Za-z0-9+/=]+)'")


def _directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in (p.strip() for p in policy.split(";")) if part}


def _assert_common(response):
    directives = _directives(response)
    assert directives["default-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["base-uri"] == ["'self'"]
    assert directives["form-action"] == ["'self'"]
    for name in ("script-src", "style-src"):
        assert "'self'" in directives[name]
        assert "'unsafe-inline'" not in directives[name]
        assert "'unsafe-eval'" not in directives[name]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cache-Control"] == "no-store"
    return directives


@pytest.mark.parametrize("url_name", ["case-list", "home", "login"])
def test_html_pages_carry_a_fresh_nonce_and_the_strict_policy(client, caseworker, case, url_name):
    if url_name != "login":
        client.force_login(caseworker)
    nonces = []
    for _ in range(2):
        response = client.get(reverse(url_name), follow=url_name == "home")
        assert response.status_code == 200
        directives = _assert_common(response)
        [nonce] = NONCE.findall(" ".join(directives["script-src"]))
        assert f"'nonce-{nonce}'" in directives["style-src"]
        # the page's own script tags carry it (htmx, bootstrap)
        assert f'nonce="{nonce}"' in response.content.decode()
        nonces.append(nonce)
    assert nonces[0] != nonces[1], "the nonce must change with every request"


def test_the_case_detail_page_with_personal_data_is_not_stored(client, caseworker, case):
    client.force_login(caseworker)
    response = client.get(reverse("case-detail", args=[case.pk]))
    assert response.status_code == 200
    _assert_common(response)
    assert "Expires" not in response


def test_json_answers_carry_the_headers(caseworker, case):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(caseworker)
    for url in ("/api/v1/me/", "/api/v1/cases/", f"/api/v1/cases/{case.pk}/", "/api/v1/cases/0/"):
        response = api.get(url)
        assert response.status_code in (200, 404), url
        assert response["Content-Type"].startswith(("application/json", "application/problem+json"))
        _assert_common(response)


def test_an_anonymous_api_error_and_a_404_page_carry_them_too(client, db):  # db: the login page keeps a session
    _assert_common(client.get("/api/v1/cases/"))  # 401/403 problem details
    _assert_common(client.get("/accounts/login/?next=/nowhere/"))


@pytest.mark.django_db
def test_the_health_check_may_be_cached_by_probes_but_says_nothing_personal(client):
    response = client.get(reverse("healthz"))
    assert response.get("Cache-Control") != "no-store"
    assert "Content-Security-Policy" in response  # a JSON answer still gets the policy


def test_swagger_ui_loads_its_start_script_from_our_origin(caseworker, client):
    client.force_login(caseworker)
    page = client.get("/api/v1/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<script>" not in html, "an inline script the CSP would refuse"
    [nonce] = set(NONCE.findall(page["Content-Security-Policy"]))  # script-src and style-src
    assert f'<style nonce="{nonce}">' in html
    script = client.get("/api/v1/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()


PRODUCTION_PROBE = """
import django
django.setup()
from django.test import Client
# no page that renders static files: the manifest of collectstatic does not exist here
response = Client().get("/api/v1/me/", secure=True)
print(response.status_code)
for name in ("Strict-Transport-Security", "Content-Security-Policy", "X-Content-Type-Options",
             "Referrer-Policy", "X-Frame-Options", "Cache-Control"):
    print(f"{name}: {response.get(name)}")
"""


def test_hsts_and_the_rest_with_the_production_settings():
    """The real settings module with DEBUG off (not the test settings): HSTS for a year, subdomains,
    preload, and the same policy."""
    result = subprocess.run(
        [sys.executable, "-c", PRODUCTION_PROBE],
        cwd=ROOT,
        env=subprocess_env(
            DJANGO_SETTINGS_MODULE="casemgmt.settings",
            DJANGO_DEBUG="0",
            DJANGO_SECRET_KEY="x" * 60,
            DJANGO_ALLOWED_HOSTS="testserver",
        ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    headers = dict(line.split(": ", 1) for line in lines[1:])
    assert lines[0] in ("401", "403")
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Cache-Control"] == "no-store"
