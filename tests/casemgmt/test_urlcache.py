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


def test_pk_url_is_reverse_for_every_key_and_follows_the_script_prefix():
    from casemgmt.urlcache import pk_url

    detail = pk_url("casefile-detail", 7, "notes")
    for pk in (1, 42, 987654321, 10**12):
        assert detail(pk) == reverse("casefile-detail", args=[7, "notes", pk])
    assert pk_url("mentoring-session")(3) == reverse("mentoring-session", args=[3])
    assert pk_url("casefile-detail", 8, "notes")(5) == "/cases/8/notes/5/"
    old = get_script_prefix()
    try:
        set_script_prefix("/app/")
        assert pk_url("mentoring-session")(3) == reverse("mentoring-session", args=[3])
        assert pk_url("mentoring-session")(3).startswith("/app/")
    finally:
        set_script_prefix(old)
    assert not pk_url("mentoring-session")(3).startswith("/app/")
