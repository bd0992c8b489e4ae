"""The OpenAPI contract (issue 13): problem details, safe-write headers, scopes and examples for every operation.

- `ContractSchema` (DEFAULT_SCHEMA_CLASS) adds to each operation: the RFC 9457 `Problem` responses that
  can happen to it (400, 401, 403, 404, 406, 429 everywhere; 415 with a body; 422 on POST for a reused
  Idempotency-Key; 412 and 428 on conditional writes), the `If-Match` and `Idempotency-Key` request
  headers, and the `ETag` response header of single resources and of conditional writes.
- `ScopedOAuth2Scheme` lists, for an operation, the OAuth2 client-credentials scopes of its view
  (`required_scopes`: a list for the whole view, or a mapping by action or HTTP method, DOT's
  `TokenHasScope` convention). An operation without declared scopes lists the staff session only.
- `add_examples` (a postprocessing hook) gives every request body and 2xx response without a
  hand-written example one built from the schema and a table of synthetic values by property name, so
  examples follow the serializers as they change (the contract test validates them against the schema).
"""

from __future__ import annotations

import copy

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from .problems import PROBLEM_CONTENT_TYPE, status_title

PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details.",
    "properties": {
        "type": {"type": "string", "description": "A URI reference naming the problem type", "example": "about:blank"},
        "title": {"type": "string", "description": "A short summary of the problem type"},
        "status": {"type": "integer", "description": "The HTTP status code"},
        "detail": {"type": "string", "description": "What happened, for this occurrence"},
        "instance": {"type": "string", "description": "The path of the request"},
        "errors": {
            "type": "object",
            "description": "Field messages of a 400 (nested fields joined with dots, e.g. `answers.0.rating`)",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
    "required": ["type", "title", "status"],
}

PROBLEM_DESCRIPTIONS = {
    400: "Invalid input: field messages under `errors`",
    401: "Not authenticated (no session, no valid bearer token)",
    403: "Authenticated but refused: a missing scope, a failed CSRF check",
    404: "Not found, or outside the caller's scope (the same answer)",
    406: "The Accept header asks for a format the API does not serve",
    412: "If-Match does not match the current ETag: the resource changed since it was read",
    415: "Unsupported request body media type",
    422: "The Idempotency-Key was used before for a different request",
    428: "If-Match is required for partner clients on this write",
    429: "Too many requests: wait for Retry-After seconds",
}

PROBLEM_DETAILS = {
    400: "One or more fields are invalid.",
    401: "Authentication credentials were not provided.",
    403: "You do not have permission to perform this action.",
    404: "No object matches the given query.",
    406: "Could not satisfy the request Accept header.",
    412: "The resource has changed since you read it: GET it again and retry with its current ETag.",
    415: 'Unsupported media type "text/plain" in request.',
    422: "This Idempotency-Key was used for a different request: use a new key for a new request.",
    428: "Send If-Match with the ETag of your last read of this resource.",
    429: "Request was throttled. Expected available in 30 seconds.",
}

IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description=(
        "The ETag of your last read of this resource (strong comparison; `*` for any current state). "
        "A stale tag answers 412. Required for partner clients (428 without it); staff sessions may omit it."
    ),
)
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description=(
        "A unique key per intended request (e.g. a UUID, 1-255 visible ASCII characters). A retry with the "
        "same key and body within 24 hours gets the first answer (header `Idempotent-Replayed: true`) and "
        "makes no second record; the same key with another body answers 422."
    ),
)
ETAG_HEADER = {
    "description": "A strong validator of the resource's stored state: send it back in If-Match to write.",
    "schema": {"type": "string"},
}
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def _model_field(field):
    meta = getattr(getattr(field, "parent", None), "Meta", None)
    model = getattr(meta, "model", None)
    if model is None or not field.source or "." in field.source or field.source == "*":
        return None
    try:
        return model._meta.get_field(field.source)
    except Exception:  # a property or an annotation, not a column
        return None


class ContractSchema(AutoSchema):
    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        # DRF drops `allow_blank` from read-only model fields, but a blank column ("" for "not recorded
        # yet": a screening decision, an income band) is still answered: say so in the schema.
        if isinstance(field, serializers.ChoiceField) and field.read_only and not field.allow_blank:
            column = _model_field(field)
            if column is not None and column.blank and not column.null:
                field = copy.copy(field)
                field.allow_blank = True
        return super()._map_serializer_field(field, direction, bypass_extensions)

    def _is_conditional(self) -> bool:
        check = getattr(self.view, "is_conditional", None)
        return bool(check and check(self.method))

    def _has_etag(self) -> bool:
        if self._is_conditional():
            return True
        if self.method != "GET":
            return False
        action = getattr(self.view, "action", None)
        if action is None:  # an APIView
            return getattr(self.view, "etag_from_content", False)
        return action == "retrieve"

    def get_override_parameters(self):
        parameters = list(super().get_override_parameters())
        if self._is_conditional():
            parameters.append(IF_MATCH)
        if self.method == "POST":
            parameters.append(IDEMPOTENCY_KEY)
        return parameters

    def problem_statuses(self, operation) -> list[int]:
        statuses = [400, 401, 403, 404, 406, 429]
        if self.method in BODY_METHODS:
            statuses.append(415)
        if self.method == "POST":
            statuses.append(422)
        if self._is_conditional():
            statuses += [412, 428]
        return sorted(statuses)

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        component = ResolvedComponent(
            name="Problem", type=ResolvedComponent.SCHEMA, object="Problem", schema=PROBLEM_SCHEMA
        )
        self.registry.register_on_missing(component)
        responses = operation.setdefault("responses", {})
        for code in self.problem_statuses(operation):
            example = {
                "type": "about:blank",
                "title": status_title(code),
                "status": code,
                "detail": PROBLEM_DETAILS[code],
                "instance": path,
            }
            if code == 400:
                example["errors"] = {"referral_date": ["The referral date cannot be in the future."]}
            response = {
                "description": PROBLEM_DESCRIPTIONS[code],
                "content": {
                    PROBLEM_CONTENT_TYPE: {"schema": component.ref, "examples": {"Problem": {"value": example}}}
                },
            }
            if code == 429:
                response["headers"] = {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}}
            responses.setdefault(str(code), response)
        if self._has_etag():
            for code, response in responses.items():
                if code.startswith("2") and code != "204":
                    response.setdefault("headers", {})["ETag"] = ETAG_HEADER
        return operation


def declared_scopes(view, method: str) -> list[str] | None:
    """The scopes a view declares for this operation (`required_scopes`, a list or a mapping by action
    or HTTP method, `*` for the rest; or `get_required_scopes()`)."""
    getter = getattr(view, "get_required_scopes", None)
    try:
        scopes = getter() if callable(getter) else getattr(view, "required_scopes", None)
    except Exception:  # a getter that needs a live request: fall back to the attribute
        scopes = getattr(view, "required_scopes", None)
    if isinstance(scopes, dict):
        action = getattr(view, "action", None)
        for key in (action, method.lower(), method.upper(), "*"):
            if key is not None and key in scopes:
                scopes = scopes[key]
                break
        else:
            scopes = None
    return sorted(scopes) if scopes else None


class ScopedOAuth2Scheme(OpenApiAuthenticationExtension):
    target_class = "casemgmt.api.clients.ClientAuthentication"  # the partner clients' bearer tokens
    match_subclasses = True
    name = "oauth2"
    priority = 1  # over drf-spectacular's own DOT extension, which reads TokenHasScope permissions only

    def get_security_requirement(self, auto_schema):
        scopes = declared_scopes(auto_schema.view, auto_schema.method)
        return None if scopes is None else {self.name: scopes}

    def get_security_definition(self, auto_schema):
        return {
            "type": "oauth2",
            "description": "Partner systems: OAuth2 client credentials, registered by the system administrator.",
            "flows": {
                "clientCredentials": {"tokenUrl": "/o/token/", "scopes": dict(settings.OAUTH2_PROVIDER["SCOPES"])}
            },
        }


# --- Examples -----------------------------------------------------------------------------------------

# Synthetic values by property name (never a real person: names as in the demo data).
VALUES: dict[str, object] = {
    "case_code": "TNG-2026-0042",
    "given_name_latin": "Nadia",
    "family_name_latin": "Essafi",
    "given_name_arabic": "نادية",
    "family_name_arabic": "الصافي",
    "given_name": "Rachid",
    "family_name": "Essafi",
    "name_arabic": "رشيد الصافي",
    "participant_first_name": "Nadia",
    "first_name": "Salma",
    "last_name": "Idrissi-Nour",
    "username": "s.idrissi",
    "name": "Salma Idrissi-Nour",
    "organisation": "Northern Reintegration Centre",
    "programme": "Northern Reintegration Centre",
    "partner": 7,
    "city": "TNG",
    "cities": ["TNG", "TET"],
    "languages": ["ar", "fr"],
    "language": "ar",
    "email": "s.idrissi@northern-ngo.example.org",
    "phone": "+212 600 000 000",
    "address": "12, rue des Orangers, Tangier",
    "national_id": "ZZ104512",
    "reason": "The participant asked to continue the programme closer to the family's home.",
    "referral_reason": "Released after sentence; the family asked for support.",
    "decision_reason": "The receiving centre has capacity and the participant's consent is recorded.",
    "end_reason": "Goals of the engagement met.",
    "description": "Hearing at the court of first instance, Tangier.",
    "summary": "Talked about the job search and the family situation; next step agreed.",
    "note": "Called the participant; appointment confirmed for Tuesday.",
    "notes": "Working part-time in a warehouse; lives with his mother.",
    "text": "Participant attends sessions regularly and engages with the plan.",
    "title": "Warehouse assistant",
    "purpose": "Probation supervision of release conditions",
    "legal_basis": "Court order of 3 November 2026 (danger to others), second approver: the centre's DPO",
    "step_plan": "Three sessions with the mother, then a joint session with the participant.",
    "situation": "Lives with the mother and two younger siblings.",
    "contact_note": "Prefers calls after 17:00.",
    "vulnerability_note": "Needs support with administrative letters.",
    "qualifications": "Licence in Islamic studies; trained in mentoring young adults.",
    "training": "Mentor training, 2025 cohort.",
    "requirements": "Driving licence B; able to lift 20 kg.",
    "issues": "None reported by the employer.",
    "outcome": "Appointment with the housing office secured.",
    "provider": "Tangier municipal housing office",
    "reference": "PROB-2026-1187",
    "certificate_name": "Forklift operator certificate",
    "original_name": "consent-form-signed.pdf",
    "content_type": "application/pdf",
    "record_type": "case",
    "proposal_note": "Shared languages and the same city; the participant asked for a scholar.",
    "kind": None,  # from the enum when there is one
    "code": "beliefs",
    "risk_score": 7,
    "capacity": 4,
    "free": 2,
    "free_places": 2,
    "taken": 1,
    "places": 3,
    "score": 85,
    "member_count": 4,
    "rating": 2,
    "progress_rating": 3,
    "duration_minutes": 60,
    "hours_per_week": 30,
    "participant_satisfaction": 4,
    "partner_satisfaction": 4,
    "size": 184320,
    "page_size": 50,
    "period": "2026-Q3",
    "next": None,
    "previous": None,
    "satisfied_by": "contact",
    "date_of_birth": "1994-03-12",
    "own_consent_expires_on": "2027-11-01",
    "expires_on": "2027-11-01",
    "until": "2026-12-01",
}
DATE, DATETIME = "2026-11-02", "2026-11-02T09:30:00Z"


def _resolve(schema: dict, components: dict) -> dict:
    while "$ref" in schema:
        schema = components["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def example_for(schema: dict, components: dict, *, name: str = "", mode: str = "response", depth: int = 0):
    """A value matching `schema`: from VALUES by property name where it fits, else by type and format."""
    schema = _resolve(schema, components)
    if depth > 16:
        return None
    for combinator in ("allOf", "oneOf", "anyOf"):
        if schema.get(combinator):
            return example_for(schema[combinator][0], components, name=name, mode=mode, depth=depth + 1)
    if "example" in schema:
        return schema["example"]
    if schema.get("enum"):
        choices = [value for value in schema["enum"] if value not in (None, "")]
        return choices[0] if choices else schema["enum"][0]
    kind = schema.get("type")
    known = VALUES.get(name)
    if kind == "object" or "properties" in schema:
        skip = "readOnly" if mode == "request" else "writeOnly"
        value = {}
        for prop, sub in schema.get("properties", {}).items():
            if _resolve(sub, components).get(skip) or sub.get(skip):
                continue
            value[prop] = example_for(sub, components, name=prop, mode=mode, depth=depth + 1)
        extra = schema.get("additionalProperties")
        if not value and isinstance(extra, dict):
            value["key"] = example_for(extra, components, name="", mode=mode, depth=depth + 1)
        return value
    if kind == "array":
        if isinstance(known, list):
            return known
        return [example_for(schema.get("items", {}), components, name=name, mode=mode, depth=depth + 1)]
    if kind == "boolean":
        return True
    if kind in ("integer", "number"):
        if isinstance(known, int) and not isinstance(known, bool):
            value = known
        else:
            value = 42 if name in ("id", "") or name.endswith("_id") else 17
        low, high = schema.get("minimum"), schema.get("maximum")
        if low is not None and value < low:
            value = low
        if high is not None and value > high:
            value = high
        return int(value) if kind == "integer" else float(value)
    if kind == "string":
        fmt = schema.get("format")
        if fmt in ("date", "date-time") and isinstance(known, str):
            return known
        if fmt == "date":
            return DATE
        if fmt == "date-time":
            return DATETIME
        if fmt == "email":
            return VALUES["email"]
        if fmt == "uri":
            return "https://casemgmt.example.org/api/v1/cases/?cursor=cD0xMjM%3D"
        if fmt == "binary":
            return "%PDF-1.7 (file content)"
        if fmt == "decimal":
            return "1.250"
        if fmt == "uuid":
            return "0b6f0c3e-5d4a-4b8e-9a51-3f1d2c7e8a90"
        value = known if isinstance(known, str) else f"Example {name.replace('_', ' ')}".strip()
        if schema.get("maxLength"):
            value = value[: schema["maxLength"]]
        return value
    if schema.get("nullable"):
        return None
    return known if known is not None else "example"


def _fill(content: dict, components: dict, mode: str) -> None:
    for media in content.values():
        if "examples" in media or "example" in media or "schema" not in media:
            continue
        media["examples"] = {"Example": {"value": example_for(media["schema"], components, mode=mode)}}


def add_examples(result, generator, request, public):
    """drf-spectacular postprocessing hook: an example for every body and 2xx answer that lacks one."""
    components = result.get("components", {})
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            body = operation.get("requestBody", {}).get("content")
            if body:
                _fill(body, components, "request")
            for code, response in operation.get("responses", {}).items():
                if code.startswith("2") and response.get("content"):
                    _fill(response["content"], components, "response")
    return result


def openapi_to_jsonschema(schema: dict, components: dict, *, mode: str = "response", depth: int = 0) -> dict:
    """An OpenAPI 3.0 schema as plain JSON Schema (refs inlined, `nullable` as a null type, read-only
    properties dropped from requests and write-only ones from responses), to validate examples."""
    schema = copy.deepcopy(_resolve(schema, components))
    if depth > 12:
        return {}
    skip = "readOnly" if mode == "request" else "writeOnly"

    def convert(sub):
        return openapi_to_jsonschema(sub, components, mode=mode, depth=depth + 1)

    dropped = {k for k, v in schema.get("properties", {}).items() if _resolve(v, components).get(skip) or v.get(skip)}
    out = {}
    for key, value in schema.items():
        if key == "properties":
            out[key] = {k: convert(v) for k, v in value.items() if k not in dropped}
        elif key == "required":
            out[key] = [k for k in value if k not in dropped]
        elif key in ("items", "additionalProperties") and isinstance(value, dict):
            out[key] = convert(value)
        elif key in ("allOf", "oneOf", "anyOf"):
            out[key] = [convert(v) for v in value]
        elif key not in ("nullable", "readOnly", "writeOnly", "example", "discriminator", "xml", "externalDocs"):
            out[key] = value
    if schema.get("nullable"):
        out = {"anyOf": [out, {"type": "null"}]}
    return out
