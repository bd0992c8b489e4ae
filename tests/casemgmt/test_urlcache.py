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


def test_case_url_is_reverse_for_every_link_of_the_case_page():
    """Every `{% case_url %}` of cases/detail.html, for several keys, in each language and under a prefix."""
    import re

    from casemgmt.casefile_views import SECTIONS
    from casemgmt.urlcache import case_url
    from tests.conftest import ROOT

    html = (ROOT / "templates" / "cases" / "detail.html").read_text()
    uses = re.findall(r"\{% case_url '([a-z-]+)' case\.pk([^%]*)%\}", html)
    assert len(uses) >= 12
    calls = set()
    for name, rest in uses:
        words = tuple(word.strip("'") for word in rest.split(" as ")[0].split())
        if words == ("s.slug",):
            calls.update((name, (section.slug,)) for section in SECTIONS)
        else:
            calls.add((name, words))
    old = get_script_prefix()
    try:
        for prefix in ("/", "/app/"):
            set_script_prefix(prefix)
            for language in ("en", "fr", "ar"):
                with translation.override(language):
                    for name, words in calls:
                        for pk in (1, 42, 987654321):
                            assert case_url(name, pk, *words) == reverse(name, args=[pk, *words]), (name, words)
    finally:
        set_script_prefix(old)
