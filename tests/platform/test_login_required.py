"""Every URL requires login, except the listed exemptions (generated from the URL resolver)."""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

# Reachable without a session. The API authenticates for itself (401/403, problem details).
EXEMPT_NAMES = {"login", "logout", "set_language", "healthz"}
EXEMPT_PREFIXES = ("api/", "o/", "admin/login/", "static/")  # o/: the OAuth2 token endpoints (no session)


def _walk(patterns, prefix: str = ""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.name


def _concrete(route: str) -> str:
    """Turn a route (path() or re_path() syntax) into a URL with sample arguments."""
    route = re.sub(r"<int:\w+>", "1", route)
    route = re.sub(r"<(?:str:|slug:)?\w+>", "x", route)
    route = re.sub(r"<path:\w+>", "x/y", route)
    route = route.lstrip("^").rstrip("$").replace("\\Z", "")
    route = re.sub(r"\(\?P<\w+>[^)]*\)", "1", route)  # admin's regex routes
    route = route.replace("\\", "")
    return "/" + route


ALL_ROUTES = sorted(set(_walk(get_resolver().url_patterns)))
PROTECTED = [
    (route, name)
    for route, name in ALL_ROUTES
    if name not in EXEMPT_NAMES and not route.startswith(EXEMPT_PREFIXES) and "(?" not in route.split("/")[0]
]


def test_the_walk_finds_the_application_pages():
    names = {name for _, name in PROTECTED}
    assert {"home", "orgsettings:user-list", "user-list"} & names or {"home"} <= names
    assert len(PROTECTED) > 10


@pytest.mark.django_db
@pytest.mark.parametrize(("route", "name"), PROTECTED)
def test_anonymous_is_sent_to_login(client, route, name):
    response = client.get(_concrete(route))
    assert response.status_code == 302, (route, response.status_code)
    # The Django admin may send to its own login page, which is a login page all the same.
    logins = ("/accounts/login/", "/admin/login/") if route.startswith("admin/") else ("/accounts/login/",)
    assert response["Location"].startswith(logins), response["Location"]


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/accounts/login/", "/healthz"])
def test_exempt_pages_answer_without_login(client, url, celery_worker_process):
    assert client.get(url).status_code == 200


@pytest.mark.django_db
def test_language_switch_works_without_login(client):
    response = client.post("/i18n/setlang/", {"language": "fr", "next": "/accounts/login/"})
    assert response.status_code == 302
    assert response.cookies["django_language"].value == "fr"
