"""The three kinds of rows: their columns, and how a row becomes the single-create form and service
call the app already uses (`PartnerCreateForm` + `partner_create`, `OpportunityForm` +
`opportunity_create`, `CaseOpenForm` + `case_open`), so an import validates exactly like a page."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.utils.translation import gettext as _

from accounts.models import City, Organisation, User
from casemgmt import services as case_services
from casemgmt.forms import CaseOpenForm
from casemgmt.selectors import normalize_national_id, participant_by_national_id
from programs import placement_services
from programs.models import Opportunity
from programs.placement_forms import OpportunityForm, PartnerCreateForm
from programs.placement_selectors import partners_visible_to

from .models import ImportKind

TRUE_WORDS = {"1", "true", "yes", "y", "oui", "vrai", "نعم", "x"}
FALSE_WORDS = {"0", "false", "no", "n", "non", "faux", "لا"}


@dataclass
class Existing:
    """A row whose object exists already: skipped, with the reason shown."""

    reason: str


@dataclass
class Kind:
    key: str
    columns: list[str]
    make_form: Callable[[User, dict[str, Any]], forms.Form]
    # the natural key of a valid form (for duplicates within the file), or None
    natural_key: Callable[[forms.Form], tuple | None]
    # an Existing when the natural key is taken in the database, else None
    find_existing: Callable[[User, forms.Form], Existing | None]
    create: Callable[[User, forms.Form], Any]
    # columns looked up by name rather than by id: column -> function(user, text) -> pk or None
    lookups: dict[str, Callable[[User, str], Any]]

    def required(self, form: forms.Form) -> list[str]:
        """Columns the file must have: required fields without a default."""
        return [name for name in self.columns if form.fields[name].required and form.fields[name].initial is None]


def _city(_user: User, text: str):
    city = City.objects.filter(code__iexact=text).first() or City.objects.filter(name__iexact=text).first()
    return city.pk if city else None


def _partner(user: User, text: str):
    return partners_visible_to(user).filter(name__iexact=text).values_list("pk", flat=True).first()


def _organisation(_user: User, text: str):
    return Organisation.objects.filter(is_active=True, name__iexact=text).values_list("pk", flat=True).first()


def form_data(kind: Kind, user: User, form: forms.Form, row: dict[str, str]) -> dict[str, Any]:
    """Spreadsheet cells → the values the form's widgets expect: choices by value or label, names
    for cities and organisations, yes/no words, lists separated by `;`."""
    data: dict[str, Any] = {}
    for name in kind.columns:
        field = form.fields[name]
        text = row.get(name, "").strip()
        if not text and field.initial is not None and not callable(field.initial):
            data[name] = field.initial  # an empty cell or a missing column takes the model's default
        elif name in kind.lookups and text:
            found = kind.lookups[name](user, text)
            data[name] = found if found is not None else f"?{text}"  # the form reports the bad choice
        elif isinstance(field, forms.MultipleChoiceField):
            data[name] = [_choice(field, part.strip()) for part in text.replace(",", ";").split(";") if part.strip()]
        elif isinstance(field, forms.BooleanField):
            word = text.lower()
            # an empty cell keeps the model's default (an opportunity is open)
            data[name] = "false" if word in FALSE_WORDS else "true" if (word in TRUE_WORDS or not word) else text
        elif isinstance(field, forms.ChoiceField) and not isinstance(field, forms.ModelChoiceField):
            data[name] = _choice(field, text)
        else:
            data[name] = text
    return data


def _choice(field: forms.ChoiceField, text: str) -> str:
    lowered = text.lower()
    for value, label in field.choices:
        if lowered in (str(value).lower(), str(label).lower()):
            return str(value)
    return text


def bad_cell_messages(form: forms.Form, row: dict[str, str]) -> dict[str, list[str]]:
    """Form errors, with the unknown names of looked-up columns said plainly."""
    errors = {}
    for name, messages in form.errors.items():
        if name in row and isinstance(form.fields.get(name), forms.ModelChoiceField) and row[name].strip():
            messages = [_("“%(value)s” is not known here.") % {"value": row[name].strip()}]
        errors[name] = list(messages)
    return errors


# --- partners -----------------------------------------------------------------------------------------

PARTNER_COLUMNS = ["name", "kind", *placement_services.PARTNER_PROFILE_FIELDS]


def _partner_existing(_user: User, form: forms.Form) -> Existing | None:
    organisation = Organisation.objects.filter(name__iexact=form.cleaned_data["name"].strip()).first()
    if organisation is not None and hasattr(organisation, "partner_profile"):
        return Existing(_("This partner exists already."))
    return None  # another kind of organisation of that name: the service refuses the row


PARTNERS = Kind(
    key=ImportKind.PARTNERS,
    columns=PARTNER_COLUMNS,
    make_form=lambda user, data: PartnerCreateForm(data),
    natural_key=lambda form: (form.cleaned_data["name"].strip().casefold(),),
    find_existing=_partner_existing,
    create=lambda user, form: placement_services.partner_create(
        by=user, name=form.cleaned_data["name"], kind=form.cleaned_data["kind"], profile=form.profile_data()
    ),
    lookups={"city": _city},
)

# --- opportunities ------------------------------------------------------------------------------------


def _opportunity_existing(_user: User, form: forms.Form) -> Existing | None:
    data = form.cleaned_data
    if Opportunity.objects.filter(
        partner=data["partner"], title__iexact=data["title"].strip(), start_date=data.get("start_date")
    ).exists():
        return Existing(_("This partner has this opportunity already (same title and start date)."))
    return None


OPPORTUNITIES = Kind(
    key=ImportKind.OPPORTUNITIES,
    columns=list(placement_services.OPPORTUNITY_FIELDS),
    make_form=lambda user, data: OpportunityForm(data, partners=partners_visible_to(user)),
    natural_key=lambda form: (
        form.cleaned_data["partner"].pk,
        form.cleaned_data["title"].strip().casefold(),
        form.cleaned_data.get("start_date"),
    ),
    find_existing=_opportunity_existing,
    create=lambda user, form: placement_services.opportunity_create(by=user, data=form.data_for_service()),
    lookups={"city": _city, "partner": _partner},
)

# --- participants -------------------------------------------------------------------------------------

PARTICIPANT_COLUMNS = list(CaseOpenForm.base_fields)


def _participant_key(form: forms.Form) -> tuple | None:
    national_id = form.cleaned_data.get("national_id")
    return (normalize_national_id(national_id),) if national_id else None


def _participant_existing(user: User, form: forms.Form) -> Existing | None:
    national_id = form.cleaned_data.get("national_id")
    if national_id and participant_by_national_id(national_id, organisation_id=user.membership.organisation_id):
        return Existing(_("A participant with this national ID has a case in your organisation already."))
    return None


def _open_case(user: User, form: CaseOpenForm):
    # a manager's case lands in the intake queue, without a lead (as on the single "open a case" page)
    return case_services.case_open(
        by=user,
        organisation=user.membership.organisation,
        participant=form.participant_data(),
        lead=None,
        **form.referral_data(),
    )


PARTICIPANTS = Kind(
    key=ImportKind.PARTICIPANTS,
    columns=PARTICIPANT_COLUMNS,
    make_form=lambda user, data: CaseOpenForm(data),
    natural_key=_participant_key,
    find_existing=_participant_existing,
    create=_open_case,
    lookups={"city": _city, "referring_organisation": _organisation},
)

KINDS = {kind.key: kind for kind in (PARTNERS, OPPORTUNITIES, PARTICIPANTS)}


def column_help(kind: Kind, user: User) -> list[dict[str, Any]]:
    """For the upload page and the template's second sheet: each column, its label, whether it is
    required and what it accepts."""
    form = kind.make_form(user, None)
    out = []
    for name in kind.columns:
        field = form.fields[name]
        if name in kind.lookups:
            accepts = _("a name (cities: code or name)") if name != "city" else _("city code or name")
        elif isinstance(field, forms.BooleanField):
            accepts = _("yes or no (empty: yes)")
        elif isinstance(field, forms.MultipleChoiceField):
            accepts = _("values separated by ;") + ": " + ", ".join(str(v) for v, _label in field.choices)
        elif isinstance(field, forms.ChoiceField):
            accepts = ", ".join(str(v) for v, _label in field.choices if v != "")
        elif isinstance(field, forms.DateField):
            accepts = _("date, YYYY-MM-DD")
        elif isinstance(field, forms.IntegerField):
            accepts = _("whole number")
        else:
            accepts = _("text")
        out.append({"name": name, "label": str(field.label), "required": field.required, "accepts": accepts})
    return out
