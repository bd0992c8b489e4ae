"""Celery tasks: thin, idempotent, ids only in their arguments; the services do the work."""

from celery import shared_task

from . import followup_services, followups


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def deliver_follow_ups() -> int:
    """Run by beat every minute: deliver what fell due, then escalate what is long overdue."""
    followup_services.wake_snoozed()
    delivered = 0
    while batch := followups.deliver_due():
        delivered += batch
    while followups.escalate_overdue():
        pass
    followups.resend_unsent_emails()
    return delivered


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True, max_retries=5, default_retry_delay=60)
def send_notification_email(notification_id: int) -> bool:
    return followups.send_email(notification_id)


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True, max_retries=5, default_retry_delay=60)
def send_notification_emails(notification_ids: list[int]) -> int:
    """The e-mails of one delivery batch (ids only)."""
    return followups.send_emails(notification_ids)


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def sweep_follow_ups() -> int:
    """Run by beat every hour: the gap rules create what fell due (idempotent)."""
    return followups.sweep()


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def list_retention_due() -> int:
    """Run by beat once a day: closed cases past their retention period are listed for the manager."""
    from . import retention

    return retention.list_due()


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def anchor_audit_head() -> int | None:
    """Run by beat daily: the disclosure chain's head goes to a file outside the database."""
    from . import disclosure_chain

    return disclosure_chain.anchor_head().last_id


@shared_task(acks_late=True, reject_on_worker_lost=True)
def purge_idempotency_keys() -> int:
    from .api import idempotency

    return idempotency.purge_expired()


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def deliver_webhooks(ids: list[int] | None = None) -> int:
    """Given ids: those deliveries, once, right after their event committed. Without: the beat sweep of
    everything due (retries by each row's next-attempt time)."""
    from . import webhooks

    return webhooks.deliver(ids)


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def webhook_consent_expiries() -> int:
    """Run by beat hourly: expired consents naming a subscriber become `consent.expired` deliveries."""
    from . import webhooks

    return webhooks.consent_expiries()
