"""Celery application: the database is the source of truth, Celery only delivers."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "casemgmt.settings")

app = Celery("casemgmt")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
