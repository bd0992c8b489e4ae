from celery import shared_task
from django.utils import timezone

from .services import import_purge_stale


@shared_task(acks_late=True, reject_on_worker_lost=True)
def purge_stale_imports() -> int:
    """Hourly: empty the stored file of runs checked more than a day ago and never imported."""
    return import_purge_stale(now=timezone.now())
