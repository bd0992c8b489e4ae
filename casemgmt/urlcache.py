"""Argument-less URLs, reversed once: the navigation bar and base.html ask for the same dozen on every page.

A URL without arguments depends only on the URLconf (a static one; the memo is keyed on the resolver
object, which `clear_url_caches()` and a changed ROOT_URLCONF replace), the script prefix (SCRIPT_NAME)
and the active language (no i18n_patterns today, keyed all the same): the memo is keyed on all three.
"""

from __future__ import annotations

from functools import lru_cache

from django.urls import get_resolver, get_script_prefix, get_urlconf, reverse
from django.utils.translation import get_language


def fixed_url(name: str) -> str:
    """`reverse(name)` for a URL without arguments, memoized."""
    return _reverse(name, get_resolver(get_urlconf()), get_script_prefix(), get_language())


@lru_cache(maxsize=512)
def _reverse(name: str, resolver, prefix: str, language: str | None) -> str:
    return reverse(name, urlconf=resolver.urlconf_name)
