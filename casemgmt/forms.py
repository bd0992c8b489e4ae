from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.forms import FastSelect, StyledForm
from accounts.models import City, Organisation

from .access import GROUP_FIELDS
from .models import LANGUAGES, Eligibility, ExitReason, LegalStatus, ReferralSource, Stage, TeamRole

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ParticipantFieldsMixin(forms.Form):
    given_name_latin = forms.CharField(label=_("Given name (Latin script)"), max_length=100)
    family_name_latin = forms.CharField(label=_("Family name (Latin script)"), max_length=100)
    given_name_arabic = forms.CharField(
        label=_("Given name (Arabic script)"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"dir": "rtl", "lang": "ar"}),
    )
    family_name_arabic = forms.CharField(
        label=_("Family name (Arabic script)"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"dir": "rtl", "lang": "ar"}),
    )
    city = forms.ModelChoiceField(label=_("City"), queryset=City.objects.all())
    languages = forms.MultipleChoiceField(
        label=_("Languages"), choices=LANGUAGES, required=False, widget=forms.SelectMultiple(attrs={"size": 4})
    )
    date_of_birth = forms.DateField(label=_("Date of birth"), required=False, widget=DATE)
    national_id = forms.CharField(label=_("National ID"), max_length=20, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=30, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    address = forms.CharField(label=_("Address"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def clean_date_of_birth(self):
        value = self.cleaned_data.get("date_of_birth")
        if value and value >= timezone.localdate():
            raise forms.ValidationError(_("The date of birth must be in the past."))
        if value and value.year < 1900:
            raise forms.ValidationError(_("Check the year of birth."))
        return value


class ReferralFieldsMixin(forms.Form):
    referral_source = forms.ChoiceField(label=_("Referral source"), choices=ReferralSource.choices)
    referral_date = forms.DateField(label=_("Referral date"), widget=DATE)
    referring_organisation = forms.ModelChoiceField(
        label=_("Referring organisation"), queryset=Organisation.objects.filter(is_active=True), required=False
    )
    referral_reason = forms.CharField(
        label=_("Reason for referral"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def clean_referral_date(self):
        value = self.cleaned_data["referral_date"]
        if value > timezone.localdate():
            raise forms.ValidationError(_("The referral date cannot be in the future."))
        return value


class LegalFieldsMixin(forms.Form):
    legal_status = forms.ChoiceField(label=_("Legal status"), choices=LegalStatus.choices)
    sentence_ends_on = forms.DateField(label=_("Sentence ends on"), required=False, widget=DATE)
    legal_conditions = forms.CharField(
        label=_("Probation or parole conditions"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


PARTICIPANT_FORM_FIELDS = list(ParticipantFieldsMixin.base_fields)


class CaseOpenForm(StyledForm, ParticipantFieldsMixin, ReferralFieldsMixin):
    """Open a case from a referral."""

    def participant_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in PARTICIPANT_FORM_FIELDS}

    def referral_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in ReferralFieldsMixin.base_fields}


class CaseProfileForm(StyledForm, ParticipantFieldsMixin, ReferralFieldsMixin, LegalFieldsMixin):
    """Edit the fields of the groups the user may change; the others are not even on the form."""

    def __init__(self, *args, editable_groups: frozenset[str], **kwargs):
        super().__init__(*args, **kwargs)
        allowed = {name for group in editable_groups for name in GROUP_FIELDS[group]}
        for name in list(self.fields):
            if name not in allowed:
                del self.fields[name]

    def clean_referral_date(self):
        return ReferralFieldsMixin.clean_referral_date(self)


class StageForm(StyledForm):
    to_stage = forms.ChoiceField(label=_("Move to"), widget=forms.RadioSelect)
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)

    def __init__(self, *args, case, **kwargs):
        super().__init__(*args, **kwargs)
        # exits and closures have their own forms
        self.fields["to_stage"].choices = [
            (s, Stage(s).label) for s in case.allowed_transitions() if s not in (Stage.EXITED, Stage.CLOSED)
        ]


class ReopenForm(StyledForm):
    reason = forms.CharField(
        label=_("Why is the case re-opened?"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )


class TeamAddForm(StyledForm):
    user = forms.ModelChoiceField(label=_("Colleague"), queryset=None)
    make_lead = forms.BooleanField(
        label=_("Make lead caseworker"), required=False, widget=forms.CheckboxInput(attrs={"class": "form-check-input"})
    )

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = candidates
        self.fields["user"].label_from_instance = lambda u: f"{u.get_full_name()} — {u.membership.get_role_display()}"

    def team_role(self) -> str:
        return str(self.cleaned_data["user"].membership.role)


class CaseFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    stage = forms.ChoiceField(label=_("Stage"), choices=[("", _("All stages")), *Stage.choices], required=False)
    city = forms.ChoiceField(label=_("City"), required=False)
    referral_source = forms.ChoiceField(
        label=_("Referral source"), choices=[("", _("All sources")), *ReferralSource.choices], required=False
    )
    lead = forms.TypedChoiceField(label=_("Lead"), coerce=int, required=False, empty_value=None)
    risk_band = forms.ChoiceField(
        label=_("Risk band"),
        required=False,
        choices=[("", _("Any band")), ("low", _("Low")), ("medium", _("Medium")), ("high", _("High"))],
    )
    overdue = forms.BooleanField(label=_("With an overdue follow-up"), required=False)
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[
            ("-updated", _("Recently updated")),
            ("code", _("Case code")),
            ("name", _("Name")),
            ("stage", _("Stage")),
            ("-referral", _("Newest referral")),
            ("referral", _("Oldest referral")),
        ],
    )

    def __init__(self, *args, leads, allowed: frozenset[str], **kwargs):
        super().__init__(*args, **kwargs)
        if "referral_source" not in allowed:
            del self.fields["referral_source"]
        if "risk_band" not in allowed:
            del self.fields["risk_band"]
        if "sort:referral" not in allowed:
            self.fields["sort"].choices = [c for c in self.fields["sort"].choices if "referral" not in c[0]]
        # tuples, not model instances: the lead list of a large organisation has dozens of names
        cities = City.objects.values_list("code", "name")
        self.fields["city"].choices = [("", _("All cities")), *cities]
        names = leads.values_list("pk", "first_name", "last_name")
        # as User.get_full_name()
        self.fields["lead"].choices = [
            ("", _("Any lead")),
            *((pk, f"{first} {last}".strip()) for pk, first, last in names),
        ]
        for f in self.fields.values():
            if type(f.widget) is forms.Select:
                f.widget = FastSelect(attrs=f.widget.attrs, choices=f.choices)
            if isinstance(f.widget, forms.CheckboxInput):
                f.widget.attrs.setdefault("class", "form-check-input")
                continue
            f.widget.attrs.setdefault(
                "class",
                "form-select form-select-sm" if isinstance(f.widget, forms.Select) else "form-control form-control-sm",
            )


TEAM_ROLE_FOR_MEMBERSHIP = {
    "caseworker": TeamRole.CASEWORKER,
    "placement_officer": TeamRole.PLACEMENT_OFFICER,
}


class ScreeningForm(StyledForm):
    first_contact_date = forms.DateField(label=_("First contact"), widget=DATE)
    decision = forms.ChoiceField(label=_("Eligibility decision"), choices=Eligibility.choices, widget=forms.RadioSelect)
    reason = forms.CharField(label=_("Reason for the decision"), widget=forms.Textarea(attrs={"rows": 2}))


class OutcomeFieldsMixin(forms.Form):
    education = forms.ChoiceField(label=_("Education"), required=False)
    employment = forms.ChoiceField(label=_("Employment"), required=False)
    housing = forms.ChoiceField(label=_("Housing"), required=False)
    family = forms.ChoiceField(label=_("Family"), required=False)
    legal_status = forms.ChoiceField(label=_("Legal status"), required=False, choices=[("", "—"), *LegalStatus.choices])
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        from .casefile import Outcome

        super().__init__(*args, **kwargs)
        for name, choices in (
            ("education", Outcome.Education),
            ("employment", Outcome.Employment),
            ("housing", Outcome.Housing),
            ("family", Outcome.Family),
        ):
            self.fields[name].choices = [("", "—"), *choices.choices]

    def outcome(self) -> dict:
        return {
            name: self.cleaned_data[name]
            for name in ("education", "employment", "housing", "family", "legal_status", "notes")
        }


class ExitForm(StyledForm, OutcomeFieldsMixin):
    reason = forms.ChoiceField(label=_("Exit reason"), choices=ExitReason.choices)
    exited_on = forms.DateField(label=_("Exit date"), widget=DATE)

    field_order = ["reason", "exited_on"]


class CloseForm(StyledForm):
    reason = forms.CharField(
        label=_("Why is the case closed?"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )


class OutcomeRecordForm(StyledForm, OutcomeFieldsMixin):
    recorded_on = forms.DateField(label=_("Follow-up date"), widget=DATE)
    reoffended = forms.NullBooleanField(label=_("Re-offended since the exit"), required=False)
    relapse = forms.NullBooleanField(label=_("Relapse (re-engagement, threats)"), required=False)

    field_order = ["recorded_on"]

    def data_for_service(self) -> dict:
        return {
            **self.outcome(),
            "reoffended": self.cleaned_data["reoffended"],
            "relapse": self.cleaned_data["relapse"],
        }


class TransferForm(StyledForm):
    to_organisation = forms.ModelChoiceField(label=_("Receiving organisation"), queryset=None)
    consent = forms.ModelChoiceField(label=_("Participant's consent to the transfer"), queryset=None)
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)

    def __init__(self, *args, case, consents, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_organisation"].queryset = Organisation.objects.filter(kind="ngo", is_active=True).exclude(
            pk=case.organisation_id
        )
        self.fields["consent"].queryset = consents
