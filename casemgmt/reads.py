"""One way to record that someone read a case, for pages and API responses alike."""

from __future__ import annotations

from django.http import HttpRequest

from . import access, services
from .models import AccessLog, Case


def log_read(request: HttpRequest, case: Case, *, view: str, groups: frozenset[str] | None = None) -> None:
    """Write the AccessLog row for a response that shows case data (ids and groups, no content)."""
    channel = AccessLog.Channel.API if request.path.startswith("/api/") else AccessLog.Channel.UI
    services.access_log_record(
        user=request.user,
        case=case,
        channel=channel,
        view=view,
        shown=groups if groups is not None else access.visible_groups(request.user, case),
    )


def log_reads(request: HttpRequest, case_ids: list[int], *, view: str, groups: frozenset[str]) -> None:
    """One AccessLog row per case shown in a list response, in one insert."""
    from .models import AccessLog as Log

    membership = request.user.membership_or_none
    channel = AccessLog.Channel.API if request.path.startswith("/api/") else AccessLog.Channel.UI
    Log.objects.bulk_create(
        Log(
            user=request.user,
            organisation_id=membership.organisation_id if membership else None,
            case_id=case_id,
            channel=channel,
            view=view,
            shown=sorted(groups),
        )
        for case_id in sorted(set(case_ids))
    )


def file_response(request: HttpRequest, attachment, *, view: str):
    """Send an attachment the caller may read (already checked), logged as a read of its case."""
    from django.http import FileResponse

    log_read(request, attachment.case, view=view, groups=frozenset({"attachment"}))
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
