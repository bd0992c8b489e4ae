from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.models import Role

from . import access, selectors
from .api.problems import problem_response
from .health import health
from .models import Stage

# Panels of the apps to the right on the start page (a mentor's mentees and sessions to log),
# registered in their AppConfig.ready(): request -> (template name, context) or None.
HOME_PANELS: list = []


def register_home_panel(panel):
    HOME_PANELS.append(panel)
    return panel


@register_home_panel
def due_panel(request):
    """Everyone who holds follow-ups: theirs, due and overdue and the next week's."""
    import datetime

    from django.utils import timezone

    from .followup_models import OPEN_STATUSES
    from .followup_views import label_of

    user = request.user
    if user.membership_or_none is None:
        return None
    today = timezone.localdate()
    rows = list(
        access.follow_ups_visible_to(user)
        .filter(assignee=user, status__in=OPEN_STATUSES, due_on__lte=today + datetime.timedelta(days=7))
        .select_related("case__participant")
        .order_by("due_on", "pk")[:20]
    )
    for row in rows:
        row.label, row.overdue = label_of(row.kind), row.due_on < today
    return "followups/_home_panel.html", {"rows": rows}


def home(request: HttpRequest) -> HttpResponse:
    """Each role's start page: my cases for team members, the intake queue for managers."""
    user = request.user
    if access.is_authority(user):
        from .boundary_views import authority_home

        return authority_home(request)
    context = {"membership": user.membership_or_none}
    context["panels"] = [panel for panel in (source(request) for source in HOME_PANELS) if panel is not None]
    if access.can_see_case_pages(user):
        cases = selectors.case_list(user=user)
        if user.role == Role.MANAGER:
            context["intake"] = list(cases.filter(stage=Stage.REFERRAL, lead_id__isnull=True)[:20])
            context["case_count"] = cases.count()
        else:
            context["my_cases"] = list(cases.order_by("-viewer_is_lead", "-updated_at")[:20])
    return render(request, "home.html", context)


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    checks = health()
    ok = all(checks.values())
    body = {"status": "ok" if ok else "fail", "checks": {name: "ok" if up else "fail" for name, up in checks.items()}}
    return JsonResponse(body, status=200 if ok else 503)


def _is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith("/api/")


def page_not_found(request: HttpRequest, exception=None) -> HttpResponse:
    if _is_api(request):
        return problem_response(request, status_code=404, title=_("Not found"))
    return render(request, "404.html", status=404)


def permission_denied(request: HttpRequest, exception=None) -> HttpResponse:
    if _is_api(request):
        return problem_response(request, status_code=403, title=_("Forbidden"))
    return render(request, "403.html", status=403)


def bad_request(request: HttpRequest, exception=None) -> HttpResponse:
    if _is_api(request):
        return problem_response(request, status_code=400, title=_("Bad request"))
    return render(request, "400.html", status=400)


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return problem_response(request, status_code=500, title=_("Server error"))
    # No context processors: the failure may be in one of them. The language switcher needs only the
    # CSRF token (from the request's cookie header) and where to come back to.
    from django.middleware.csrf import get_token
    from django.template import loader

    context = {"csrf_token": get_token(request), "switch_next": request.get_full_path()}
    return HttpResponse(loader.get_template("500.html").render(context), status=500)
