from __future__ import annotations

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.forms import StyledForm, StyledModelForm
from accounts.models import Organisation, Role, User

from .boundary_models import LegalMandate
from .casefile import (
    ConflictHistory,
    Consent,
    DataCategory,
    Goal,
    InformationQuality,
    LegalEvent,
    Note,
    RelapseEvent,
    SafetyFlag,
    ServiceReferral,
)
from .casefile_services import DATE_ORDER, WRITABLE_FIELDS
from .forms import DATE

MODELS = {
    "goal": Goal,
    "note": Note,
    "legal_event": LegalEvent,
    "relapse_event": RelapseEvent,
    "safety_flag": SafetyFlag,
    "conflict_history": ConflictHistory,
    "consent": Consent,
    "service_referral": ServiceReferral,
    "mandate": LegalMandate,
}


def record_form_class(key: str) -> type[forms.ModelForm]:
    """A model form with exactly the fields a user may write on this kind of row."""
    model = MODELS[key]
    date_fields = [f.name for f in model._meta.get_fields() if f.get_internal_type() == "DateField"]
    meta = type(
        "Meta",
        (),
        {
            "model": model,
            "fields": list(WRITABLE_FIELDS[key]),
            "widgets": {name: DATE for name in date_fields if name in WRITABLE_FIELDS[key]},
        },
    )
    attrs: dict = {"Meta": meta, "record_key": key}
    if key == "consent":
        attrs["categories"] = forms.MultipleChoiceField(
            label=_("Data categories"), choices=DataCategory.choices, widget=forms.CheckboxSelectMultiple
        )
    return type(f"{model.__name__}Form", (RecordForm,), attrs)


class RecordForm(StyledModelForm):
    def __init__(self, *args, case, **kwargs):
        super().__init__(*args, **kwargs)
        if "owner" in self.fields:
            self.fields["owner"].required = False
            self.fields["owner"].help_text = _("Leave empty to own the goal yourself.")
            self.fields["owner"].queryset = (
                User.objects.filter(
                    Q(case_teams__case=case)
                    | Q(membership__organisation_id=case.organisation_id, membership__role=Role.MANAGER)
                )
                .distinct()
                .order_by("last_name")
            )
        if "goal" in self.fields:
            self.fields["goal"].queryset = Goal.objects.filter(case=case)
        if "authority" in self.fields:
            self.fields["authority"].queryset = Organisation.objects.filter(
                is_active=True, kind=Organisation.Kind.AUTHORITY
            )
        if "recipient" in self.fields:
            self.fields["recipient"].queryset = Organisation.objects.filter(is_active=True)

    record_key = ""

    def clean(self):
        """Dates out of order are an error on the later field (before the model's constraint would
        report them for the whole form)."""
        data = super().clean()
        for earlier, later in DATE_ORDER.get(self.record_key, ()):
            a, b = data.get(earlier), data.get(later)
            if a and b and b < a:
                self.add_error(
                    later,
                    _("This date cannot be before the %(field)s.") % {"field": self.fields[earlier].label.lower()},
                )
        return data

    def data_for_service(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.fields}


class GoalProgressForm(StyledForm):
    date = forms.DateField(label=_("Date"), widget=DATE)
    note = forms.CharField(label=_("Progress"), widget=forms.Textarea(attrs={"rows": 2}))


class AttachmentForm(StyledForm):
    file = forms.FileField(label=_("File (PDF, PNG or JPEG, up to 10 MB)"))
    description = forms.CharField(label=_("Description"), max_length=200, required=False)


class AssessmentForm(StyledForm):
    """One rating, evidence and information-quality field per template item."""

    assessed_on = forms.DateField(label=_("Assessed on"), widget=DATE)
    summary = forms.CharField(label=_("Summary"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    RATINGS = [
        ("", "—"),
        ("0", _("0 — absent")),
        ("1", _("1 — slight")),
        ("2", _("2 — moderate")),
        ("3", _("3 — strong")),
    ]

    def __init__(self, *args, template, **kwargs):
        super().__init__(*args, **kwargs)
        self.domains = []
        for domain in template.domains.prefetch_related("items"):
            rows = []
            for item in domain.items.all():
                self.fields[f"rating_{item.pk}"] = forms.TypedChoiceField(
                    label=item.text,
                    choices=self.RATINGS,
                    coerce=int,
                    widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
                )
                self.fields[f"evidence_{item.pk}"] = forms.CharField(
                    label=_("Evidence"),
                    required=False,
                    widget=forms.TextInput(attrs={"class": "form-control form-control-sm"}),
                )
                self.fields[f"quality_{item.pk}"] = forms.ChoiceField(
                    label=_("Information quality"),
                    choices=InformationQuality.choices,
                    initial="medium",
                    widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
                )
                rows.append((item, self[f"rating_{item.pk}"], self[f"evidence_{item.pk}"], self[f"quality_{item.pk}"]))
            self.domains.append((domain, rows))

    def answers(self) -> list[dict]:
        return [
            {
                "item": item.pk,
                "rating": self.cleaned_data[f"rating_{item.pk}"],
                "evidence": self.cleaned_data[f"evidence_{item.pk}"],
                "information_quality": self.cleaned_data[f"quality_{item.pk}"],
            }
            for _domain, rows in self.domains
            for item, *_fields in rows
        ]
