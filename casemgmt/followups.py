"""Follow-up rules, scheduling and delivery (issue 9). See ARCHITECTURE.md, "Data flow of a reminder".

Rules are registered here by key; the core's own rules are at the bottom, the apps to the right
register theirs in `AppConfig.ready()`. Services call `changed(event, obj, by=...)` in the transaction
of the change; `deliver_due()` and `escalate_overdue()` are what the beat task runs.
"""

from __future__ import annotations

import datetime
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Subquery
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from accounts.models import Role, User

from .followup_models import (
    OPEN_STATUSES,
    FollowUp,
    FollowUpRule,
    FollowUpStatus,
    Notification,
    OrganisationRuleSetting,
    Remind,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rule:
    key: str
    label: str
    params: dict  # the defaults
    remind: str = Remind.LEAD
    # event name -> handler(obj, by, settings); events are sent by the services through `changed()`
    events: dict[str, Callable] = field(default_factory=dict)
    sweep: Callable | None = None  # sweep(today) for gaps, run by beat
    escalate_to: str = Remind.MANAGER  # who hears of it when overdue by the escalation delay


RULES: dict[str, Rule] = {}
# Other parts that hear every change (the webhooks, issue 14): listener(event, obj), in the transaction.
LISTENERS: list[Callable[[str, object], None]] = []


def register_rule(rule: Rule) -> Rule:
    RULES[rule.key] = rule
    return rule


@dataclass(frozen=True)
class Settings:
    params: dict
    remind: str
    escalation_days: int
    enabled: bool


def rule_row(key: str) -> FollowUpRule:
    """The system-wide defaults of a rule, created from the registered ones on first use."""
    rule = RULES[key]
    row, _created = FollowUpRule.objects.get_or_create(
        key=key, defaults={"label": rule.label, "params": rule.params, "remind": rule.remind}
    )
    return row


def settings_for(key: str, organisation_id: int) -> Settings:
    """The organisation's own settings for a rule, falling back on the system's."""
    row = rule_row(key)
    own = OrganisationRuleSetting.objects.filter(rule=row, organisation_id=organisation_id).first()
    return Settings(
        params={**row.params, **(own.params or {})} if own else dict(row.params),
        remind=(own.remind if own and own.remind else row.remind),
        escalation_days=own.escalation_days if own and own.escalation_days is not None else row.escalation_days,
        enabled=own.enabled if own and own.enabled is not None else row.enabled,
    )


def changed(event: str, obj, *, by: User | None = None) -> None:
    """A service tells the rules that something changed (inside its transaction)."""
    if event == "case.stage":
        _settle_on_stage(obj)
    for rule in RULES.values():
        handler = rule.events.get(event)
        if handler is None:
            continue
        case = _case_of(obj)
        rule_settings = settings_for(rule.key, case.organisation_id)
        if rule_settings.enabled:
            handler(obj, by, rule_settings)
    for listener in LISTENERS:
        listener(event, obj)


def _settle_on_stage(case) -> None:
    """A case that leaves the program keeps only its post-exit follow-ups; a closed or declined one none."""
    from .models import Stage

    if case.stage in (Stage.EXITED, Stage.CLOSED, Stage.DECLINED):
        rows = FollowUp.objects.filter(case=case, status__in=OPEN_STATUSES)
        if case.stage == Stage.EXITED:
            rows = rows.exclude(kind="post_exit_outcome")
        rows.update(status=FollowUpStatus.CANCELLED)


def _case_of(obj):
    return obj if obj.__class__.__name__ == "Case" else obj.case


# --- Scheduling -----------------------------------------------------------------------------


def lead_or_manager(case) -> User | None:
    """Who answers for a case: its lead, else a manager of its organisation."""
    from .models import CaseTeamMember

    lead = CaseTeamMember.objects.filter(case=case, is_lead=True).select_related("user").first()
    if lead is not None and lead.user.is_active:
        return lead.user
    return manager_of(case)


def manager_of(case) -> User | None:
    return (
        User.objects.filter(
            is_active=True, membership__organisation_id=case.organisation_id, membership__role=Role.MANAGER
        )
        .order_by("pk")
        .first()
    )


def schedule(
    *,
    case,
    kind: str,
    due_on: datetime.date,
    source=None,
    holder: User | None = None,
    remind: str = Remind.LEAD,
    suffix: str = "",
) -> FollowUp | None:
    """Create the follow-up once; a second call with the same case, kind, source and date finds it."""
    source_type = source._meta.model_name if source is not None else ""
    source_id = source.pk if source is not None else None
    key = f"{kind}:{case.pk}:{source_type}:{source_id or ''}:{suffix or due_on.isoformat()}"
    assignee = holder if remind == Remind.HOLDER and holder is not None else None
    if assignee is None:
        assignee = manager_of(case) if remind == Remind.MANAGER else lead_or_manager(case)
    if assignee is None:
        log.warning("follow-up %s has nobody to remind on case %s", kind, case.pk)
        return None
    try:
        with transaction.atomic():
            row, _created = FollowUp.objects.get_or_create(
                key=key,
                defaults={
                    "case": case,
                    "kind": kind,
                    "due_on": due_on,
                    "assignee": assignee,
                    "source_type": source_type,
                    "source_id": source_id,
                },
            )
    except IntegrityError:  # created at the same moment by another transaction
        row = FollowUp.objects.get(key=key)
    if row.status == FollowUpStatus.CANCELLED:
        # scheduled again after a change cancelled it (a consent edited, a hearing moved): due anew
        row.status, row.due_on, row.assignee = FollowUpStatus.PENDING, due_on, assignee
        row.notified_at = row.escalated_at = None
        row.save(update_fields=["status", "due_on", "assignee", "notified_at", "escalated_at"])
    return row


def cancel(*, case, kind: str, source=None, except_key: str | None = None) -> int:
    rows = FollowUp.objects.filter(case=case, kind=kind, status__in=OPEN_STATUSES)
    if source is not None:
        rows = rows.filter(source_type=source._meta.model_name, source_id=source.pk)
    if except_key:
        rows = rows.exclude(key=except_key)
    return rows.update(status=FollowUpStatus.CANCELLED)


def complete(*, case, kind: str, by: User | None, with_: str = "", source=None) -> int:
    """Mark open follow-ups of a kind done, naming what satisfied them."""
    rows = FollowUp.objects.filter(case=case, kind=kind, status__in=OPEN_STATUSES)
    if source is not None:
        rows = rows.filter(source_type=source._meta.model_name, source_id=source.pk)
    return rows.update(
        status=FollowUpStatus.DONE, completed_at=timezone.now(), completed_by=by, completed_with=with_[:80]
    )


# --- Delivery -------------------------------------------------------------------------------


def deliver_due(*, today: datetime.date | None = None, batch: int = 1000) -> int:
    """Claim a batch of due, undelivered follow-ups (rows other workers hold are skipped), re-check that
    each assignee may still open the case (else the lead or a manager takes it), and create the in-app
    notifications — the exactly-once unit — then, after commit, ask for their e-mails (one task for the
    batch). A fixed number of queries per batch, whatever its size. Returns how many."""
    from . import access

    today = today or timezone.localdate()
    with transaction.atomic():
        rows = list(
            FollowUp.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=FollowUpStatus.PENDING, notified_at__isnull=True, due_on__lte=today)
            .select_related("case", "assignee__membership")
            .order_by("due_on", "pk")[:batch]
        )
        if not rows:
            return 0
        by_user: dict[int, list[FollowUp]] = defaultdict(list)
        for row in rows:
            by_user[row.assignee_id].append(row)
        lost: list[FollowUp] = []
        for rows_of_user in by_user.values():
            user = rows_of_user[0].assignee
            visible = (
                set(
                    access.cases_visible_to(user)
                    .filter(pk__in=[r.case_id for r in rows_of_user])
                    .values_list("pk", flat=True)
                )
                if user.is_active
                else set()
            )
            lost += [row for row in rows_of_user if row.case_id not in visible]
        answerable = leads_or_managers([row.case for row in lost])
        reassigned = []
        for row in lost:
            if answerable.get(row.case_id) is not None:  # nobody at all: left to the assignee, as it was
                row.assignee_id = answerable[row.case_id]
                reassigned.append(row)
        # The rows first, the notifications (which reference them) after: the other way round, PostgreSQL's
        # queue of deferred foreign-key checks makes the history trigger of the update ten times slower.
        now = timezone.now()
        for row in reassigned:
            row.notified_at = now
        FollowUp.objects.bulk_update(reassigned, ["assignee", "notified_at"])
        moved = {row.pk for row in reassigned}
        FollowUp.objects.filter(pk__in=[row.pk for row in rows if row.pk not in moved]).update(notified_at=now)
        # The follow-ups are locked, and only this function creates "due" notifications, so none of these
        # is being created elsewhere; the unique constraint stays the backstop (a conflict rolls back all).
        have = set(
            Notification.objects.filter(follow_up__in=rows, purpose=Notification.Purpose.DUE).values_list(
                "follow_up_id", "user_id"
            )
        )
        created = Notification.objects.bulk_create(
            Notification(follow_up_id=row.pk, user_id=row.assignee_id, purpose=Notification.Purpose.DUE)
            for row in rows
            if (row.pk, row.assignee_id) not in have
        )
        _mail_on_commit([n.pk for n in created])
    return len(rows)


def _mail_on_commit(notification_ids: list[int]) -> None:
    from . import tasks

    if notification_ids:
        transaction.on_commit(lambda: tasks.send_notification_emails.delay(notification_ids))


def leads_or_managers(cases) -> dict[int, int | None]:
    """`lead_or_manager` for many cases in two queries: case id -> user id (None: nobody to remind)."""
    from .models import CaseTeamMember

    if not cases:
        return {}
    ids = {case.pk for case in cases}
    leads = dict(
        CaseTeamMember.objects.filter(case_id__in=ids, is_lead=True, user__is_active=True).values_list(
            "case_id", "user_id"
        )
    )
    organisations = {case.organisation_id for case in cases if case.pk not in leads}
    managers: dict[int, int] = {}
    for organisation_id, user_id in (
        User.objects.filter(
            is_active=True, membership__organisation_id__in=organisations, membership__role=Role.MANAGER
        )
        .order_by("-pk")  # the first by pk wins, as in manager_of()
        .values_list("membership__organisation_id", "pk")
    ):
        managers[organisation_id] = user_id
    return {case.pk: leads.get(case.pk) or managers.get(case.organisation_id) for case in cases}


def sweep(*, today: datetime.date | None = None) -> int:
    """The periodic rules (gaps: no mentoring session for 14 days, no family contact for 30); idempotent,
    since every follow-up has its key. Returns how many rules ran."""
    today = today or timezone.localdate()
    ran = 0
    for rule in RULES.values():
        if rule.sweep is not None:
            rule.sweep(today)
            ran += 1
    return ran


def escalate_overdue(*, today: datetime.date | None = None, batch: int = 200) -> int:
    """Overdue by the rule's escalation delay: the manager is told, the follow-up marked escalated."""
    today = today or timezone.localdate()
    with transaction.atomic():
        rows = list(
            FollowUp.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=FollowUpStatus.PENDING, due_on__lt=today)
            .select_related("case")
            .order_by("due_on", "pk")[: batch * 5]
        )
        escalated, created = [], []
        delays: dict[tuple[str, int], int] = {}  # the settings of a rule and organisation, read once
        for row in rows:
            setting = (row.kind, row.case.organisation_id)
            if setting not in delays:
                delays[setting] = settings_for(*setting).escalation_days if row.kind in RULES else 7
            delay = delays[setting]
            if row.due_on + datetime.timedelta(days=delay) > today:
                continue
            rule = RULES.get(row.kind)
            manager = lead_or_manager(row.case) if rule and rule.escalate_to == Remind.LEAD else manager_of(row.case)
            if manager is not None:
                notification, is_new = Notification.objects.get_or_create(
                    follow_up=row, user=manager, purpose=Notification.Purpose.ESCALATION
                )
                if is_new:
                    created.append(notification.pk)
            row.status, row.escalated_at = FollowUpStatus.ESCALATED, timezone.now()
            escalated.append(row)
            if len(escalated) >= batch:
                break
        FollowUp.objects.bulk_update(escalated, ["status", "escalated_at"])
        _mail_on_commit(created)
    return len(escalated)


# An e-mail task may be lost when the broker fails right after a delivery batch committed; the minute's
# delivery then sends what is still unsent after this long (at least once, de-duplicated by Message-ID).
EMAIL_RESEND_AFTER = datetime.timedelta(minutes=5)


def resend_unsent_emails(*, batch: int = 1000) -> int:
    """Send the e-mails of notifications whose own task never ran (ids in batches; locked rows skipped)."""
    cutoff = timezone.now() - EMAIL_RESEND_AFTER
    sent = 0
    while True:
        ids = list(
            Notification.objects.filter(email_sent_at__isnull=True, follow_up__isnull=False, created_at__lt=cutoff)
            .exclude(user__email="")
            .order_by("created_at")
            .values_list("pk", flat=True)[:batch]
        )
        if not ids:
            return sent
        done = send_emails(ids)
        sent += done
        if done == 0:  # all locked by running tasks: they send them
            return sent


def send_email(notification_id: int) -> bool:
    """One notification's e-mail (see `send_emails`)."""
    return send_emails([notification_id]) == 1


def send_emails(notification_ids: list[int]) -> int:
    """At least once, de-duplicated by the notification's id (Message-ID). A case code and a link; no name.
    The notifications are locked while their e-mails go out (a duplicate task skips those and sends the
    rest); they are marked sent in the same transaction, so a crash before the commit sends them again."""
    from django.core.mail import get_connection

    with transaction.atomic():
        notifications = list(
            Notification.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("user", "follow_up__case__participant")
            # e-mails are for follow-ups only (a monthly report's notification has none)
            .filter(pk__in=notification_ids, email_sent_at__isnull=True, follow_up__isnull=False)
            .exclude(user__email="")
            .order_by("pk")
        )
        if not notifications:
            return 0
        with get_connection() as mail:
            mail.send_messages([_message(notification) for notification in notifications])
        Notification.objects.filter(pk__in=[n.pk for n in notifications]).update(email_sent_at=timezone.now())
        return len(notifications)


def _message(notification: Notification) -> EmailMessage:
    follow_up = notification.follow_up
    code = follow_up.case.participant.case_code
    label = RULES[follow_up.kind].label if follow_up.kind in RULES else follow_up.kind
    link = f"{settings.SITE_URL.rstrip('/')}{reverse('case-detail', args=[follow_up.case_id])}"
    # in the recipient's language (issue 15): a task has no request to take it from
    with translation.override(notification.user.language or settings.LANGUAGE_CODE):
        if notification.purpose == Notification.Purpose.ESCALATION:
            subject = _("Overdue follow-up on case %(code)s") % {"code": code}
        else:
            subject = _("Follow-up due on case %(code)s") % {"code": code}
        body = _("%(what)s, due %(due)s, on case %(code)s.\n\nOpen the case: %(link)s\n") % {
            "what": label,
            "due": formats.date_format(follow_up.due_on, "DATE_FORMAT"),
            "code": code,
            "link": link,
        }
    return EmailMessage(
        subject,
        body,
        to=[notification.user.email],
        headers={"Message-ID": f"<notification-{notification.pk}@{settings.EMAIL_MESSAGE_ID_DOMAIN}>"},
    )


# --- The core's rules (handbook §6) -----------------------------------------------------------


def _days(n) -> datetime.timedelta:
    return datetime.timedelta(days=int(n))


def _first_contact(case, by, rule: Settings) -> None:
    schedule(
        case=case, kind="first_contact", due_on=case.referral_date + _days(rule.params["days"]), remind=rule.remind
    )


def _first_contact_made(case, by, rule: Settings) -> None:
    if case.first_contact_date:
        complete(case=case, kind="first_contact", by=by, with_=f"first contact {case.first_contact_date}")


register_rule(
    Rule(
        "first_contact",
        "First contact after referral",
        {"days": 7},
        events={"case.opened": _first_contact, "case.screened": _first_contact_made},
    )
)


def _assessment_due(case, by, rule: Settings) -> None:
    from .models import Stage

    if case.stage == Stage.ASSESSMENT:
        due = timezone.localdate() + _days(rule.params["days"])
        schedule(case=case, kind="initial_assessment", due_on=due, remind=rule.remind)


def _assessed(assessment, by, rule: Settings) -> None:
    complete(case=assessment.case, kind="initial_assessment", by=by, with_=f"assessment:{assessment.pk}")


register_rule(
    Rule(
        "initial_assessment",
        "Initial assessment after the case is accepted",
        {"days": 14},
        events={"case.stage": _assessment_due, "assessment.recorded": _assessed},
    )
)


def _reassessment(assessment, by, rule: Settings) -> None:
    from .casefile_services import add_months

    case = assessment.case
    complete(case=case, kind="reassessment", by=by, with_=f"assessment:{assessment.pk}")
    months = rule.params["months"].get(assessment.risk_band)
    if months:
        schedule(
            case=case,
            kind="reassessment",
            due_on=add_months(assessment.assessed_on, int(months)),
            source=assessment,
            remind=rule.remind,
        )


register_rule(
    Rule(
        "reassessment",
        "Reassessment by risk band",
        {"months": {"high": 3, "medium": 6, "low": 12}},
        events={"assessment.recorded": _reassessment},
    )
)


def _consent_expiry(consent, by, rule: Settings) -> None:
    cancel(case=consent.case, kind="consent_expiry", source=consent)
    if consent.expires_on and not consent.withdrawn_on:
        due = consent.expires_on - _days(rule.params["days_before"])
        schedule(case=consent.case, kind="consent_expiry", due_on=due, source=consent, remind=rule.remind)


register_rule(
    Rule(
        "consent_expiry",
        "Consent expiry",
        {"days_before": 30},
        events={"consent.saved": _consent_expiry},
    )
)


def _post_exit(case, by, rule: Settings) -> None:
    from .casefile import Outcome

    for outcome in Outcome.objects.filter(case=case, recorded_on__isnull=True, due_on__isnull=False):
        schedule(case=case, kind="post_exit_outcome", due_on=outcome.due_on, source=outcome, remind=rule.remind)


def _outcome_recorded(outcome, by, rule: Settings) -> None:
    complete(case=outcome.case, kind="post_exit_outcome", by=by, with_=f"outcome:{outcome.pk}", source=outcome)


register_rule(
    Rule(
        "post_exit_outcome",
        "Post-exit outcome follow-up (6, 12 and 24 months)",
        {"months": [6, 12, 24]},
        events={"case.exited": _post_exit, "outcome.recorded": _outcome_recorded},
    )
)


def _court_dates(event, by, rule: Settings) -> None:
    """Hearings and probation appointments: reminded some days before (7 and 1 by default)."""
    cancel(case=event.case, kind="court_date", source=event)
    if event.kind not in ("hearing", "probation_appointment"):
        return
    today = timezone.localdate()
    for days in rule.params["days_before"]:
        due = event.date - _days(days)
        if due >= today:
            schedule(
                case=event.case, kind="court_date", due_on=due, source=event, remind=rule.remind, suffix=f"{days}d"
            )


register_rule(
    Rule(
        "court_date",
        "Hearing or probation appointment coming",
        {"days_before": [7, 1]},
        events={"legal_event.saved": _court_dates},
    )
)


def _plan_after_assessment(assessment, by, rule: Settings) -> None:
    """A reintegration plan within 30 days of an assessment, unless the case has goals already."""
    from .casefile import Goal

    if not Goal.objects.filter(case=assessment.case).exists():
        due = assessment.assessed_on + _days(rule.params["days"])
        schedule(case=assessment.case, kind="plan", due_on=due, source=assessment, remind=rule.remind)


def _plan_made(goal, by, rule: Settings) -> None:
    complete(case=goal.case, kind="plan", by=by, with_=f"goal:{goal.pk}")


register_rule(
    Rule(
        "plan",
        "Reintegration plan after the assessment",
        {"days": 30},
        events={"assessment.recorded": _plan_after_assessment, "goal.saved": _plan_made},
    )
)


def _reviews(today: datetime.date) -> None:
    """Plan reviews every 3 months for active cases, and case conferences every 14 days for high-risk
    ones: one follow-up per period, keyed by the period, inserted in bulk (the sweep runs over every
    active case; existing keys are skipped by the database), so a second sweep creates nothing."""
    from .casefile import Assessment
    from .casefile_services import add_months
    from .models import Case, CaseTeamMember, Stage

    latest_band = Assessment.objects.filter(case=OuterRef("pk")).order_by("-assessed_on", "-pk").values("risk_band")[:1]
    lead = CaseTeamMember.objects.filter(case=OuterRef("pk"), is_lead=True, user__is_active=True).values("user_id")[:1]
    cases = (
        Case.objects.filter(stage__in=[Stage.ACTIVE, Stage.REVIEW])
        .annotate(band=Subquery(latest_band), lead=Subquery(lead))
        .values("pk", "organisation_id", "stage_changed_at", "band", "lead")
    )
    settings_by_org: dict = {}
    managers: dict = {}
    batch: list[FollowUp] = []
    for case in cases.iterator(chunk_size=2000):
        org = case["organisation_id"]
        if org not in settings_by_org:
            settings_by_org[org] = (settings_for("plan_review", org), settings_for("case_conference", org))
            manager = (
                User.objects.filter(is_active=True, membership__organisation_id=org, membership__role=Role.MANAGER)
                .order_by("pk")
                .values_list("pk", flat=True)
                .first()
            )
            managers[org] = manager
        review, conference = settings_by_org[org]
        assignee = case["lead"] or managers[org]
        if assignee is None:
            continue
        since = timezone.localtime(case["stage_changed_at"]).date() if case["stage_changed_at"] else today
        if review.enabled:
            months = int(review.params["months"])
            period = max((today.year - since.year) * 12 + today.month - since.month, 0) // months + 1
            due = add_months(since, period * months)
            batch.append(_row(case["pk"], "plan_review", due, assignee, f"period-{period}"))
        if conference.enabled and case["band"] == "high":
            days = int(conference.params["days"])
            period = (today - since).days // days + 1
            batch.append(
                _row(case["pk"], "case_conference", since + _days(period * days), assignee, f"period-{period}")
            )
        if len(batch) >= 2000:
            FollowUp.objects.bulk_create(batch, ignore_conflicts=True)
            batch = []
    FollowUp.objects.bulk_create(batch, ignore_conflicts=True)


def _row(case_id: int, kind: str, due_on: datetime.date, assignee_id: int, suffix: str) -> FollowUp:
    """A follow-up keyed like `schedule()` keys it, for bulk inserts."""
    return FollowUp(
        case_id=case_id,
        kind=kind,
        due_on=due_on,
        assignee_id=assignee_id,
        key=f"{kind}:{case_id}:::{suffix}",
    )


register_rule(Rule("plan_review", "Plan review", {"months": 3}, sweep=_reviews))
register_rule(Rule("case_conference", "Multi-agency case conference (high-risk cases)", {"days": 14}))


def _retention_review(case, by, rule: Settings) -> None:
    from .casefile_services import add_months
    from .models import Stage

    if case.stage == Stage.CLOSED:
        due = add_months(timezone.localdate(), int(rule.params["months"]))
        schedule(case=case, kind="retention_review", due_on=due, remind=rule.remind)


register_rule(
    Rule(
        "retention_review",
        "Retention review of a closed case",
        {"months": 24},
        remind=Remind.MANAGER,
        events={"case.stage": _retention_review},
    )
)
