"""RFC 9457 problem details for every API error, validation and 404 included."""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.fields import get_error_detail
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = _("The resource has changed since you read it: GET it again and retry with its current ETag.")
    default_code = "precondition_failed"


class PreconditionRequired(exceptions.APIException):
    status_code = status.HTTP_428_PRECONDITION_REQUIRED
    default_detail = _("Send If-Match with the ETag of your last read of this resource.")
    default_code = "precondition_required"


class IdempotencyKeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = _("This Idempotency-Key was used for a different request: use a new key for a new request.")
    default_code = "idempotency_key_reused"


def flat_errors(data, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested validation errors as `{"field": ["message"]}`, nested fields joined with dots
    (`answers.0.rating`, `outcome.education`), so every problem has the same `errors` shape."""
    out: dict[str, list[str]] = {}
    if isinstance(data, dict):
        for name, value in data.items():
            out.update(flat_errors(value, f"{prefix}.{name}" if prefix else str(name)))
    elif isinstance(data, list) and all(not isinstance(item, dict | list) for item in data):
        out[prefix or "non_field_errors"] = [str(item) for item in data]
    elif isinstance(data, list):
        for index, item in enumerate(data):
            if item:
                out.update(flat_errors(item, f"{prefix}.{index}" if prefix else str(index)))
    else:
        out[prefix or "non_field_errors"] = [str(data)]
    return out


def problem(*, status_code: int, title: str, detail: str = "", instance: str = "", errors=None) -> dict:
    body = {"type": "about:blank", "title": title, "status": status_code}
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    if errors is not None:
        body["errors"] = errors
    return body


def problem_response(request, *, status_code: int, title: str, detail: str = "") -> JsonResponse:
    """For errors raised outside DRF (URL not found, server error) under /api/."""
    body = problem(status_code=status_code, title=title, detail=detail, instance=request.path)
    return JsonResponse(body, status=status_code, content_type=PROBLEM_CONTENT_TYPE)


def exception_handler(exc, context):
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(get_error_detail(exc))

    response = drf_exception_handler(exc, context)
    request = context.get("request")
    instance = request.path if request is not None else ""
    if request is not None:
        # Problems are JSON whatever the view renders otherwise (YAML schema, Swagger HTML).
        request.accepted_renderer = JSONRenderer()
        request.accepted_media_type = PROBLEM_CONTENT_TYPE
    if response is None:
        # Unexpected: log it with the traceback, answer without revealing anything.
        logger.exception("Unhandled API error", exc_info=exc)
        response = Response(problem(status_code=500, title=_("Server error"), instance=instance), status=500)
        response.content_type = PROBLEM_CONTENT_TYPE
        return response

    if isinstance(exc, exceptions.ValidationError):
        errors = flat_errors(response.data if isinstance(response.data, dict) else {"non_field_errors": response.data})
        body = problem(
            status_code=response.status_code,
            title=_("Invalid input"),
            detail=_("One or more fields are invalid."),
            instance=instance,
            errors=errors,
        )
    else:
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else ""
        body = problem(
            status_code=response.status_code,
            title=status_title(response.status_code),
            detail=str(detail),
            instance=instance,
        )
    response.data = body
    response.content_type = PROBLEM_CONTENT_TYPE
    return response


def status_title(code: int) -> str:
    titles = {
        status.HTTP_400_BAD_REQUEST: _("Bad request"),
        status.HTTP_401_UNAUTHORIZED: _("Not authenticated"),
        status.HTTP_403_FORBIDDEN: _("Forbidden"),
        status.HTTP_404_NOT_FOUND: _("Not found"),
        status.HTTP_405_METHOD_NOT_ALLOWED: _("Method not allowed"),
        status.HTTP_406_NOT_ACCEPTABLE: _("Not acceptable"),
        status.HTTP_409_CONFLICT: _("Conflict"),
        status.HTTP_412_PRECONDITION_FAILED: _("Precondition failed"),
        status.HTTP_415_UNSUPPORTED_MEDIA_TYPE: _("Unsupported media type"),
        status.HTTP_422_UNPROCESSABLE_ENTITY: _("Unprocessable request"),
        status.HTTP_428_PRECONDITION_REQUIRED: _("Precondition required"),
        status.HTTP_429_TOO_MANY_REQUESTS: _("Too many requests"),
    }
    return str(titles.get(code, _("Error")))
