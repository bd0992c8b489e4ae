"""Forms of the authority boundary: the authority's legal events, referrals and information requests;
the manager's answers; exceptional disclosures."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.forms import StyledForm
from accounts.models import City, Organisation

from .boundary_models import AUTHORITY_CATEGORIES, ExceptionalDisclosure
from .casefile import DataCategory, LegalEvent
from .forms import DATE

CATEGORY_CHOICES = [(c.value, c.label) for c in DataCategory if c in AUTHORITY_CATEGORIES]


def _categories(label):
    return forms.MultipleChoiceField(label=label, choices=CATEGORY_CHOICES, widget=forms.CheckboxSelectMultiple)


class AuthorityLegalEventForm(StyledForm):
    kind = forms.ChoiceField(label=_("Kind"), choices=LegalEvent.Kind.choices)
    date = forms.DateField(label=_("Date"), widget=DATE)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 3}), required=False)


class InformationRequestForm(StyledForm):
    categories = _categories(_("Categories you ask for"))
    purpose = forms.CharField(
        label=_("Purpose"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The manager asks the participant; nothing is shared without their consent."),
    )


class AuthorityReferralForm(StyledForm):
    organisation = forms.ModelChoiceField(label=_("Programme"), queryset=Organisation.objects.none())
    given_name_latin = forms.CharField(label=_("Given name (Latin script)"), max_length=100)
    family_name_latin = forms.CharField(label=_("Family name (Latin script)"), max_length=100)
    given_name_arabic = forms.CharField(label=_("Given name (Arabic script)"), max_length=100, required=False)
    family_name_arabic = forms.CharField(label=_("Family name (Arabic script)"), max_length=100, required=False)
    date_of_birth = forms.DateField(label=_("Date of birth"), widget=DATE, required=False)
    city = forms.ModelChoiceField(label=_("City"), queryset=City.objects.order_by("name"))
    reason = forms.CharField(label=_("Reason for referral"), widget=forms.Textarea(attrs={"rows": 3}))
    reference = forms.CharField(label=_("Your reference"), max_length=80, required=False)

    PARTICIPANT = (
        "given_name_latin",
        "family_name_latin",
        "given_name_arabic",
        "family_name_arabic",
        "date_of_birth",
        "city",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = Organisation.objects.filter(
            is_active=True, kind=Organisation.Kind.NGO
        ).order_by("name")

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        participant = {name: data[name] for name in self.PARTICIPANT if data.get(name) not in (None, "")}
        return {
            "organisation": data["organisation"],
            "participant": participant,
            "reason": data["reason"],
            "reference": data["reference"],
        }


class GrantForm(StyledForm):
    given_on = forms.DateField(label=_("Consent given on"), widget=DATE)
    expires_on = forms.DateField(label=_("Consent expires on"), widget=DATE, required=False)


class RefuseForm(StyledForm):
    reason = forms.CharField(label=_("Reason for the refusal"), widget=forms.Textarea(attrs={"rows": 2}))


class DisclosureForm(StyledForm):
    authority = forms.ModelChoiceField(label=_("Authority"), queryset=Organisation.objects.none())
    legal_basis = forms.ChoiceField(label=_("Legal basis"), choices=ExceptionalDisclosure.LegalBasis.choices)
    justification = forms.CharField(
        label=_("Written legal basis"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("The law or duty relied on, and why it applies now. A second approver reads it."),
    )
    categories = _categories(_("Categories disclosed"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["authority"].queryset = Organisation.objects.filter(
            is_active=True, kind=Organisation.Kind.AUTHORITY
        ).order_by("name")


class DisclosureRejectForm(StyledForm):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))
