"""Argument-less URLs are reversed once, per URLconf, script prefix and language."""

from django.urls import get_script_prefix, reverse, set_script_prefix
from django.utils import translation

from casemgmt.urlcache import fixed_url


def test_fixed_url_is_reverse_and_follows_the_script_prefix():
    assert fixed_url("case-list") == reverse("case-list") == "/cases/"
    old = get_script_prefix()
    try:
        set_script_prefix("/app/")
        assert fixed_url("case-list") == reverse("case-list") == "/app/cases/"
    finally:
        set_script_prefix(old)
    assert fixed_url("case-list") == "/cases/"
    with translation.override("ar"):
        assert fixed_url("orgsettings:user-list") == reverse("orgsettings:user-list")
