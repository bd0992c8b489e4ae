"""/healthz: 200 when the database, Redis and a Celery worker answer; 503 when one is down."""

import pytest
from devservices import EmbeddedRedis, free_port


@pytest.mark.django_db
def test_healthz_is_200_with_database_redis_and_a_worker(client, celery_worker_process):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "redis": "ok", "celery": "ok"}}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_healthz_is_503_when_redis_stops(client, settings, tmp_path):
    redis = EmbeddedRedis(tmp_path, free_port())
    settings.CELERY_BROKER_URL = redis.start()
    try:
        assert client.get("/healthz").json()["checks"]["redis"] == "ok"
    finally:
        redis.stop()

    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["checks"] == {"database": "ok", "redis": "fail", "celery": "fail"}


@pytest.mark.django_db
def test_healthz_reveals_no_configuration(client, settings):
    settings.CELERY_BROKER_URL = f"redis://:secret-password@127.0.0.1:{free_port()}/0"
    text = client.get("/healthz").content.decode()
    assert "secret-password" not in text
    assert "127.0.0.1" not in text
