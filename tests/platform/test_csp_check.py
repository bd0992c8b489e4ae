"""The system check that refuses a production start without a strict CSP (casemgmt/checks.py)."""

from __future__ import annotations

import pytest
from csp.constants import NONCE, SELF, UNSAFE_EVAL, UNSAFE_INLINE
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from casemgmt.checks import content_security_policy


def _ids(messages) -> set[str]:
    return {m.id for m in messages}


def _policy(**directives):
    base = dict(settings.CONTENT_SECURITY_POLICY["DIRECTIVES"])
    base.update(directives)
    return {"DIRECTIVES": {k: v for k, v in base.items() if v is not None}}


def test_the_project_policy_passes():
    assert content_security_policy(None) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"CONTENT_SECURITY_POLICY": None}, {"casemgmt.E011", "casemgmt.E013"}),
        ({"CONTENT_SECURITY_POLICY": {"DIRECTIVES": {}}}, {"casemgmt.E011", "casemgmt.E013"}),
        ("no-middleware", {"casemgmt.E010"}),
        ({"CONTENT_SECURITY_POLICY": _policy(**{"script-src": [SELF, UNSAFE_INLINE]})}, {"casemgmt.E012"}),
        ({"CONTENT_SECURITY_POLICY": _policy(**{"script-src": [SELF, NONCE, UNSAFE_EVAL]})}, {"casemgmt.E012"}),
        # no script-src: the default-src fallback is what the browser applies
        (
            {"CONTENT_SECURITY_POLICY": _policy(**{"script-src": None, "default-src": [SELF, UNSAFE_INLINE]})},
            {"casemgmt.E012"},
        ),
        ({"CONTENT_SECURITY_POLICY": _policy(**{"frame-ancestors": None})}, {"casemgmt.E013"}),
    ],
)
def test_a_production_start_without_a_strict_csp_fails(settings, change, expected):
    settings.DEBUG = False
    if change == "no-middleware":
        settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != "csp.middleware.CSPMiddleware"]
    else:
        for name, value in change.items():
            setattr(settings, name, value)
    messages = content_security_policy(None)
    assert _ids(messages) == expected
    assert all(m.is_serious() for m in messages)
    with pytest.raises(SystemCheckError, match=r"casemgmt\.E01"):
        call_command("check")


def test_demo_mode_only_warns(settings):
    settings.DEBUG = True
    settings.CONTENT_SECURITY_POLICY = None
    messages = content_security_policy(None)
    assert _ids(messages) == {"casemgmt.E011", "casemgmt.E013"}
    assert not any(m.is_serious() for m in messages)
