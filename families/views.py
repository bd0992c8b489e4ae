"""Family-counselling pages: transport only. Parse, ask `families.access`, call a service, render."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _

from accounts.forms import apply_errors
from accounts.models import User
from casemgmt import access
from casemgmt.access import G
from casemgmt.casefile_views import case_links, visible_sections
from casemgmt.reads import log_read

from . import access as fa
from . import selectors, services
from .forms import (
    CounsellorMemberForm,
    CounsellorsForm,
    EndForm,
    EngagementEditForm,
    EngagementForm,
    EngagementMembersForm,
    GroupSessionForm,
    HouseholdForm,
    LinkMemberForm,
    NewMemberForm,
    OwnConsentForm,
    ReferralForm,
    ReferralUpdateForm,
    SessionLogForm,
    SessionPlanForm,
    SupportForm,
)
from .models import OPEN_ENGAGEMENT, Engagement, FamilyMember, Household, HouseholdMember

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
    # A counsellor reads the household's address (and edits it, links known relatives) on the
    # participant's consent only; caseworkers and managers read the family and record consents.
    case_basis = bool(fa.cases_with_household_details(request.user, [case.pk]))
    counsellor_writes = access.can_write_record(request.user, case, fa.MEMBER)
    log_read(request, case, view="case-family", groups=GROUPS)
    return render(
        request,
        "families/case.html",
        _case_context(
            request,
            case,
            **data,
            household_details=case_basis,
            can_add_members=counsellor_writes,
            can_link_members=counsellor_writes and case_basis,
            can_edit_members=counsellor_writes,
            can_record_consent=fa.can_record_own_consent(request.user, case),
            can_update_referrals=counsellor_writes,
            can_create_engagement=fa.can_create_engagement(request.user, case),
        ),
    )


def _my_open_engagements_on(request, case):
    """The counsellor's open engagements on this case: a relative they record may join them at once."""
    return (
        Engagement.objects.filter(case=case, status__in=OPEN_ENGAGEMENT, assignments__counsellor=request.user)
        .order_by("pk")
        .distinct()
    )


def _added_message(request, case, member) -> None:
    if access.case_records_visible_to(request.user, case, fa.MEMBER).filter(member=member).exists():
        messages.success(request, _("Family member added."))
    else:  # a relative who came on their own, before the caseworker records their own consent
        messages.info(
            request,
            _(
                "Family member recorded. You will see their details once the participant's family-contact "
                "consent or the relative's own consent is recorded by the caseworker or the manager."
            ),
        )


def member_new(request: HttpRequest, case_id: int) -> HttpResponse:
    """A counsellor holding an open engagement records a relative (consents: the caseworker's)."""
    case = _family_case(request, case_id)
    if not fa.can_add_members(request.user, case):
        raise Http404
    form = NewMemberForm(request.POST or None, engagements=_my_open_engagements_on(request, case))
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        relation, lives = data.pop("relation"), data.pop("lives_with_participant")
        engagements = data.pop("engagements")
        try:
            link = services.member_add(
                case=case,
                by=request.user,
                relation=relation,
                lives_with_participant=lives,
                data=data,
                engagements=engagements,
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            _added_message(request, case, link.member)
            return redirect("case-family", case.pk)
    return _render_form(request, case, form, _("Add a family member"), back=reverse("case-family", args=[case.pk]))


def member_link(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _family_case(request, case_id)
    if not fa.can_link_members(request.user, case):
        raise Http404
    form = LinkMemberForm(
        request.POST or None,
        members=fa.linkable_members(request.user, case),
        engagements=_my_open_engagements_on(request, case),
    )
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
    """Address and situation: a counsellor of the case on the participant's consent."""
    case = _family_case(request, case_id)
    if not fa.can_edit_household(request.user, case):
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
    """A counsellor of the case edits a relative they read (not the consent dates)."""
    case = _family_case(request, case_id)
    link = access.case_records_visible_to(request.user, case, fa.MEMBER).filter(member_id=pk).first()
    if link is None or not fa.can_edit_member(request.user, link.member, case):
        raise Http404
    member = FamilyMember.objects.get(pk=pk)
    form = CounsellorMemberForm(request.POST or None, instance=member)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in CounsellorMemberForm.Meta.fields}
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


def member_consent(request: HttpRequest, case_id: int, pk: int) -> HttpResponse:
    """A relative's own consent: the caseworkers on the team and the manager record it."""
    case = _family_case(request, case_id)
    link = access.case_records_visible_to(request.user, case, fa.MEMBER).filter(member_id=pk).first()
    if link is None or not fa.can_record_own_consent(request.user, case):
        raise Http404
    member = link.member
    form = OwnConsentForm(
        request.POST if request.method == "POST" else None,
        initial={name: getattr(member, name) for name in OwnConsentForm.base_fields},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.member_own_consent_update(
                member=member,
                case=case,
                by=request.user,
                given_on=form.cleaned_data["own_consent_given_on"],
                expires_on=form.cleaned_data["own_consent_expires_on"],
                withdrawn_on=form.cleaned_data["own_consent_withdrawn_on"],
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("The relative's own consent is recorded."))
            return redirect("case-family", case.pk)
    return _render_form(
        request,
        case,
        form,
        _("Own consent of %(name)s") % {"name": member},
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
            can_change_counsellors=fa.can_change_counsellors(request.user, engagement, case),
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
        request.POST or None,
        initial={"status": engagement.status, "step_plan": engagement.step_plan},
        current=engagement.status,
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


def engagement_members(request: HttpRequest, pk: int) -> HttpResponse:
    """The engagement's counsellor adds relatives of the household (those they read) to it."""
    engagement, case = _my_engagement(request, pk)
    readable = access.case_records_visible_to(request.user, case, fa.MEMBER).values("member_id")
    members = (
        FamilyMember.objects.filter(pk__in=readable)
        .exclude(pk__in=engagement.members.values("pk"))
        .order_by("family_name", "given_name", "pk")
    )
    form = EngagementMembersForm(request.POST if request.method == "POST" else None, members=members)
    if request.method == "POST" and form.is_valid():
        try:
            services.engagement_members_add(engagement=engagement, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Family members added to the engagement."))
            return redirect("families-engagement", engagement.pk)
    return _render_form(
        request, case, form, _("Add family members"), back=reverse("families-engagement", args=[engagement.pk])
    )


def engagement_counsellors(request: HttpRequest, pk: int) -> HttpResponse:
    """The lead or the manager adds or removes counsellors of an open engagement."""
    engagement, case = _engagement(request, pk)
    if not fa.can_change_counsellors(request.user, engagement, case):
        raise Http404
    current = engagement.assignments.values("counsellor_id")
    form = CounsellorsForm(
        request.POST if request.method == "POST" else None,
        candidates=fa.counsellor_candidates(case).exclude(pk__in=current),
        current=User.objects.filter(pk__in=current).order_by("last_name", "first_name"),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.engagement_counsellors_change(engagement=engagement, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Counsellors of the engagement changed."))
            return redirect("families-engagement", engagement.pk)
    return _render_form(
        request,
        case,
        form,
        _("Counsellors of the engagement"),
        back=reverse("families-engagement", args=[engagement.pk]),
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
        notes, people, token = data.pop("confidential_notes"), data.pop("attendees"), data.pop("form_token")
        try:
            services.session_log(
                by=request.user,
                data=data,
                attendees=people,
                confidential_notes=notes,
                session=session,
                engagement=engagement,
                form_token=token if session is None else None,
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


def referral_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Status and outcome of a referral: the counsellors of its open engagement."""
    referral = fa.get_referral_for_user(request.user, pk)
    case = access.get_case_for_user(request.user, referral.case_id)
    if not fa.can_update_referral(request.user, referral, case):
        raise Http404
    form = ReferralUpdateForm(
        request.POST if request.method == "POST" else None,
        initial={"status": referral.status, "outcome": referral.outcome},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.referral_update(referral=referral, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Referral updated."))
            return redirect("families-engagement", referral.engagement_id)
    return _render_form(
        request,
        case,
        form,
        _("Referral: %(referral)s") % {"referral": referral},
        back=reverse("families-engagement", args=[referral.engagement_id]),
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
    path("family/engagements/<int:pk>/members/", engagement_members, name="families-engagement-members"),
    path("family/engagements/<int:pk>/counsellors/", engagement_counsellors, name="families-engagement-counsellors"),
    path("family/referrals/<int:pk>/", referral_edit, name="families-referral-edit"),
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
    path("cases/<int:case_id>/family/members/<int:pk>/consent/", member_consent, name="families-member-consent"),
    path("cases/<int:case_id>/family/engagements/new/", engagement_new, name="families-engagement-new"),
]
