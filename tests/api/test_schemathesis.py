"""Issue 13: schemathesis over the WHOLE OpenAPI schema, as staff sessions, against the real PostgreSQL with
demo data: zero 5xx, zero answers that break the schema (status codes, content types, bodies, headers).

Bounded and deterministic (derandomised Hypothesis, no example database, no shrinking): per principal
and operation, a few generated cases with generated ids (mostly 404s and 400s) and a few with the id of
a row the principal reads (from the operation's own list endpoint), so the 200 paths are exercised too.
Each call runs in a savepoint of the test's transaction, so a failing call cannot spoil the next ones
and nothing is left behind.

`principals` is a list of (name, headers) pairs: four staff sessions and the three demo partner clients
(bearer tokens from the real token endpoint).
"""

from __future__ import annotations

import json
import re
import secrets

import pytest
import schemathesis
from django.conf import settings
from django.core import signals
from django.core.management import call_command
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.models import User

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
GENERATED_EXAMPLES = 3  # per operation and principal, with generated path ids
KNOWN_ID_EXAMPLES = 3  # per operation and principal, with the id of a row the principal reads
STAFF = ["caseworker", "manager", "counsellor", "authority"]


@pytest.fixture
def wsgi_app():
    """The whole Django stack (middleware, sessions, CSRF) in this thread, on the test's connection:
    like Django's test client, the request signals must not close that connection."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def demo_data(db, settings):
    settings.DEBUG = True  # seed_demo refuses to run otherwise
    call_command("seed_demo", cases=12, stdout=open("/dev/null", "w"))  # noqa: SIM115
    settings.DEBUG = False


def _session_headers(user: User) -> dict[str, str]:
    client = Client()
    client.force_login(user)
    csrf = secrets.token_hex(16)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}; csrftoken={csrf}"
    return {"Cookie": cookie, "X-CSRFToken": csrf}


@pytest.fixture
def principals(demo_data) -> list[tuple[str, dict[str, str]]]:
    """(name, headers) of every principal the run acts as. Partner clients: append (name, bearer headers)."""
    staff = [(name, _session_headers(User.objects.get(username=name))) for name in STAFF]
    return staff + _client_headers()


def _client_headers() -> list[tuple[str, dict[str, str]]]:
    """The three demo partner clients (seed_demo registers them), each with a token of all its scopes;
    their rate limit raised so the run measures the contract, not the throttle (tested on its own)."""
    import base64

    from accounts.models import ApiClient
    from casemgmt.client_demo import DEMO_CLIENTS

    out = []
    for _org, _name, client_id, secret, _scopes in DEMO_CLIENTS:
        ApiClient.objects.filter(application__client_id=client_id).update(rate_limit_per_minute=1_000_000)
        basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        answer = Client().post(
            "/o/token/", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=f"Basic {basic}"
        )  # the real token endpoint, as the partner does
        assert answer.status_code == 200, (client_id, answer.content)
        out.append((client_id, {"Authorization": f"Bearer {answer.json()['access_token']}"}))
    return out


def _list_path(path: str) -> str | None:
    match = re.match(r"^(/api/v1/[\w-]+/)\{id\}/", path)
    return match.group(1) if match else None


def _split_cookies(headers: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """The WSGI test client sends cookies from its own jar (a Cookie header would be dropped)."""
    rest = {k: v for k, v in headers.items() if k.lower() != "cookie"}
    raw = next((v for k, v in headers.items() if k.lower() == "cookie"), "")
    cookies = dict(part.strip().split("=", 1) for part in raw.split(";") if "=" in part)
    return rest, cookies


def _known_id(app, path: str, headers: dict[str, str]) -> int | None:
    """The first row the principal reads on the operation's own list endpoint."""
    from werkzeug.test import Client as WsgiClient

    base = _list_path(path)
    if base is None:
        return None
    rest, cookies = _split_cookies(headers)
    client = WsgiClient(app)
    for name, value in cookies.items():
        client.set_cookie(name, value)
    response = client.get(base, headers=rest)
    if response.status_code != 200:
        return None
    body = json.loads(response.get_data())
    rows = body.get("results") if isinstance(body, dict) else body
    return rows[0]["id"] if rows and isinstance(rows[0], dict) and "id" in rows[0] else None


def _run(operation, app, headers, statuses: list[int], *, examples: int, path_parameters=None) -> list[str]:
    failures: list[str] = []
    headers, cookies = _split_cookies(headers)

    @hypothesis_settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    @given(case=operation.as_strategy(path_parameters=path_parameters))
    def check(case):
        with transaction.atomic():
            response = case.call(app=app, headers=headers, cookies=cookies)
            statuses.append(response.status_code)
            try:
                case.validate_response(response, checks=CHECKS)
            except (Exception, BaseExceptionGroup) as error:  # collect, keep going: one report of everything
                lines = [line.strip() for line in str(error).splitlines() if line.strip()]
                detail = " | ".join(line for line in lines[1:8] if not line.startswith(("curl", "Reproduce")))
                failures.append(f"{operation.label} -> {response.status_code}: {detail[:400]}")
            transaction.set_rollback(True)

    check()
    return failures


def _funder_reads_a_programme(operations, app, principals, statuses) -> list[str]:
    """Generated queries rarely name a real programme: the funder's one endpoint, once with a real one."""
    from accounts.models import Organisation

    name = "demo-reintegration-fund"
    summary = next(o for o in operations if o.path == "/api/v1/reports/summary/" and o.method.upper() == "GET")
    programme = Organisation.objects.filter(kind=Organisation.Kind.NGO, is_active=True).order_by("pk").first()
    case = summary.Case(query={"organisation": str(programme.pk)})
    response = case.call(app=app, headers=principals[name])
    statuses[name].append(response.status_code)
    try:
        case.validate_response(response, checks=CHECKS)
    except (Exception, BaseExceptionGroup) as error:
        return [f"[{name}] {summary.label} -> {response.status_code}: {str(error)[:400]}"]
    return []


def test_the_whole_schema_holds_for_staff_sessions_and_partner_clients(principals, wsgi_app):
    raw = json.loads(json.dumps(SchemaGenerator(patterns=None).get_schema(request=None, public=True), default=str))
    schema = schemathesis.openapi.from_dict(raw)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 130
    failures: list[str] = []
    statuses: dict[str, list[int]] = {name: [] for name, _headers in principals}
    for name, headers in principals:
        seen = statuses[name]
        for operation in operations:
            found = _run(operation, wsgi_app, headers, seen, examples=GENERATED_EXAMPLES)
            known = _known_id(wsgi_app, operation.path, headers) if "{id}" in operation.path else None
            if known is not None:
                found += _run(
                    operation, wsgi_app, headers, seen, examples=KNOWN_ID_EXAMPLES, path_parameters={"id": known}
                )
            failures += [f"[{name}] {line}" for line in found]
    failures += _funder_reads_a_programme(operations, wsgi_app, dict(principals), statuses)
    for name, seen in statuses.items():
        # not vacuous: every principal stays authenticated and gets through to real rows
        assert 401 not in seen, name
        # staff reach many rows; a partner client reaches its few endpoints
        least = 1 if name.startswith("demo-") else 20
        assert sum(200 <= code < 300 for code in seen) >= least, (name, sorted(set(seen)))
    unique = sorted(set(failures))
    assert not unique, f"{len(unique)} failures:\n" + "\n".join(unique[:120])
