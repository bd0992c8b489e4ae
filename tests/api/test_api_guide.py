"""docs/api.md runs (issue 14): every `python` block of the guide, in order and in one namespace, against a
live server started here on the demo data of `seed_demo` (what `make run` loads), with a real Celery worker
delivering the webhook the guide subscribes to. The guide's own code gets the token, lists the shared
cases, subscribes a receiver, posts a legal event, then receives the webhook and verifies its signature."""

from __future__ import annotations

import io
import re
from contextlib import redirect_stdout
from pathlib import Path

import pytest
from django.core.management import call_command

from casemgmt.client_demo import DEMO_CLIENTS
from casemgmt.webhook_models import WebhookDelivery
from tests.casemgmt import test_followup_delivery as delivery_tests

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "api.md"
queue = delivery_tests.queue  # a Celery queue of this test's own on the suite's Redis


def guide_blocks() -> list[str]:
    return re.findall(r"^```python\n(.*?)^```$", GUIDE.read_text(encoding="utf-8"), flags=re.S | re.M)


def test_the_guide_has_runnable_steps_and_its_client_table_matches_the_demo_clients():
    blocks = guide_blocks()
    assert len(blocks) >= 6
    for i, block in enumerate(blocks):
        compile(block, f"docs/api.md python block {i + 1}", "exec")
    text = GUIDE.read_text(encoding="utf-8")
    for _org, _name, client_id, _secret, scopes in DEMO_CLIENTS:
        row = re.search(rf"^\| `{re.escape(client_id)}` \| [^|]+ \| `([^`]+)` \|$", text, flags=re.M)
        assert row, client_id
        assert row.group(1).split() == list(scopes), client_id


@pytest.mark.slow
def test_the_guide_runs_against_a_live_server(live_server, queue, settings, monkeypatch, tmp_path):
    settings.DEBUG = True  # seed_demo refuses otherwise (known demo passwords)
    call_command("seed_demo", stdout=io.StringIO())
    settings.DEBUG = False  # the server answers as in production
    worker = delivery_tests.start_worker(queue, log=tmp_path / "worker.log")
    monkeypatch.setenv("CASEMGMT_URL", live_server.url)
    namespace: dict = {"__name__": "api_guide"}
    out = io.StringIO()
    try:
        with redirect_stdout(out):
            for i, block in enumerate(guide_blocks()):
                exec(compile(block, f"docs/api.md python block {i + 1}", "exec"), namespace)  # nosec B102 - our own guide
    except Exception as exc:
        log = (tmp_path / "worker.log").read_text(errors="replace")[-3000:]
        raise AssertionError(f"the guide failed: {exc!r}\nits output:\n{out.getvalue()}\nworker log:\n{log}") from exc
    finally:
        delivery_tests._stop(worker)
    printed = out.getvalue()
    # step 1: a bearer token with the demo client's scopes
    assert namespace["grant"]["token_type"] == "Bearer"
    assert "webhooks:manage" in namespace["grant"]["scope"]
    # step 2: the shared cases, each with only its basis' categories; one with legal status chosen
    assert namespace["shared"]
    assert "legal_status" in namespace["case"]["categories"]
    assert "shared cases" in printed
    # step 3: the subscription's secret shown once, the legal event recorded, the bad one refused
    assert namespace["webhook_secret"].startswith("whsec_")
    assert "refused:" in printed
    # step 4: the webhook arrived, verified with the guide's own code, and a tampered copy failed
    event = namespace["event"]
    assert event["type"] == "legal_event.recorded"
    assert event["data"]["legal_event"]["id"] == namespace["legal_event"]["id"]
    assert event["data"]["case_code"] == namespace["case"]["case_code"]
    assert "tampered copy refused" in printed
    delivery = WebhookDelivery.objects.get(subscription_id=namespace["subscription"]["id"])
    assert str(delivery.event_id) == event["id"]
