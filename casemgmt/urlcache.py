"""Argument-less URLs, reversed once: the navigation bar and base.html ask for the same dozen on every page.

A URL without arguments depends only on the URLconf (a static one; the memo is keyed on the resolver
object, which `clear_url_caches()` and a changed ROOT_URLCONF replace), the script prefix (SCRIPT_NAME)
and the active language (no i18n_patterns today, keyed all the same): the memo is keyed on all three.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from django.urls import get_resolver, get_script_prefix, get_urlconf, reverse
from django.utils.translation import get_language


def fixed_url(name: str) -> str:
    """`reverse(name)` for a URL without arguments, memoized."""
    return _reverse(name, get_resolver(get_urlconf()), get_script_prefix(), get_language())


@lru_cache(maxsize=512)
def _reverse(name: str, resolver, prefix: str, language: str | None) -> str:
    return reverse(name, urlconf=resolver.urlconf_name)


_SENTINEL = 987654321  # a key no row has: where the record's own key goes in the reversed URL


def pk_url(name: str, *leading) -> Callable[[int], str]:
    """`lambda pk: reverse(name, args=[*leading, pk])` for the many rows of one page (a timeline of 50
    events): the URL is reversed once with a placeholder key, memoized as for `fixed_url`, then joined
    with each row's key. Only for patterns whose last argument is an integer key."""
    head, tail = _split(name, tuple(leading), get_resolver(get_urlconf()), get_script_prefix(), get_language())
    return lambda pk: f"{head}{int(pk)}{tail}"


@lru_cache(maxsize=1024)
def _split(name: str, leading: tuple, resolver, prefix: str, language: str | None) -> tuple[str, str]:
    url = reverse(name, urlconf=resolver.urlconf_name, args=[*leading, _SENTINEL])
    head, _, tail = url.rpartition(str(_SENTINEL))
    return head, tail


def case_url(name: str, case_pk: int, *rest) -> str:
    """`reverse(name, args=[case_pk, *rest])` for a case page's own links (`{% case_url %}`): reversed once
    per name and further arguments with a placeholder key, memoized as for `fixed_url`, then the case's
    key put in. Only for patterns whose first argument is the case's integer key; `rest` are the
    pattern's fixed words (a section's slug), not row keys, which would fill the memo."""
    head, tail = _split_first(name, tuple(rest), get_resolver(get_urlconf()), get_script_prefix(), get_language())
    return f"{head}{int(case_pk)}{tail}"


@lru_cache(maxsize=512)
def _split_first(name: str, rest: tuple, resolver, prefix: str, language: str | None) -> tuple[str, str]:
    url = reverse(name, urlconf=resolver.urlconf_name, args=[_SENTINEL, *rest])
    head, _, tail = url.partition(str(_SENTINEL))
    return head, tail
