"""Family-counselling forms: input parsing and field errors only; the rules live in the services."""

from __future__ import annotations

import datetime
import uuid

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.forms import StyledForm, StyledModelForm
from casemgmt.models import LANGUAGES

from .models import (
    ENGAGEMENT_TRANSITIONS,
    EngagementKind,
    EngagementStatus,
    FamilyMember,
    ReferralStatus,
    Relation,
    ServiceKind,
    SessionKind,
    SessionStatus,
    SupportKind,
    Vulnerability,
)


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class MemberForm(StyledModelForm):
    vulnerabilities = forms.MultipleChoiceField(
        label=_("Vulnerabilities"), choices=Vulnerability.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    language = forms.ChoiceField(label=_("Language"), choices=[("", "—"), *LANGUAGES], required=False)

    class Meta:
        model = FamilyMember
        fields = [
            "given_name",
            "family_name",
            "name_arabic",
            "date_of_birth",
            "age",
            "is_minor",
            "phone",
            "contact_note",
            "language",
            "vulnerabilities",
            "vulnerability_note",
            "own_consent_given_on",
            "own_consent_expires_on",
            "own_consent_withdrawn_on",
        ]
        widgets = {
            "date_of_birth": DateInput(),
            "own_consent_given_on": DateInput(),
            "own_consent_expires_on": DateInput(),
            "own_consent_withdrawn_on": DateInput(),
            "vulnerability_note": forms.Textarea(attrs={"rows": 2}),
        }
        help_texts = {
            "own_consent_given_on": _("Only for a relative who asks for help on their own."),
        }


class CounsellorMemberForm(MemberForm):
    """A counsellor edits a relative's details; the own-consent dates are the caseworkers' to record."""

    class Meta(MemberForm.Meta):
        fields = [name for name in MemberForm.Meta.fields if not name.startswith("own_consent_")]


def _engagements_field():
    return forms.ModelMultipleChoiceField(
        label=_("Add to my engagements"), queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )


def _set_engagements(form, engagements) -> None:
    """The counsellor's open engagements on the case, all ticked: the relative joins the work at once."""
    form.fields["engagements"].queryset = engagements
    form.fields["engagements"].initial = [e.pk for e in engagements]


class NewMemberForm(CounsellorMemberForm):
    relation = forms.ChoiceField(label=_("Relation to the participant"), choices=Relation.choices)
    lives_with_participant = forms.BooleanField(label=_("Lives with the participant"), required=False)
    engagements = _engagements_field()

    field_order = ["relation", "lives_with_participant"]

    def __init__(self, *args, engagements, **kwargs):
        super().__init__(*args, **kwargs)
        _set_engagements(self, engagements)


class OwnConsentForm(StyledForm):
    """A relative's own consent to counselling contact (a relative who asks for help on their own)."""

    own_consent_given_on = forms.DateField(label=_("Own consent given on"), required=False, widget=DateInput())
    own_consent_expires_on = forms.DateField(label=_("Own consent expires on"), required=False, widget=DateInput())
    own_consent_withdrawn_on = forms.DateField(label=_("Own consent withdrawn on"), required=False, widget=DateInput())


class EngagementMembersForm(StyledForm):
    members = forms.ModelMultipleChoiceField(
        label=_("Family members"), queryset=None, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["members"].queryset = members


class CounsellorsForm(StyledForm):
    """Hand an engagement over: add counsellors of the organisation, remove current ones."""

    add = forms.ModelMultipleChoiceField(
        label=_("Add counsellors"), queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )
    remove = forms.ModelMultipleChoiceField(
        label=_("Remove counsellors"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("A removed counsellor no longer reads this engagement or its confidential notes."),
    )

    def __init__(self, *args, candidates, current, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["add"].queryset = candidates
        self.fields["remove"].queryset = current
        for name in ("add", "remove"):
            self.fields[name].label_from_instance = lambda u: u.get_full_name() or u.username


class ReferralUpdateForm(StyledForm):
    status = forms.ChoiceField(label=_("Status"), choices=ReferralStatus.choices)
    outcome = forms.CharField(
        label=_("Outcome"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )


class EngagementForm(StyledForm):
    kind = forms.ChoiceField(label=_("Type"), choices=EngagementKind.choices)
    members = forms.ModelMultipleChoiceField(
        label=_("Family members"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Optional: the counsellors record the family and add its members to the engagement."),
    )
    counsellors = forms.ModelMultipleChoiceField(
        label=_("Counsellors"), queryset=None, widget=forms.CheckboxSelectMultiple
    )
    started_on = forms.DateField(label=_("Starts on"), widget=DateInput(), initial=timezone.localdate)
    step_plan = forms.CharField(
        label=_("Step plan"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("A few steps agreed after the first assessment; shareable with the case team."),
    )

    def __init__(self, *args, members, counsellors, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["members"].queryset = members
        self.fields["counsellors"].queryset = counsellors
        self.fields["counsellors"].label_from_instance = lambda u: u.get_full_name() or u.username


class EngagementEditForm(StyledForm):
    status = forms.ChoiceField(label=_("Status"), choices=())
    step_plan = forms.CharField(
        label=_("Step plan"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 4})
    )

    def __init__(self, *args, current: str, **kwargs):
        super().__init__(*args, **kwargs)
        # the current status and the open ones the lifecycle allows next (ending has its own form)
        allowed = {current} | set(ENGAGEMENT_TRANSITIONS.get(current, ()))
        self.fields["status"].choices = [
            c for c in EngagementStatus.choices if c[0] in allowed and c[0] != EngagementStatus.ENDED
        ]


class EndForm(StyledForm):
    reason = forms.CharField(
        label=_("Why the engagement ends"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    confirm = forms.BooleanField(
        label=_(
            "Yes, end it: planned sessions are cancelled and counsellors without another engagement "
            "leave the case team."
        ),
    )


def _form_token_field():
    """A token minted when the form is shown: sending the same form twice creates one row."""
    return forms.UUIDField(required=False, widget=forms.HiddenInput, initial=uuid.uuid4)


class SessionPlanForm(StyledForm):
    form_token = _form_token_field()
    starts_at = forms.DateTimeField(label=_("Date and time"), widget=DateTimeInput())
    kind = forms.ChoiceField(label=_("Type"), choices=[c for c in SessionKind.choices if c[0] != SessionKind.GROUP])

    def clean_starts_at(self):
        value = self.cleaned_data["starts_at"]
        if value < timezone.now() - datetime.timedelta(days=1):
            raise forms.ValidationError(_("Plan sessions from today on; log past ones instead."))
        return value


class SessionLogForm(StyledForm):
    """One short form: when, how it went, who came, a shareable summary and the confidential notes."""

    form_token = _form_token_field()
    starts_at = forms.DateTimeField(label=_("Date and time"), widget=DateTimeInput())
    kind = forms.ChoiceField(label=_("Type"), choices=SessionKind.choices)
    status = forms.ChoiceField(
        label=_("How did it go?"), choices=[c for c in SessionStatus.choices if c[0] != SessionStatus.PLANNED]
    )
    duration_minutes = forms.IntegerField(label=_("Duration (minutes)"), required=False, min_value=5, max_value=600)
    attendees = forms.ModelMultipleChoiceField(
        label=_("Who attended"), queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )
    summary = forms.CharField(
        label=_("Shareable summary"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The caseworker and the manager read this."),
    )
    confidential_notes = forms.CharField(
        label=_("Confidential notes"),
        required=False,
        max_length=8000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Only the counsellors of this engagement read these: not the caseworker, not the manager."),
    )

    def __init__(self, *args, attendees, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["attendees"].queryset = attendees


class GroupSessionForm(StyledForm):
    title = forms.CharField(
        label=_("Title"), max_length=200, help_text=_("Shown on each family's record: name no family here.")
    )
    starts_at = forms.DateTimeField(label=_("Date and time"), widget=DateTimeInput())
    engagements = forms.ModelMultipleChoiceField(
        label=_("Families (your engagements)"), queryset=None, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, engagements, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["engagements"].queryset = engagements
        self.fields["engagements"].label_from_instance = lambda e: f"{e.case.participant.case_code} · {e}"


class ReferralForm(StyledForm):
    service = forms.ChoiceField(label=_("Service"), choices=ServiceKind.choices)
    provider = forms.CharField(label=_("Provider"), max_length=200)
    referred_on = forms.DateField(label=_("Referred on"), widget=DateInput(), initial=timezone.localdate)
    status = forms.ChoiceField(label=_("Status"), choices=ReferralStatus.choices)
    outcome = forms.CharField(label=_("Outcome"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class SupportForm(StyledForm):
    kind = forms.ChoiceField(label=_("Kind"), choices=SupportKind.choices)
    amount = forms.DecimalField(label=_("Amount (MAD)"), required=False, min_value=0, max_digits=10, decimal_places=2)
    given_on = forms.DateField(label=_("Given on"), widget=DateInput(), initial=timezone.localdate)
    note = forms.CharField(label=_("Note"), required=False, max_length=300)


class HouseholdForm(StyledForm):
    address = forms.CharField(label=_("Household address"), required=False, max_length=300)
    situation = forms.CharField(
        label=_("Household situation"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Income, housing, who cares for whom; shareable with the case team."),
    )


class LinkMemberForm(StyledForm):
    """A relative already known from another participant's household (siblings)."""

    member = forms.ModelChoiceField(label=_("Relative"), queryset=None)
    relation = forms.ChoiceField(label=_("Relation to this participant"), choices=Relation.choices)
    lives_with_participant = forms.BooleanField(label=_("Lives with the participant"), required=False)
    engagements = _engagements_field()

    def __init__(self, *args, members, engagements, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = members
        _set_engagements(self, engagements)
