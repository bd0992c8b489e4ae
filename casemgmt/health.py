"""Health of the parts a request or a reminder depends on."""

from __future__ import annotations

import redis
from django.conf import settings
from django.db import connection


def check_database() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:  # any failure means "down"; the details go to the logs, not the probe
        return False


def check_redis() -> bool:
    try:
        client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_connect_timeout=1, socket_timeout=1)
        return bool(client.ping())
    except redis.RedisError:
        return False


def check_celery(timeout: float = 1.0) -> bool:
    from casemgmt.celery import app

    try:
        return bool(app.control.ping(timeout=timeout))
    except Exception:  # broker errors surface as assorted kombu exceptions
        return False


def health() -> dict[str, bool]:
    results = {"database": check_database(), "redis": check_redis()}
    # Without the broker a worker ping cannot succeed and would only wait for its timeout.
    results["celery"] = check_celery() if results["redis"] else False
    return results
