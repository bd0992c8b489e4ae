"""Celery application: the database is the source of truth, Celery only delivers."""

import os

from celery import Celery
from celery.signals import setup_logging

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "casemgmt.settings")

app = Celery("casemgmt")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def _django_logging(loglevel=None, **kwargs) -> None:
    """The worker and beat log through settings.LOGGING (the scrubbing filter and formatter, the
    test run's log files) instead of Celery's own handlers: connecting here stops Celery from
    configuring the root logger itself. `--loglevel` still says what the process prints."""
    import logging
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)
    if loglevel:
        level = logging.getLevelName(loglevel) if isinstance(loglevel, str) else loglevel
        root = logging.getLogger()
        root.setLevel(min(level, root.level))  # the log files keep what LOGGING gives them
        for handler in root.handlers:
            if not isinstance(handler, logging.FileHandler):
                handler.setLevel(level)
