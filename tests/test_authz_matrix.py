"""The authorization matrix (issue 10), generated from the URL resolver.

Every UI page and API endpoint x every demo role (+ anonymous) x a case of every scope kind (own case,
another team's, another NGO's, and for the authority: no basis, expired, withdrawn, mandate, consent,
plus a referral in the intake queue). Handbook §4: out of scope is "not found, not forbidden".

- Every pattern of the resolver is collected; the exemptions are listed in EXEMPT_*. A pattern whose
  arguments the matrix cannot fill fails `test_every_pattern_is_mapped`, so the matrix cannot rot.
- Arguments are filled from KWARG_KINDS (by argument name), the DRF viewset's model (API `pk`),
  PK_KINDS (UI `pk`, by url name) and SLUG_VALUES (one check per section slug, form, action).
- The expectation comes from the handbook table, not from casemgmt/access.py: CASE_ROLE (who stands in
  which relation to which case in the world) x READERS (which relation reads which kind of row), and
  the families with rules of their own (the authority's shared view, transfers, information requests,
  exceptional disclosures).
- Out of reach: GET (and the methods of the route: POST-only pages, API PATCH/POST/DELETE) answers 404;
  anonymous: a redirect to the login page, 401 on the API. Never 200, 403 or 500; and no body (whatever
  its status) contains a marker (code, names, national ID, a text) of a case the role may not see.
- In reach: never 403 or 500; read pages (READ_PAGES, API retrieve) answer 200; and every pattern has
  at least one (role, case) that gets through (200, or for POST a redirect or a form error), except
  NO_SMOKE (listed with the reason), so a mis-filled URL cannot make the 404s vacuous.
"""

from __future__ import annotations

import inspect
import re
import tempfile
from dataclasses import dataclass, field

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from tests.authz_world import (
    CASE_KINDS,
    CONSENT,
    EXPIRED,
    INTAKE,
    MANDATE,
    NGO,
    NOBASIS,
    OWN,
    TEAM,
    WITHDRAWN,
    build_world,
)
from tests.conftest import DEMO_USERNAMES

ROLES = [*DEMO_USERNAMES, "anonymous"]
# Roles that stand in no relation to any case of the world (no team row, no organisation, no basis):
# every case is the same to them, so they are asked about three (own, other NGO, mandate) to keep
# the run short. Anonymous is refused before any lookup: one case.
UNRELATED = {"admin", "supervisor", "mentor2", "peermentor"}
# To staff, the authority's no-basis, expired and withdrawn cases are one more case of another team,
# like TEAM (and MANDATE, CONSENT, which they are still asked about): only the authority and the pages
# of the authority families (shared view, information requests, disclosures) are asked about all five.

# --- 1. The patterns --------------------------------------------------------------------------------

# Not part of the matrix: reachable without a session by design, or no case data at all.
EXEMPT_NAMES = {
    "login": "login page",
    "logout": "logout",
    "set_language": "language switch",
    "healthz": "health probe (ok/fail only)",
    "api-schema": "OpenAPI schema (no case data; requires authentication, tested in tests/api)",
    "api-docs": "Swagger UI (no case data)",
}
# o/: the OAuth2 token and revocation endpoints authenticate partner clients, never a session (tested in
# tests/api/test_partner_clients.py).
EXEMPT_PREFIXES = ("admin/", "static/", "media/", "o/")


@dataclass(frozen=True)
class Route:
    name: str
    route: str
    kwargs: tuple[str, ...]
    methods: tuple[str, ...]  # lower-case HTTP methods the check sends
    api: bool
    view: object = field(compare=False, repr=False)


def _walk(patterns, prefix: str = "", namespace: str = ""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), namespace, entry


def _required_methods(view) -> tuple[str, ...] | None:
    """The methods of a `require_http_methods` decorator (require_POST), through the wrappers."""
    seen = view
    while seen is not None:
        closure = inspect.getclosurevars(seen).nonlocals if getattr(seen, "__closure__", None) else {}
        if "request_method_list" in closure:
            return tuple(m.lower() for m in closure["request_method_list"])
        seen = getattr(seen, "__wrapped__", None)
    return None


def _kwargs(route: str) -> tuple[str, ...]:
    return tuple(re.findall(r"<(?:\w+:)?(\w+)>", route) + re.findall(r"\(\?P<(\w+)>", route))


def collect_routes() -> list[Route]:
    routes = []
    for route, namespace, pattern in _walk(get_resolver().url_patterns):
        if pattern.name in EXEMPT_NAMES or route.startswith(EXEMPT_PREFIXES):
            continue
        view = pattern.callback
        api = route.startswith("api/")
        if getattr(view, "actions", None):
            methods = tuple(view.actions)
        elif api:
            methods = ("get",)
        else:
            required = _required_methods(view)
            methods = ("post",) if required == ("post",) else ("get",)
        routes.append(Route(namespace + pattern.name, route, _kwargs(route), methods, api, view))
    return routes


ROUTES = collect_routes()

# --- 2. Filling the arguments --------------------------------------------------------------------------

# Case-bound object kinds (the world holds one per case) and objects of no case (one in the world).
GLOBAL_KINDS = {
    "authority_referral",
    "group_session",
    "partner",
    "opportunity",
    "mentor_profile",
    "user",
    "rule",
    "saved_search",
    "template",
    "import_run",
    "webhook_subscription",
}
KWARG_KINDS = {  # by argument name, whatever the pattern
    "case_id": "case",
    "member_id": "team_member",
    "check_in_pk": "placement_check_in",
    "user_id": "user",
}
PK_KINDS = {  # the `pk` of UI pages, by url name
    "follow-up-detail": "follow_up",
    "follow-up-act": "follow_up",
    "mentoring-mentor-edit": "mentor_profile",
    "mentoring-assignment": "mentor_assignment",
    "mentoring-session-plan": "mentor_assignment",
    "mentoring-session-log-new": "mentor_assignment",
    "mentoring-assignment-action": "mentor_assignment",
    "mentoring-session": "mentoring_session",
    "mentoring-session-log": "mentoring_session",
    "placement-detail": "placement",
    "placement-move": "placement",
    "check-in-record": "placement",
    "partner-detail": "partner",
    "partner-edit": "partner",
    "opportunity-detail": "opportunity",
    "opportunity-edit": "opportunity",
    "families-group": "group_session",
    "families-engagement": "family_engagement",
    "families-engagement-edit": "family_engagement",
    "families-engagement-end": "family_engagement",
    "families-session-plan": "family_engagement",
    "families-session-log-new": "family_engagement",
    "families-referral-new": "family_engagement",
    "families-support-new": "family_engagement",
    "families-session": "counselling_session",
    "families-session-log": "counselling_session",
    "families-member-edit": "family_member",
    "families-member-consent": "family_member",
    "families-engagement-members": "family_engagement",
    "families-engagement-counsellors": "family_engagement",
    "families-referral-edit": "family_referral",
    "subject-export-decide": "subject_export",
    "subject-export-download": "subject_export",
    "subject-export-print": "subject_export",
    "authority-disclosure": "disclosure",
    "disclosure-act": "disclosure",
    "information-request-decide": "information_request",
    "saved-search-delete": "saved_search",
    "transfer-decide": "transfer",
    "outcome-record": "outcome",
    "goal-progress": "goal",
    "attachment-download": "attachment",
    "imports:run": "import_run",
    "imports:confirm": "import_run",
}
PAGE_KINDS = {  # case pages that show (or write) one kind of row: their readers, not the case's
    "case-documents": "attachment",
    "attachment-upload": "attachment",
    "assessment-compare": "assessment",
    "case-history": "history",
    "case-mentoring": "mentor_assignment",
    "case-placements": "placement",
    "employability-edit": "employability",
    "placement-propose": "placement",
    "case-family": "household",
    "families-household-edit": "household",
    "families-member-new": "family_member",
    "families-member-link": "family_member",
    "families-engagement-new": "family_engagement",
}
QUERY = {"assessment-compare": {"a": "assessment", "b": "assessment"}}  # query arguments filled likewise
API_PK_BY_NAME = {  # viewsets whose `pk` is not a row of their queryset's model
    "api-participant": "participant",
}


def _api_model_kinds() -> dict[type, str]:
    """API `pk` → object kind from the viewset's model: the core's record kinds, then by hand."""
    from accounts.models import Organisation, User
    from casemgmt import access
    from casemgmt.boundary_models import AuthorityReferral, ExceptionalDisclosure, InformationRequest
    from casemgmt.casefile import AssessmentTemplate, Attachment
    from casemgmt.followup_models import FollowUp
    from casemgmt.models import Case, CaseTransfer
    from casemgmt.webhook_models import WebhookSubscription
    from families.models import FamilyMember, Household
    from imports.models import ImportRun
    from programs.models import MentorAssignment, MentorProfile, Opportunity

    kinds = {access.record_model(key): key for key in access.RECORD_RULES}
    kinds.update(
        {
            Case: "case",
            Attachment: "attachment",
            CaseTransfer: "transfer",
            FollowUp: "follow_up",
            InformationRequest: "information_request",
            ExceptionalDisclosure: "disclosure",
            AuthorityReferral: "authority_referral",
            MentorAssignment: "mentor_assignment",
            MentorProfile: "mentor_profile",
            Opportunity: "opportunity",
            Household: "household",
            FamilyMember: "family_member",
            Organisation: "partner",
            User: "user",
            AssessmentTemplate: "template",
            ImportRun: "import_run",
            WebhookSubscription: "webhook_subscription",
        }
    )
    return kinds


def _slug_values() -> dict[tuple[str, str], list[str]]:
    from casemgmt import case_views, casefile_views
    from programs.mentoring_services import ASSIGNMENT_STEPS
    from reports.figures import FIGURES

    sections = [s.slug for s in casefile_views.SECTIONS]
    return {
        ("casefile-list", "slug"): sections,
        ("casefile-create", "slug"): sections,
        ("casefile-detail", "slug"): sections,
        ("casefile-edit", "slug"): sections,
        ("case-form", "which"): sorted(case_views.FORMS),
        ("follow-up-act", "action"): ["complete", "snooze", "reassign"],
        ("mentoring-assignment-action", "action"): sorted(ASSIGNMENT_STEPS),
        ("reports:export", "slug"): ["all", sorted(FIGURES)[0]],
        ("reports:export", "fmt"): ["csv", "xlsx"],
        ("imports:template", "kind"): ["partners", "participants"],
        ("imports:template", "fmt"): ["csv", "xlsx"],
    }


@dataclass(frozen=True)
class Check:
    """One URL shape: a route with its slugs fixed and each object argument mapped to a kind."""

    id: str
    route: Route
    fixed: tuple[tuple[str, str], ...]  # slug arguments and their values
    fills: tuple[tuple[str, str], ...]  # argument -> object kind

    @property
    def kind(self) -> str | None:
        """The most specific object the URL names (the `pk` row rather than its case; the section of a
        case-file list; the kind of rows a case page shows)."""
        kinds = dict(self.fills)
        fixed = dict(self.fixed)
        if "pk" not in kinds and "slug" in fixed and self.route.name.startswith("casefile-"):
            from casemgmt.casefile_views import BY_SLUG

            return BY_SLUG[fixed["slug"]].key
        if "pk" not in kinds and self.route.name in PAGE_KINDS:
            return PAGE_KINDS[self.route.name]
        for name in ("pk", "check_in_pk", "member_id", "user_id", "key", "case_id"):
            if name in kinds:
                return kinds[name]
        return None


def build_checks() -> tuple[list[Check], list[str]]:
    from casemgmt import casefile_views

    model_kinds = _api_model_kinds()
    slugs = _slug_values()
    section_kind = {s.slug: s.key for s in casefile_views.SECTIONS}
    checks, unmapped = [], []
    for route in ROUTES:
        variants: list[dict[str, str]] = [{}]
        for arg in route.kwargs:
            if (route.name, arg) in slugs:
                variants = [{**v, arg: value} for v in variants for value in slugs[(route.name, arg)]]
        for fixed in variants:
            fills, missing = {}, []
            for arg in route.kwargs:
                if arg in fixed:
                    continue
                if arg in KWARG_KINDS:
                    fills[arg] = KWARG_KINDS[arg]
                elif arg == "key" and route.name == "orgsettings:rule-edit":
                    fills[arg] = "rule"
                elif arg == "pk" and route.name in ("casefile-detail", "casefile-edit"):
                    fills[arg] = section_kind[fixed["slug"]]
                elif arg == "pk" and route.api:
                    base = route.name.rsplit("-", 1)[0]
                    model = route.view.cls.queryset.model
                    kind = API_PK_BY_NAME.get(base) or model_kinds.get(model)
                    if kind is None:
                        missing.append(arg)
                    else:
                        fills[arg] = kind
                elif arg == "pk" and route.name in PK_KINDS:
                    fills[arg] = PK_KINDS[route.name]
                else:
                    missing.append(arg)
            if missing:
                unmapped.append(f"{route.name} ({route.route}): {', '.join(missing)}")
                continue
            label = route.name + "".join(f"[{v}]" for v in fixed.values())
            checks.append(Check(label, route, tuple(fixed.items()), tuple(fills.items())))
    return checks, unmapped


CHECKS, UNMAPPED = build_checks()

# --- 3. The expectation (handbook §4) ---------------------------------------------------------------------

LEAD, CW, PO, CO, ME, MG = "lead", "caseworker", "placement_officer", "counsellor", "mentor", "manager"
AUTHORITY_CASES = (NOBASIS, EXPIRED, WITHDRAWN, MANDATE, CONSENT)
NORTHERN_CASES = (OWN, TEAM, *AUTHORITY_CASES, INTAKE)
# Who stands in which relation to each case of the world (see tests/authz_world.py).
CASE_ROLE: dict[str, dict[str, str]] = {
    OWN: {"caseworker": LEAD, "placement": PO, "counsellor": CO, "mentor": ME, "manager": MG},
    TEAM: {"colleague": LEAD, "manager": MG},
    NGO: {"caseworker2": LEAD},
    **{kind: {"colleague": LEAD, "manager": MG} for kind in AUTHORITY_CASES},
    INTAKE: {"manager": MG},
}
EVERY_RELATION = frozenset({LEAD, CW, PO, CO, ME, MG})
# Which relation reads which kind of row (handbook §4's table; the world's goal is an ideology goal,
# its legal event a hearing, its consent a family-contact consent, its attachment a case document).
READERS: dict[str, frozenset[str]] = {
    "case": EVERY_RELATION,
    "participant": EVERY_RELATION,
    "team_member": EVERY_RELATION,
    "safety_flag": EVERY_RELATION,
    "goal": frozenset({LEAD, CW, ME, MG}),
    "note": frozenset({LEAD, CW, PO, MG}),
    "assessment": frozenset({LEAD, CW, MG}),
    "legal_event": frozenset({LEAD, CW, MG}),
    "relapse_event": frozenset({LEAD, CW, MG}),
    "conflict_history": frozenset({LEAD, CW, MG}),
    "consent": frozenset({LEAD, CW, CO, MG}),
    "mandate": frozenset({LEAD, CW, MG}),
    "service_referral": frozenset({LEAD, CW, MG}),
    "outcome": frozenset({LEAD, CW, PO, MG}),
    "attachment": frozenset({LEAD, CW, MG}),
    "mentor_assignment": frozenset({LEAD, CW, ME, MG}),
    "mentoring_session": frozenset({LEAD, CW, ME, MG}),
    "employability": frozenset({LEAD, CW, PO, MG}),
    "placement": frozenset({LEAD, CW, PO, MG}),
    "placement_check_in": frozenset({LEAD, CW, PO, MG}),
    "household": frozenset({LEAD, CW, CO, MG}),
    "household_member": frozenset({LEAD, CW, CO, MG}),
    "family_member": frozenset({LEAD, CW, CO, MG}),
    "family_engagement": frozenset({LEAD, CW, CO, MG}),
    "counselling_session": frozenset({LEAD, CW, CO, MG}),
    "family_referral": frozenset({LEAD, CW, CO, MG}),
    "family_support": frozenset({LEAD, CW, CO, MG}),
    "follow_up": frozenset({LEAD, CW, MG}),  # the lead holds it; team caseworkers and the manager see it
    "history": frozenset({LEAD, CW, MG}),  # change history and the case's access log
}
# A case-file section's list opens with its group, showing only the rows the reader may read: every
# team member reads the plan (goals of their domains), a placement officer the condition events.
LIST_READERS = {"goal": EVERY_RELATION, "legal_event": READERS["legal_event"] | {PO}}
SHARED_PREFIXES = ("shared-case", "api-shared-case")
SHARED_REACH = {"authority": {MANDATE, CONSENT}}  # a current basis; nobody else has a shared view
# Endpoints of employers' and training providers' API clients (issue 13; scope matrix and the clients'
# own tests in tests/api/test_partner_clients.py).
PARTNER_CLIENT_PREFIXES = ("api-partner-placement", "api-partner-opportunity", "api-webhook-subscription")


def reaches(check: Check, role: str, case_kind: str) -> bool:
    """May `role` reach the object of kind `check.kind` belonging to a case of `case_kind`?"""
    kind, name = check.kind, check.route.name
    if role == "anonymous":
        return False
    if name.startswith(SHARED_PREFIXES):
        return case_kind in SHARED_REACH.get(role, ())
    if name.startswith(PARTNER_CLIENT_PREFIXES):  # partner clients only: 404 to every staff user
        return False
    if name.startswith("api-referral-"):  # the intake: referral and screening stages
        return case_kind == INTAKE and CASE_ROLE[case_kind].get(role) in (LEAD, CW, MG)
    if kind == "transfer":  # the managers of the sending and receiving organisations
        return role == "manager" and case_kind in NORTHERN_CASES
    if kind == "information_request":  # the case's managers; the authority its own organisation's requests
        own = {CONSENT, MANDATE, EXPIRED, WITHDRAWN}
        return (role == "manager" and case_kind in NORTHERN_CASES) or (role == "authority" and case_kind in own)
    if kind == "disclosure":  # managers and the auditor of the NGO; the authority once delivered
        if name in ("authority-disclosure", "api-exceptional-disclosure-detail"):  # the authority's snapshot
            return role == "authority" and case_kind == MANDATE
        return (role in ("manager", "auditor") and case_kind in NORTHERN_CASES) or (
            role == "authority" and case_kind == MANDATE
        )
    if name == "dpo-case-history":  # who changed what and when, without values: the auditor's
        return role == "auditor" and case_kind in NORTHERN_CASES
    if kind == "subject_export":  # the lead requests and downloads; the manager decides
        relation = CASE_ROLE[case_kind].get(role)
        return relation == (MG if name == "subject-export-decide" else LEAD)
    relation = CASE_ROLE[case_kind].get(role)
    readers = READERS[kind]
    if name in ("casefile-list", "casefile-create") and kind in LIST_READERS:
        readers = LIST_READERS[kind]
    return relation is not None and relation in readers


# What a role may see of a case anywhere (lists, panels, other cases' pages): FULL (any of it), CODE
# (the case code only: an authority's own information requests, the auditor's disclosure decisions),
# or nothing.
FULL, CODE = "full", "code"


def may_see(role: str, case_kind: str) -> str | None:
    if CASE_ROLE[case_kind].get(role):
        return FULL
    if role == "authority" and case_kind in SHARED_REACH["authority"]:
        return FULL
    if role == "authority" and case_kind in (EXPIRED, WITHDRAWN, INTAKE):
        return CODE  # its requests made while the case was shared; the status of its own referral
    if role == "auditor" and case_kind in NORTHERN_CASES:
        return CODE  # the organisation's exceptional disclosures and access log: ids and codes
    return None


# Pages that only read: in reach they must answer 200 (the others may refuse a write with 404).
READ_PAGES = {
    "case-detail",
    "casefile-list",
    "casefile-detail",
    "case-documents",
    "case-mentoring",
    "case-placements",
    "case-family",
    "case-follow-ups",
    "mentoring-session",
    "placement-detail",
    "families-engagement",
    "families-session",
    "follow-up-detail",
    "shared-case",
    "authority-disclosure",
    "attachment-download",
}
# Patterns for which no role of the matrix gets through with the world's objects, and why.
NO_SMOKE = {
    "transfer-decide": "only the receiving NGO's manager decides; the world's transfers go to a third NGO",
    "disclosure-act": "an empty POST names no action: 404 for everyone (approve/reject/deliver tested elsewhere)",
    "casefile-create[outcomes]": "outcomes are made by the exit, never added by hand (404 by design)",
    "casefile-edit[outcomes]": "outcomes are recorded on their own page (404 by design)",
    "casefile-edit[assessments]": "assessments are kept as recorded (404 by design)",
    "api-transfer-accept": "same: the receiving manager only",
    "api-transfer-refuse": "same: the receiving manager only",
    "families-group": "the facilitator's page; the world's group session is an extra counsellor's",
    "reports:cases": "a drill-down needs its figure and key (role-tested in tests/reports)",
    "reports:export[all][csv]": "every table exists as XLSX only (404 by design)",
    "two_factor:qr": "the QR image exists only during enrolment (tests/security/test_two_factor.py)",
    **dict.fromkeys(
        (
            "api-partner-placement-list",
            "api-partner-placement-detail",
            "api-partner-placement-move",
            "api-partner-opportunity-list",
            "api-partner-opportunity-detail",
            "api-webhook-subscription-list",
            "api-webhook-subscription-detail",
            "api-webhook-subscription-deliveries",
            "api-webhook-subscription-rotate-secret",
        ),
        "a partner client's endpoint: 404 to every staff user (clients: tests/api/test_partner_clients.py)",
    ),
}

# --- 4. The world and the clients ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Built once per module (per xdist worker) inside a transaction that is rolled back at the end;
    each test runs in a savepoint of it (pytest-django's `db`)."""
    media = tempfile.mkdtemp(prefix="authz-matrix-media-")
    with django_db_blocker.unblock():
        from django.test import override_settings

        atomic = transaction.atomic()
        atomic.__enter__()
        atomic._from_testcase = True  # services may open durable blocks, as under TestCase
        try:
            with override_settings(MEDIA_ROOT=media):
                w = build_world(media)
            clients = {}
            for role in ROLES:
                user = w.users.get(role)
                ui, api = Client(), APIClient()
                if user is not None:
                    ui.force_login(user)
                    api.force_authenticate(user)
                clients[role] = (ui, api)
            w.clients = clients
        except BaseException:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            raise
    yield w
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        atomic.__exit__(None, None, None)


@pytest.fixture(autouse=True)
def _media_root(request, settings, tmp_path):
    """The world's uploads stay readable in the matrix (instead of conftest's per-test folder)."""
    if "world" in request.fixturenames:
        settings.MEDIA_ROOT = request.getfixturevalue("world").media_root
    else:
        settings.MEDIA_ROOT = tmp_path / "media"


def _url(check: Check, world, case_kind: str) -> str | None:
    from django.urls import reverse

    values = dict(check.fixed)
    for arg, kind in check.fills:
        if kind in GLOBAL_KINDS:
            value = world.globals.get(kind)
            if kind == "template":
                from casemgmt.casefile import AssessmentTemplate

                value = AssessmentTemplate.objects.values_list("pk", flat=True).first()
        else:
            value = world.objects[case_kind].get(kind)
        if value is None:
            return None
        values[arg] = value
    url = reverse(check.route.name, kwargs=values)
    query = {arg: world.objects[case_kind].get(kind) for arg, kind in QUERY.get(check.route.name, {}).items()}
    if query:
        if None in query.values():
            return None
        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return url


def _send(world, role: str, check: Check, method: str, url: str):
    ui, api = world.clients[role]
    if check.route.api:
        return getattr(api, method)(url, {}, format="json") if method != "get" else api.get(url)
    return getattr(ui, method)(url)


def _forbidden_markers(world, role: str, fill_case: str | None, fill_reached: bool) -> dict[str, list[str]]:
    """Markers that must not appear in the body: of every case the role may not see (its code too,
    unless it may see the code), and of the URL's own case when it is out of reach."""
    out = {}
    for kind in CASE_KINDS:
        level = may_see(role, kind)
        markers = world.markers[kind]
        if (kind == fill_case and not fill_reached) or level is None:
            out[kind] = list(markers.values())
        elif level == CODE:
            out[kind] = [v for k, v in markers.items() if k != "code"]
    return out


def _leaks(body: str, forbidden: dict[str, list[str]]) -> list[str]:
    return [f"{kind}:{m}" for kind, markers in forbidden.items() for m in markers if m in body]


def _ok_out_of_reach(check: Check, role: str, response) -> bool:
    if role == "anonymous":
        if check.route.api:  # 415: the OAuth2 backend parses a body the view does not accept (multipart only)
            return response.status_code == 401 or (response.status_code == 415 and not _accepts_json(check))
        return response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    return response.status_code == 404


def _accepts_json(check: Check) -> bool:
    return any("json" in parser.media_type for parser in check.route.view.cls().get_parsers())


def _body(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8", "replace")
    return response.content.decode("utf-8", "replace")


# --- 5. The tests -----------------------------------------------------------------------------------


def test_every_pattern_is_mapped():
    """A new URL pattern must be mapped (or exempted) before it ships: the matrix cannot rot."""
    assert UNMAPPED == [], "Map these arguments in tests/test_authz_matrix.py:\n" + "\n".join(UNMAPPED)
    names = {c.route.name for c in CHECKS}
    assert {"case-detail", "api-notes-detail", "shared-case", "api-placement-detail"} <= names
    assert len(CHECKS) > 150
    assert set(NO_SMOKE) <= names | {c.id for c in CHECKS}, set(NO_SMOKE) - names
    assert set(READ_PAGES) <= names, set(READ_PAGES) - names


@pytest.mark.django_db
def test_the_world_has_an_object_of_every_kind_for_every_case(world):
    case_bound = {k for c in CHECKS for _, k in c.fills if k not in GLOBAL_KINDS}
    for kind in CASE_KINDS:
        missing = case_bound - set(world.objects[kind])
        if kind == INTAKE:  # a fresh referral: the case itself only
            assert missing == case_bound - {"case", "participant"}, missing
        else:
            assert not missing, (kind, missing)
    assert set(READERS) >= case_bound - {"transfer", "information_request", "disclosure", "subject_export"}
    assert not [(r, k) for r in UNRELATED for k in CASE_KINDS if CASE_ROLE[k].get(r) or may_see(r, k)]


@pytest.mark.django_db
@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.id)
def test_matrix(check, world):
    failures, reached, methods = [], [], check.route.methods
    case_bound = any(kind not in GLOBAL_KINDS for _, kind in check.fills)
    authority_family = check.route.name.startswith(SHARED_PREFIXES) or check.kind in (
        "information_request",
        "disclosure",
    )
    in_reach_calls = []
    for role in ROLES:
        # anonymous is refused before any object is looked up: one case is enough
        kinds = [OWN] if role == "anonymous" else (CASE_KINDS if case_bound else [None])
        if role in UNRELATED and case_bound:
            kinds = [OWN, NGO, MANDATE]
        elif role != "authority" and case_bound and not authority_family:
            kinds = [k for k in kinds if k not in (NOBASIS, EXPIRED, WITHDRAWN)]
        for case_kind in kinds:
            url = _url(check, world, case_kind or OWN)
            if url is None:
                continue  # INTAKE has no rows
            if case_kind is not None and reaches(check, role, case_kind):
                in_reach_calls.append((role, case_kind, url))
                continue
            expect_404 = case_kind is not None or role == "anonymous"
            for method in methods:
                response = _send(world, role, check, method, url)
                status = response.status_code
                where = f"{method.upper()} {url} as {role} on {case_kind}"
                if expect_404 and not _ok_out_of_reach(check, role, response):
                    failures.append(f"{where}: {status} (expected 404/login)")
                elif status in (403, 500):
                    failures.append(f"{where}: {status}")
                leaks = _leaks(_body(response), _forbidden_markers(world, role, case_kind, False))
                if leaks:
                    failures.append(f"{where}: body shows {leaks}")
                if not expect_404 and status in (200, 201, 204, 302, 400):
                    reached.append((role, case_kind, method, status))
    # in reach, last (a write that gets through must not change what the 404 checks saw)
    for role, case_kind, url in in_reach_calls:
        for method in methods:
            response = _send(world, role, check, method, url)
            status = response.status_code
            where = f"{method.upper()} {url} as {role} on {case_kind}"
            if status in (403, 500):
                failures.append(f"{where}: {status}")
            if method == "get" and status != 200 and (check.route.name in READ_PAGES or check.route.api):
                failures.append(f"{where}: {status} (a reader must get 200)")
            leaks = _leaks(_body(response), _forbidden_markers(world, role, case_kind, True))
            if leaks:
                failures.append(f"{where}: body shows {leaks}")
            if status == 200 or (method != "get" and status in (201, 204, 302, 400)):
                reached.append((role, case_kind, method, status))
    if check.route.name not in NO_SMOKE and check.id not in NO_SMOKE:
        assert reached, f"{check.id}: no role gets through; the URL fill is probably wrong"
    assert not failures, "\n".join(failures)
