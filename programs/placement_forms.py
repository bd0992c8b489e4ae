"""Forms of the placement pages; every write goes through `placement_services`."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.forms import StyledForm, StyledModelForm
from accounts.models import City, Organisation
from casemgmt.forms import DATE

from .models import (
    PARTNER_KINDS,
    EmployabilityProfile,
    IncomeBand,
    Opportunity,
    OpportunityKind,
    PartnerProfile,
    PlacementStatus,
    Sector,
)
from .placement_services import CHECK_IN_FIELDS, EMPLOYABILITY_FIELDS, OPPORTUNITY_FIELDS, PARTNER_PROFILE_FIELDS

YES_NO = [("", "—"), ("true", _("Yes")), ("false", _("No"))]
FINAL = ("completed", "dropped_out", "dismissed", "refused", "withdrawn")
SCALE = [("", "—"), *[(str(i), str(i)) for i in range(1, 6)]]


def _yes_no(label):
    return forms.TypedChoiceField(
        label=label,
        choices=YES_NO,
        required=False,
        coerce=lambda v: v == "true",
        empty_value=None,
    )


class PartnerProfileForm(StyledModelForm):
    class Meta:
        model = PartnerProfile
        fields = list(PARTNER_PROFILE_FIELDS)
        widgets = {"agreement_from": DATE, "agreement_until": DATE, "offers": forms.Textarea(attrs={"rows": 3})}


class PartnerCreateForm(PartnerProfileForm):
    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.ChoiceField(
        label=_("Kind"), choices=[(k, label) for k, label in Organisation.Kind.choices if k in PARTNER_KINDS]
    )

    field_order = ["name", "kind", *PARTNER_PROFILE_FIELDS]

    def profile_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in PARTNER_PROFILE_FIELDS}


class OpportunityForm(StyledModelForm):
    class Meta:
        model = Opportunity
        fields = list(OPPORTUNITY_FIELDS)
        widgets = {"start_date": DATE, "requirements": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, partners, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["partner"].queryset = partners

    def data_for_service(self) -> dict:
        return {name: self.cleaned_data[name] for name in OPPORTUNITY_FIELDS}


class BoardFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    is_open = forms.ChoiceField(
        label=pgettext_lazy("filter of opportunities", "Open"),
        required=False,
        choices=[("yes", _("Open")), ("no", _("Closed")), ("all", _("All"))],
    )
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[("", _("Any")), *OpportunityKind.choices])
    city = forms.ChoiceField(label=_("City"), required=False)
    sector = forms.ChoiceField(label=_("Sector"), required=False, choices=[("", _("Any")), *Sector.choices])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["city"].choices = [("", _("Any")), *City.objects.values_list("code", "name")]
        for field in self.fields.values():
            field.widget.attrs["class"] = (
                "form-select form-select-sm"
                if isinstance(field.widget, forms.Select)
                else "form-control form-control-sm"
            )


class EmployabilityForm(StyledModelForm):
    sectors = forms.MultipleChoiceField(
        label=_("Sectors of skill or experience"),
        choices=Sector.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = EmployabilityProfile
        fields = list(EMPLOYABILITY_FIELDS)
        widgets = {
            name: forms.Textarea(attrs={"rows": 2})
            for name in ("skills", "work_history", "certificates", "constraints")
        }

    def data_for_service(self) -> dict:
        return {name: self.cleaned_data[name] for name in EMPLOYABILITY_FIELDS}


class ProposeForm(StyledForm):
    opportunity = forms.ModelChoiceField(label=_("Opportunity"), queryset=Opportunity.objects.none())
    proposed_on = forms.DateField(label=_("Proposed on"), widget=DATE)
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, opportunities, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("proposed_on", timezone.localdate())
        super().__init__(*args, **kwargs)
        self.fields["opportunity"].queryset = opportunities


class MoveForm(StyledForm):
    to_status = forms.ChoiceField(label=_("New status"), choices=PlacementStatus.choices)
    on = forms.DateField(label=_("Date"), widget=DATE)
    reason = forms.CharField(label=_("Reason"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    certificate = _yes_no(_("Certificate obtained"))
    certificate_name = forms.CharField(label=_("Certificate"), required=False, max_length=200)
    employed_after = _yes_no(_("Employed after the placement"))
    income_band = forms.ChoiceField(label=_("Income band"), required=False, choices=[("", "—"), *IncomeBand.choices])
    confirm = forms.BooleanField(
        label=_("I confirm: a refused, withdrawn or ended placement cannot be re-opened"), required=False
    )

    def __init__(self, *args, allowed, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("on", timezone.localdate())
        super().__init__(*args, **kwargs)
        self.fields["to_status"].choices = [(s, PlacementStatus(s).label) for s in allowed]
        self.ends = any(s in ("completed", "dropped_out", "dismissed") for s in allowed)
        if not self.ends:
            for name in ("certificate", "certificate_name", "employed_after", "income_band"):
                del self.fields[name]

    def clean(self):
        data = super().clean()
        if data.get("to_status") in FINAL and not data.get("confirm"):
            self.add_error("confirm", _("Tick to confirm this step: it cannot be undone."))
        return data

    def outcome(self) -> dict:
        data = {}
        for name in ("certificate", "certificate_name", "employed_after", "income_band"):
            if name in self.cleaned_data and self.cleaned_data[name] not in (None, ""):
                data[name] = self.cleaned_data[name]
        return data


class CheckInForm(StyledForm):
    recorded_on = forms.DateField(label=_("Date of the check-in"), widget=DATE)
    still_there = forms.TypedChoiceField(
        label=_("Still there"), choices=YES_NO, coerce=lambda v: v == "true", empty_value=None
    )
    hours_per_week = forms.IntegerField(label=_("Hours per week"), required=False, min_value=0, max_value=80)
    participant_satisfaction = forms.TypedChoiceField(
        label=_("Participant satisfaction (1 to 5)"), choices=SCALE, coerce=int, empty_value=None, required=False
    )
    partner_satisfaction = forms.TypedChoiceField(
        label=_("Partner satisfaction (1 to 5)"), choices=SCALE, coerce=int, empty_value=None, required=False
    )
    issues = forms.CharField(label=_("Issues"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("recorded_on", timezone.localdate())
        super().__init__(*args, **kwargs)

    def data_for_service(self) -> dict:
        return {name: self.cleaned_data[name] for name in CHECK_IN_FIELDS}
