"""The dashboard's filter form (GET): period, city, worker, referral source."""

from __future__ import annotations

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.forms import FastSelect, StyledForm
from accounts.models import City, Role, User
from casemgmt.models import ReferralSource

from .figures import Filters
from .selectors import default_period

STAFF_ROLES = (Role.CASEWORKER, Role.PLACEMENT_OFFICER, Role.COUNSELLOR, Role.MANAGER)
MAX_DAYS = 366 * 5


class FilterForm(StyledForm):
    start = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    city = forms.TypedChoiceField(label=_("City"), required=False, coerce=int, empty_value=None, widget=FastSelect)
    worker = forms.TypedChoiceField(label=_("Worker"), required=False, coerce=int, empty_value=None, widget=FastSelect)
    source = forms.ChoiceField(label=_("Referral source"), required=False, widget=FastSelect)

    def __init__(self, data, *, organisation_id: int, **kwargs):
        super().__init__(data, **kwargs)
        self.organisation_id = organisation_id
        everyone = [("", _("All"))]
        self.fields["city"].choices = everyone + list(City.objects.order_by("name").values_list("pk", "name"))
        workers = (
            User.objects.filter(membership__organisation_id=organisation_id, membership__role__in=STAFF_ROLES)
            .order_by("last_name", "first_name")
            .values_list("pk", "first_name", "last_name")
        )
        self.fields["worker"].choices = everyone + [(pk, f"{first} {last}") for pk, first, last in workers]
        self.fields["source"].choices = everyone + list(ReferralSource.choices)

    def clean(self):
        data = super().clean()
        default_start, default_end = default_period(timezone.localdate())
        start, end = data.get("start") or default_start, data.get("end") or default_end
        if start > end:
            self.add_error("end", _("The end of the period comes before its start."))
        elif (end - start).days > MAX_DAYS:
            self.add_error("start", _("Choose a period of at most five years."))
        data["start"], data["end"] = start, end
        return data

    def filters(self) -> Filters:
        data = self.cleaned_data
        return Filters(
            organisation_id=self.organisation_id,
            start=data["start"],
            end=data["end"],
            city=data.get("city"),
            worker=data.get("worker"),
            source=data.get("source") or None,
        )


def default_filters(organisation_id: int, today: datetime.date | None = None) -> Filters:
    start, end = default_period(today or timezone.localdate())
    return Filters(organisation_id=organisation_id, start=start, end=end)
