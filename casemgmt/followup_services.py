"""Acting on follow-ups: complete, snooze, reassign; reading notifications. Writes with business meaning,
keyword-only, by the acting user; who may act is asked of `followup_access` first by the callers."""

from __future__ import annotations

import datetime

import pghistory
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User

from .followup_models import OPEN_STATUSES, FollowUp, FollowUpStatus, Notification


def _locked_open(follow_up: FollowUp) -> FollowUp:
    locked = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
    if locked.status not in OPEN_STATUSES:
        raise ValidationError(
            _("This follow-up is %(status)s already.") % {"status": locked.get_status_display().lower()}
        )
    return locked


@transaction.atomic
def followup_complete(*, follow_up: FollowUp, by: User, note: str = "", satisfied_by: str = "") -> FollowUp:
    """Done, naming what satisfied it (a logged session, a recorded assessment) when there is one."""
    with pghistory.context(user=by.pk):
        locked = _locked_open(follow_up)
        locked.status = FollowUpStatus.DONE
        locked.completed_at, locked.completed_by = timezone.now(), by
        locked.completed_with = satisfied_by[:80]
        locked.note = note.strip()
        locked.save()
        return locked


@transaction.atomic
def followup_snooze(*, follow_up: FollowUp, by: User, until: datetime.date, reason: str) -> FollowUp:
    """Put off until a date, with a reason; it is delivered again on that date."""
    with pghistory.context(user=by.pk):
        locked = _locked_open(follow_up)
        errors = {}
        today = timezone.localdate()
        if until <= today:
            errors["until"] = [_("Snooze to a later day.")]
        elif until > today + datetime.timedelta(days=180):
            errors["until"] = [_("Snooze for six months at most.")]
        if not reason.strip():
            errors["reason"] = [_("Say why it waits.")]
        if errors:
            raise ValidationError(errors)
        locked.status, locked.snoozed_until, locked.note = FollowUpStatus.SNOOZED, until, reason.strip()
        locked.notified_at = None  # to be delivered again when the snooze ends
        locked.save()
        return locked


@transaction.atomic
def followup_reassign(*, follow_up: FollowUp, by: User, to: User) -> FollowUp:
    """Give it to someone else who may open the case (the caller checks that `to` may)."""
    with pghistory.context(user=by.pk):
        locked = _locked_open(follow_up)
        if to.pk == locked.assignee_id:
            raise ValidationError({"to": [_("This person holds it already.")]})
        locked.assignee, locked.notified_at = to, None  # the new holder is told
        if locked.status == FollowUpStatus.ESCALATED:
            locked.status = FollowUpStatus.PENDING
        locked.save()
        return locked


def wake_snoozed(*, today: datetime.date | None = None) -> int:
    """Snoozes that ended become pending again, due that day (run before each delivery)."""
    today = today or timezone.localdate()
    return FollowUp.objects.filter(status=FollowUpStatus.SNOOZED, snoozed_until__lte=today).update(
        status=FollowUpStatus.PENDING, due_on=today, notified_at=None
    )


def notifications_mark_read(*, user: User, ids: list[int] | None = None) -> int:
    rows = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        rows = rows.filter(pk__in=ids)
    return rows.update(read_at=timezone.now())


def _same_shape(value, default, field: str) -> None:
    """An organisation's parameters keep the shape of the defaults: numbers of days or months, lists of
    them, or a number per risk band; each between 1 and 3650."""
    if isinstance(default, dict):
        if not isinstance(value, dict) or set(value) != set(default):
            raise ValidationError(
                {"params": [_("Give %(keys)s for %(field)s.") % {"keys": ", ".join(default), "field": field}]}
            )
        for key in default:
            _same_shape(value[key], default[key], f"{field}.{key}")
    elif isinstance(default, list):
        if not isinstance(value, list) or not value:
            raise ValidationError({"params": [_("Give a list of numbers for %(field)s.") % {"field": field}]})
        for item in value:
            _same_shape(item, default[0], field)
    elif isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 3650:
        raise ValidationError({"params": [_("%(field)s must be a whole number from 1 to 3650.") % {"field": field}]})


@transaction.atomic
def rule_setting_save(
    *, organisation, rule, by: User, params=None, remind: str = "", escalation_days=None, enabled=None
):
    """An NGO's own setting of a rule (its admin); empty values fall back on the system's defaults."""
    from .followup_models import OrganisationRuleSetting, Remind

    with pghistory.context(user=by.pk):
        if params is not None:
            if not isinstance(params, dict) or set(params) - set(rule.params):
                raise ValidationError(
                    {"params": [_("Only these settings exist: %(keys)s.") % {"keys": ", ".join(rule.params)}]}
                )
            for key, value in params.items():
                _same_shape(value, rule.params[key], key)
        if remind and remind not in Remind.values:
            raise ValidationError({"remind": [_("Choose who is reminded.")]})
        if escalation_days is not None and not 1 <= escalation_days <= 365:
            raise ValidationError({"escalation_days": [_("From 1 to 365 days.")]})
        setting, _created = OrganisationRuleSetting.objects.update_or_create(
            organisation=organisation,
            rule=rule,
            defaults={
                "params": params or None,
                "remind": remind,
                "escalation_days": escalation_days,
                "enabled": enabled,
            },
        )
        return setting
