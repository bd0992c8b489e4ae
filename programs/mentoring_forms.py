"""Mentoring forms: input parsing and field errors only; the rules live in the services."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.forms import StyledForm, StyledModelForm
from accounts.models import City
from casemgmt.models import LANGUAGES

from .models import MentoringSession, MentorProfile
from .models.mentoring import Gender, PlaceType, SessionStatus, Topic


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class ProposeForm(StyledForm):
    mentor = forms.TypedChoiceField(label=_("Mentor"), coerce=int)
    gender_preference = forms.ChoiceField(
        label=_("Mentor gender the case asks for"),
        required=False,
        choices=[("", _("No preference")), *Gender.choices],
    )
    note = forms.CharField(
        label=_("Why this mentor"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, mentors, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mentor"].choices = [(m.profile.user_id, str(m.profile)) for m in mentors if m.can_propose]


class ReasonForm(StyledForm):
    reason = forms.CharField(
        label=_("Reason"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class SessionPlanForm(StyledModelForm):
    class Meta:
        model = MentoringSession
        fields = ["starts_at", "place_type"]
        widgets = {"starts_at": DateTimeInput()}


class SessionLogForm(StyledForm):
    """One short form: how it went, topics, a rating against an ideology goal, summary, notes."""

    starts_at = forms.DateTimeField(label=_("Date and time"), widget=DateTimeInput())
    place_type = forms.ChoiceField(label=_("Place"), choices=PlaceType.choices)
    status = forms.ChoiceField(
        label=_("How did it go?"), choices=[c for c in SessionStatus.choices if c[0] != SessionStatus.PLANNED]
    )
    duration_minutes = forms.IntegerField(label=_("Duration (minutes)"), required=False, min_value=5, max_value=600)
    topics = forms.MultipleChoiceField(
        label=_("Topics"), required=False, choices=Topic.choices, widget=forms.CheckboxSelectMultiple
    )
    goal = forms.ModelChoiceField(label=_("Ideology goal"), required=False, queryset=None)
    progress_rating = forms.TypedChoiceField(
        label=_("Progress on that goal"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "—"), *[(i, str(i)) for i in range(1, 6)]],
        help_text=_("1 = no movement, 5 = strong progress."),
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
        help_text=_("Only you ever read these: not the caseworker, the manager, your supervisor or a later mentor."),
    )

    def __init__(self, *args, goals, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["goal"].queryset = goals


class MentorProfileForm(StyledModelForm):
    languages = forms.MultipleChoiceField(
        label=_("Languages"), choices=LANGUAGES, required=False, widget=forms.CheckboxSelectMultiple
    )
    cities = forms.ModelMultipleChoiceField(
        label=_("Cities served"), queryset=City.objects.all(), required=False, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = MentorProfile
        fields = [
            "kind",
            "gender",
            "languages",
            "capacity",
            "qualifications",
            "training",
            "vetting_status",
            "vetted_on",
            "vetting_expires_on",
            "vetting_note",
        ]
        widgets = {
            "vetted_on": forms.DateInput(attrs={"type": "date"}),
            "vetting_expires_on": forms.DateInput(attrs={"type": "date"}),
            "qualifications": forms.Textarea(attrs={"rows": 2}),
            "training": forms.Textarea(attrs={"rows": 2}),
            "vetting_note": forms.Textarea(attrs={"rows": 2}),
        }


class NewMentorForm(MentorProfileForm):
    mentor = forms.ModelChoiceField(label=_("Mentor"), queryset=None)

    field_order = ["mentor"]

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mentor"].queryset = candidates
