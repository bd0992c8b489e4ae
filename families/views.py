"""Family-counselling pages: transport only. Parse, ask `families.access`, call a service, render."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _

from accounts.forms import apply_errors
from accounts.models import Role
from casemgmt import access
from casemgmt.access import G
from casemgmt.casefile_views import case_links, visible_sections
from casemgmt.reads import log_read

from . import access as fa
from . import selectors, services
from .forms import (
    EndForm,
    EngagementEditForm,
    EngagementForm,
    GroupSessionForm,
    HouseholdForm,
    LinkMemberForm,
    MemberForm,
    NewMemberForm,
    ReferralForm,
    SessionLogForm,
    SessionPlanForm,
    SupportForm,
)
from .models import FamilyMember, Household, HouseholdMember

GROUPS = frozenset({G.FAMILY})


def _case_context(request, case, **context) -> dict:
    return {
        "case": case,
        "sections": visible_sections(request.user, case),
        "case_links": case_links(request.user, case),
        **context,
    }


def _family_case(request, case_id: int):
    case = access.get_case_for_user(request.user, case_id)
    if not fa.sees_family(request.user, case):
        raise Http404
    return case


def _render_form(request, case, form, title, back, status=None):
    return render(
        request,
        "families/form.html",
        _case_context(request, case, form=form, title=title, back=back),
        status=400 if form.errors else status,
    )


# --- The counsellor's home ------------------------------------------------------------------


def families_home(request: HttpRequest) -> HttpResponse:
    if not fa.can_see_family_home(request.user):
        raise Http404
    groups = fa.group_sessions_visible_to(request.user).order_by("-starts_at", "-pk")[:20]
    return render(
        request,
        "families/home.html",
        {"panel": selectors.counsellor_portal(request.user), "groups": groups},
    )


# --- A case's family ------------------------------------------------------------------------


def case_family(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _family_case(request, case_id)
    data = selectors.case_family(user=request.user, case=case, page=request.GET.get("page"))
    # A counsellor reads the household's address and adds members on the participant's consent only.
    case_basis = bool(fa.cases_with_household_details(request.user, [case.pk]))
    log_read(request, case, view="case-family", groups=GROUPS)
    return render(
        request,
        "families/case.html",
        _case_context(
            request,
            case,
            **data,
            household_details=case_basis,
            can_add_members=case_basis and access.can_write_record(request.user, case, fa.MEMBER),
            can_edit_members=access.can_write_record(request.user, case, fa.MEMBER),
            can_create_engagement=fa.can_create_engagement(request.user, case),
        ),
    )


def member_new(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _family_case(request, case_id)
    if not fa.can_add_members(request.user, case):
        raise Http404
    form = NewMemberForm(request.POST or None)
    if request.user.role == Role.COUNSELLOR:  # consents are recorded by the caseworkers and the manager
        for name in services.OWN_CONSENT_FIELDS:
            form.fields[name].disabled = True
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        relation, lives = data.pop("relation"), data.pop("lives_with_participant")
        try:
            services.member_add(case=case, by=request.user, relation=relation, lives_with_participant=lives, data=data)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Family member added."))
            return redirect("case-family", case.pk)
    return _render_form(request, case, form, _("Add a family member"), back=reverse("case-family", args=[case.pk]))


def member_link(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _family_case(request, case_id)
    if not fa.can_add_members(request.user, case):
        raise Http404
    form = LinkMemberForm(request.POST or None, members=fa.linkable_members(request.user, case))
    if request.method == "POST" and form.is_valid():
        try:
            services.member_add(case=case, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Relative added to this household."))
            return redirect("case-family", case.pk)
    return _render_form(
        request, case, form, _("Add a relative already known"), back=reverse("case-family", args=[case.pk])
    )


def household_edit(request: HttpRequest, case_id: int) -> HttpResponse:
    """Address and situation: those who add members (a counsellor on the participant's consent)."""
    case = _family_case(request, case_id)
    if not fa.can_add_members(request.user, case):
        raise Http404
    household = case_household(case)
    form = HouseholdForm(
        request.POST or None,
        initial={"address": getattr(household, "address", ""), "situation": getattr(household, "situation", "")},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.household_update(case=case, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Household saved."))
            return redirect("case-family", case.pk)
    return _render_form(request, case, form, _("Household"), back=reverse("case-family", args=[case.pk]))


def case_household(case):
    return Household.objects.filter(case=case).first()


def member_edit(request: HttpRequest, case_id: int, pk: int) -> HttpResponse:
    case = _family_case(request, case_id)
    link = access.case_records_visible_to(request.user, case, fa.MEMBER).filter(member_id=pk).first()
    if link is None or not fa.can_edit_member(request.user, link.member, case):
        raise Http404
    member = FamilyMember.objects.get(pk=pk)
    form = MemberForm(request.POST or None, instance=member)
    if request.user.role == Role.COUNSELLOR:  # consents are recorded by the caseworkers and the manager
        for name in services.OWN_CONSENT_FIELDS:
            form.fields[name].disabled = True
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in MemberForm.Meta.fields}
        try:
            services.member_update(member=member, by=request.user, data=data)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Family member saved."))
            return redirect("case-family", case.pk)
    return _render_form(
        request,
        case,
        form,
        _("Family member: %(name)s") % {"name": member},
        back=reverse("case-family", args=[case.pk]),
    )


def engagement_new(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _family_case(request, case_id)
    if not fa.can_create_engagement(request.user, case):
        raise Http404
    members = FamilyMember.objects.filter(
        pk__in=HouseholdMember.objects.filter(case=case).values("member_id")
    ).order_by("family_name", "given_name", "pk")
    form = EngagementForm(request.POST or None, members=members, counsellors=fa.counsellor_candidates(case))
    if request.method == "POST" and form.is_valid():
        try:
            engagement = services.engagement_create(case=case, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Engagement opened; its counsellors are on the case team."))
            return redirect("families-engagement", engagement.pk)
    return _render_form(request, case, form, _("Open a family engagement"), back=reverse("case-family", args=[case.pk]))


# --- Engagements ----------------------------------------------------------------------------


def _engagement(request, pk):
    engagement = fa.get_engagement_for_user(request.user, pk)
    case = access.get_case_for_user(request.user, engagement.case_id)
    return engagement, case


def engagement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    engagement, case = _engagement(request, pk)
    data = selectors.engagement_page(user=request.user, engagement=engagement, case=case, page=request.GET.get("page"))
    log_read(request, case, view="families-engagement", groups=GROUPS)
    mine = fa.can_write_sessions(request.user, engagement, case)
    return render(
        request,
        "families/engagement.html",
        _case_context(
            request,
            case,
            **data,
            can_write=mine,
            can_edit=mine or (engagement.is_open and fa.can_create_engagement(request.user, case)),
            can_end=fa.can_end_engagement(request.user, engagement, case),
        ),
    )


def engagement_edit(request: HttpRequest, pk: int) -> HttpResponse:
    engagement, case = _engagement(request, pk)
    allowed = fa.can_write_sessions(request.user, engagement, case) or (
        engagement.is_open and fa.can_create_engagement(request.user, case)
    )
    if not allowed:
        raise Http404
    form = EngagementEditForm(
        request.POST or None, initial={"status": engagement.status, "step_plan": engagement.step_plan}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.engagement_update(engagement=engagement, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Engagement saved."))
            return redirect("families-engagement", engagement.pk)
    return _render_form(
        request, case, form, _("Step plan and status"), back=reverse("families-engagement", args=[engagement.pk])
    )


def engagement_end(request: HttpRequest, pk: int) -> HttpResponse:
    """A confirmation page, then the end (GET shows what will happen)."""
    engagement, case = _engagement(request, pk)
    if not fa.can_end_engagement(request.user, engagement, case):
        raise Http404
    form = EndForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.engagement_end(engagement=engagement, by=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Engagement ended."))
            if access.cases_visible_to(request.user).filter(pk=case.pk).exists():
                return redirect("case-family", case.pk)
            return redirect("families-home")
    return _render_form(
        request, case, form, _("End this engagement"), back=reverse("families-engagement", args=[engagement.pk])
    )


def _my_engagement(request, pk):
    engagement, case = _engagement(request, pk)
    if not fa.can_write_sessions(request.user, engagement, case):
        raise Http404
    return engagement, case


def session_plan(request: HttpRequest, pk: int) -> HttpResponse:
    engagement, case = _my_engagement(request, pk)
    form = SessionPlanForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.session_plan(engagement=engagement, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Session planned."))
            return redirect("families-engagement", engagement.pk)
    return _render_form(
        request, case, form, _("Plan a session"), back=reverse("families-engagement", args=[engagement.pk])
    )


def session_log_new(request: HttpRequest, pk: int) -> HttpResponse:
    engagement, case = _my_engagement(request, pk)
    return _log(request, case=case, engagement=engagement, session=None)


def session_log(request: HttpRequest, pk: int) -> HttpResponse:
    session = fa.get_session_for_user(request.user, pk)
    case = access.get_case_for_user(request.user, session.case_id)
    if not fa.can_write_sessions(request.user, session.engagement, case):
        raise Http404
    return _log(request, case=case, engagement=session.engagement, session=session)


def _log(request, *, case, engagement, session) -> HttpResponse:
    visible = access.case_records_visible_to(request.user, case, fa.MEMBER).values("member_id")
    attendees = engagement.members.filter(pk__in=visible).order_by("family_name", "given_name", "pk")
    initial = {"kind": "family", "status": "attended"}
    if session is not None:
        note = fa.confidential_note_for(request.user, session)
        initial = {
            "starts_at": session.starts_at,
            "kind": session.kind,
            "status": session.status if session.is_logged else "attended",
            "duration_minutes": session.duration_minutes,
            "attendees": list(session.attendees.values_list("pk", flat=True)),
            "summary": session.summary,
            "confidential_notes": note.text if note else "",
        }
    form = SessionLogForm(request.POST or None, initial=initial, attendees=attendees)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        notes, people = data.pop("confidential_notes"), data.pop("attendees")
        try:
            services.session_log(
                by=request.user,
                data=data,
                attendees=people,
                confidential_notes=notes,
                session=session,
                engagement=engagement,
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Session logged."))
            return redirect("families-engagement", engagement.pk)
    return _render_form(
        request, case, form, _("Log a session"), back=reverse("families-engagement", args=[engagement.pk])
    )


def session_detail(request: HttpRequest, pk: int) -> HttpResponse:
    session = fa.get_session_for_user(request.user, pk)
    case = access.get_case_for_user(request.user, session.case_id)
    visible = set(access.case_records_visible_to(request.user, case, fa.MEMBER).values_list("member_id", flat=True))
    log_read(request, case, view="families-session", groups=GROUPS)
    return render(
        request,
        "families/session.html",
        _case_context(
            request,
            case,
            session=session,
            attendees=[a for a in session.attendees.all() if a.pk in visible],
            confidential=fa.confidential_note_for(request.user, session),
            can_log=fa.can_write_sessions(request.user, session.engagement, case),
        ),
    )


def referral_new(request: HttpRequest, pk: int) -> HttpResponse:
    engagement, case = _my_engagement(request, pk)
    form = ReferralForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.referral_create(engagement=engagement, by=request.user, data=form.cleaned_data)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Referral recorded."))
            return redirect("families-engagement", engagement.pk)
    return _render_form(
        request, case, form, _("Refer to a service"), back=reverse("families-engagement", args=[engagement.pk])
    )


def support_new(request: HttpRequest, pk: int) -> HttpResponse:
    engagement, case = _my_engagement(request, pk)
    form = SupportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.support_add(engagement=engagement, by=request.user, data=form.cleaned_data)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Support recorded."))
            return redirect("families-engagement", engagement.pk)
    return _render_form(
        request, case, form, _("Record material support"), back=reverse("families-engagement", args=[engagement.pk])
    )


# --- Group sessions -------------------------------------------------------------------------


def group_new(request: HttpRequest) -> HttpResponse:
    if not fa.can_see_family_home(request.user):
        raise Http404
    engagements = fa.my_open_engagements(request.user).select_related("case__participant")
    form = GroupSessionForm(request.POST or None, engagements=engagements)
    if request.method == "POST" and form.is_valid():
        try:
            group = services.group_session_create(by=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Group session planned for each family."))
            return redirect("families-group", group.pk)
    return render(
        request,
        "families/form.html",
        {"form": form, "title": _("Plan a parent-network group session"), "back": reverse("families-home")},
        status=400 if form.errors else None,
    )


def group_detail(request: HttpRequest, pk: int) -> HttpResponse:
    group = fa.group_sessions_visible_to(request.user).filter(pk=pk).first()
    if group is None:
        raise Http404
    # Only the family sessions the facilitator may read (those of their own engagements).
    sessions = (
        fa.sessions_visible_to(request.user)
        .filter(group_session=group)
        .select_related("case__participant", "engagement")
        .order_by("case__participant__case_code", "pk")
    )
    return render(request, "families/group.html", {"group": group, "sessions": sessions})


urlpatterns = [
    path("family/", families_home, name="families-home"),
    path("family/groups/new/", group_new, name="families-group-new"),
    path("family/groups/<int:pk>/", group_detail, name="families-group"),
    path("family/engagements/<int:pk>/", engagement_detail, name="families-engagement"),
    path("family/engagements/<int:pk>/edit/", engagement_edit, name="families-engagement-edit"),
    path("family/engagements/<int:pk>/end/", engagement_end, name="families-engagement-end"),
    path("family/engagements/<int:pk>/sessions/new/", session_plan, name="families-session-plan"),
    path("family/engagements/<int:pk>/sessions/log/", session_log_new, name="families-session-log-new"),
    path("family/engagements/<int:pk>/referrals/new/", referral_new, name="families-referral-new"),
    path("family/engagements/<int:pk>/support/new/", support_new, name="families-support-new"),
    path("family/sessions/<int:pk>/", session_detail, name="families-session"),
    path("family/sessions/<int:pk>/log/", session_log, name="families-session-log"),
    path("cases/<int:case_id>/family/", case_family, name="case-family"),
    path("cases/<int:case_id>/family/household/", household_edit, name="families-household-edit"),
    path("cases/<int:case_id>/family/members/new/", member_new, name="families-member-new"),
    path("cases/<int:case_id>/family/members/link/", member_link, name="families-member-link"),
    path("cases/<int:case_id>/family/members/<int:pk>/", member_edit, name="families-member-edit"),
    path("cases/<int:case_id>/family/engagements/new/", engagement_new, name="families-engagement-new"),
]
