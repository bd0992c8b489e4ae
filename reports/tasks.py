from celery import shared_task
from django.utils import timezone

from .services import monthly_summaries_send, previous_month


@shared_task(acks_late=True, reject_on_worker_lost=True)
def send_monthly_summaries() -> int:
    """On the 1st: each manager's summary of the month just ended (idempotent: safe to run twice)."""
    today = timezone.localdate()
    return monthly_summaries_send(month=previous_month(today), today=today)
