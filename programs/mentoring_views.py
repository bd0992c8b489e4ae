"""Mentoring pages: transport only. Parse, ask `mentoring_access`, call a service, render."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.forms import apply_errors
from accounts.models import Role, User
from casemgmt import access
from casemgmt.access import G
from casemgmt.casefile_views import case_links, visible_sections
from casemgmt.reads import log_read

from . import mentoring_access as ma
from . import mentoring_selectors as selectors
from . import mentoring_services as services
from .mentoring_forms import MentorProfileForm, NewMentorForm, ProposeForm, ReasonForm, SessionLogForm, SessionPlanForm
from .models import MentorProfile


def _case_context(request, case, **context) -> dict:
    return {
        "case": case,
        "sections": visible_sections(request.user, case),
        "case_links": case_links(request.user, case),
        **context,
    }


def _goals(user, case):
    return access.case_records_visible_to(user, case, "goal").filter(domain="ideology")


# --- Home pages ---------------------------------------------------------------------------


def mentoring_home(request: HttpRequest) -> HttpResponse:
    """The mentor's portal, the manager's approval queue, or the supervisor's mentors."""
    user = request.user
    if not ma.can_see_mentoring_home(user):
        raise Http404
    if user.role == Role.MENTOR:
        return render(request, "programs/mentoring/portal.html", {"panel": selectors.mentor_portal(user)})
    if user.role == Role.MANAGER:
        active = ma.assignments_visible_to(user).filter(status="active").select_related("case__participant", "mentor")
        return render(
            request,
            "programs/mentoring/manager.html",
            {"queue": selectors.manager_queue(user), "active": active.order_by("case__participant__case_code")},
        )
    return render(
        request,
        "programs/mentoring/supervision.html",
        {"mentors": selectors.supervision(user), "can_add": ma.unprofiled_mentors(user).exists()},
    )


# --- A case's mentoring -------------------------------------------------------------------


def case_mentoring(request: HttpRequest, case_id: int) -> HttpResponse:
    case = access.get_case_for_user(request.user, case_id)
    if G.MENTORING not in access.visible_groups(request.user, case):
        raise Http404
    data = selectors.case_mentoring(user=request.user, case=case)
    mine = next(
        (a for a in ma.assignments_visible_to(request.user).filter(case=case, status="active", mentor=request.user)),
        None,
    )
    log_read(request, case, view="case-mentoring", groups=frozenset({G.MENTORING}))
    return render(
        request,
        "programs/mentoring/case.html",
        _case_context(
            request,
            case,
            **data,
            can_propose=ma.can_propose(request.user, case) and not any(a.is_open for a in data["assignments"]),
            my_assignment=mine,
        ),
    )


def case_match(request: HttpRequest, case_id: int) -> HttpResponse:
    """Mentors ranked for this case, with the reasons; the caseworker proposes one."""
    case = access.get_case_for_user(request.user, case_id)
    if not ma.can_propose(request.user, case):
        raise Http404
    gender = request.POST.get("gender_preference", request.GET.get("gender", ""))
    gender = gender if gender in ("male", "female") else ""
    matches = selectors.rank_mentors(user=request.user, case=case, gender=gender)
    form = ProposeForm(request.POST or None, mentors=matches, initial={"gender_preference": gender})
    if request.method == "POST" and form.is_valid():
        mentor = get_object_or_404(User, pk=form.cleaned_data["mentor"])
        try:
            assignment = services.mentor_propose(
                case=case,
                by=request.user,
                mentor=mentor,
                gender_preference=form.cleaned_data["gender_preference"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Mentor proposed. The manager decides next."))
            return redirect("mentoring-assignment", assignment.pk)
    log_read(request, case, view="case-mentoring-match", groups=frozenset({G.CODE, G.NAMES, G.LANGUAGES}))
    return render(
        request,
        "programs/mentoring/match.html",
        _case_context(request, case, matches=matches, form=form, gender=gender),
        status=400 if form.errors else None,
    )


# --- Assignments --------------------------------------------------------------------------


def assignment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = ma.get_assignment_for_user(request.user, pk)
    user = request.user
    return render(
        request,
        "programs/mentoring/assignment.html",
        {
            "a": assignment,
            "staff": ma.is_case_staff(user),
            "can_decide": ma.can_decide(user, assignment),
            "can_respond": ma.can_respond(user, assignment),
            "can_end": ma.can_end(user, assignment),
            "form": ReasonForm(),
        },
    )


DONE = {
    "approve": gettext_lazy("Approved. The mentor is asked next."),
    "reject": gettext_lazy("Proposal rejected."),
    "accept": gettext_lazy("Assignment accepted: you are now on the case team."),
    "decline": gettext_lazy("Proposal declined."),
    "end": gettext_lazy("Mentoring ended; the mentor has left the case team."),
}


@require_POST
def assignment_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    if action not in services.ASSIGNMENT_STEPS:
        raise Http404
    assignment = ma.get_assignment_for_user(request.user, pk)
    if not ma.may_take_step(request.user, assignment, action):
        messages.error(request, _("This step is not yours to take, or no longer possible."))
        return redirect("mentoring-assignment", pk)
    form = ReasonForm(request.POST)
    if form.is_valid():
        try:
            services.ASSIGNMENT_STEPS[action](assignment, request.user, form.cleaned_data["reason"])
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, DONE[action])
            if action == "end" and assignment.mentor_id == request.user.pk:
                return redirect("mentoring-home")
            return redirect("mentoring-assignment", pk)
    return render(
        request,
        "programs/mentoring/assignment.html",
        {
            "a": assignment,
            "staff": ma.is_case_staff(request.user),
            "can_decide": ma.can_decide(request.user, assignment),
            "can_respond": ma.can_respond(request.user, assignment),
            "can_end": ma.can_end(request.user, assignment),
            "form": form,
            "failed": action,
        },
        status=400,
    )


# --- Sessions -----------------------------------------------------------------------------


def _my_active_assignment(request, pk):
    assignment = ma.get_assignment_for_user(request.user, pk)
    if assignment.status != "active" or assignment.mentor_id != request.user.pk:
        raise Http404
    case = access.get_case_for_user(request.user, assignment.case_id)
    if not ma.can_write_session(request.user, None, case):
        raise Http404
    return assignment, case


def session_plan(request: HttpRequest, pk: int) -> HttpResponse:
    assignment, case = _my_active_assignment(request, pk)
    form = SessionPlanForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.session_plan(assignment=assignment, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Session planned."))
            return redirect("case-mentoring", case.pk)
    return render(
        request,
        "programs/mentoring/session_form.html",
        _case_context(request, case, form=form, title=_("Plan a session")),
        status=400 if form.errors else None,
    )


def session_log_new(request: HttpRequest, pk: int) -> HttpResponse:
    """Log a session that was not planned in the system."""
    assignment, case = _my_active_assignment(request, pk)
    return _log(request, case=case, assignment=assignment, session=None)


def session_log(request: HttpRequest, pk: int) -> HttpResponse:
    session = ma.get_session_for_user(request.user, pk)
    case = access.get_case_for_user(request.user, session.case_id)
    if not ma.can_write_session(request.user, session, case) or session.assignment.status != "active":
        raise Http404
    return _log(request, case=case, assignment=session.assignment, session=session)


def _log(request, *, case, assignment, session) -> HttpResponse:
    initial = {}
    if session is not None:
        note = ma.confidential_note_for(request.user, session)
        initial = {
            "starts_at": session.starts_at,
            "place_type": session.place_type,
            "status": session.status if session.is_logged else "attended",
            "duration_minutes": session.duration_minutes,
            "topics": session.topics,
            "goal": session.goal_id,
            "progress_rating": session.progress_rating,
            "summary": session.summary,
            "confidential_notes": note.text if note else "",
        }
    form = SessionLogForm(request.POST or None, initial=initial, goals=_goals(request.user, case))
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        notes = data.pop("confidential_notes")
        try:
            services.session_log(
                by=request.user, data=data, confidential_notes=notes, session=session, assignment=assignment
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Session logged."))
            return redirect("case-mentoring", case.pk)
    return render(
        request,
        "programs/mentoring/session_form.html",
        _case_context(request, case, form=form, title=_("Log a session"), session=session),
        status=400 if form.errors else None,
    )


def session_detail(request: HttpRequest, pk: int) -> HttpResponse:
    session = ma.get_session_for_user(request.user, pk)
    case = access.get_case_for_user(request.user, session.case_id)
    log_read(request, case, view="mentoring-session", groups=frozenset({G.MENTORING}))
    return render(
        request,
        "programs/mentoring/session.html",
        _case_context(
            request,
            case,
            session=session,
            confidential=ma.confidential_note_for(request.user, session),
            can_log=ma.can_write_session(request.user, session, case) and session.assignment.status == "active",
        ),
    )


# --- Mentor profiles (supervisor) ----------------------------------------------------------


def mentor_new(request: HttpRequest) -> HttpResponse:
    if not ma.can_manage_vetting(request.user):
        raise Http404
    form = NewMentorForm(request.POST or None, candidates=ma.unprofiled_mentors(request.user))
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k not in ("mentor", "cities")}
        try:
            services.mentor_profile_save(
                by=request.user, mentor=form.cleaned_data["mentor"], data=data, cities=form.cleaned_data["cities"]
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Mentor profile recorded."))
            return redirect("mentoring-home")
    return render(
        request,
        "programs/mentoring/mentor_form.html",
        {"form": form, "title": _("Add a mentor profile")},
        status=400 if form.errors else None,
    )


def mentor_edit(request: HttpRequest, pk: int) -> HttpResponse:
    profile = get_object_or_404(ma.mentors_visible_to(request.user).select_related("user"), pk=pk)
    if not ma.can_manage_vetting(request.user, profile):
        raise Http404
    form = MentorProfileForm(request.POST or None, instance=MentorProfile.objects.get(pk=profile.pk))
    if request.method == "GET":
        form.initial["cities"] = list(profile.cities.values_list("pk", flat=True))
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "cities"}
        try:
            services.mentor_profile_save(
                by=request.user, mentor=profile.user, data=data, cities=form.cleaned_data["cities"], profile=profile
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Mentor profile saved."))
            return redirect("mentoring-home")
    return render(
        request,
        "programs/mentoring/mentor_form.html",
        {"form": form, "title": _("Vetting and profile of %(name)s") % {"name": profile}, "profile": profile},
        status=400 if form.errors else None,
    )


urlpatterns = [
    path("mentoring/", mentoring_home, name="mentoring-home"),
    path("mentoring/mentors/new/", mentor_new, name="mentoring-mentor-new"),
    path("mentoring/mentors/<int:pk>/", mentor_edit, name="mentoring-mentor-edit"),
    path("mentoring/assignments/<int:pk>/", assignment_detail, name="mentoring-assignment"),
    path("mentoring/assignments/<int:pk>/sessions/new/", session_plan, name="mentoring-session-plan"),
    path("mentoring/assignments/<int:pk>/sessions/log/", session_log_new, name="mentoring-session-log-new"),
    path("mentoring/assignments/<int:pk>/<slug:action>/", assignment_action, name="mentoring-assignment-action"),
    path("mentoring/sessions/<int:pk>/", session_detail, name="mentoring-session"),
    path("mentoring/sessions/<int:pk>/log/", session_log, name="mentoring-session-log"),
    path("cases/<int:case_id>/mentoring/", case_mentoring, name="case-mentoring"),
    path("cases/<int:case_id>/mentoring/match/", case_match, name="case-mentoring-match"),
]
