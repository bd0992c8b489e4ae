"""`{% fixed_url 'home' %}`: `{% url 'home' %}` for a URL without arguments, memoized (casemgmt/urlcache.py).
`{% case_url 'case-edit' case.pk %}`: the same for a case's own pages (the case page links to about twenty).

base.html renders the same handful on every page."""

from __future__ import annotations

from django import template

from casemgmt.urlcache import case_url as _case_url
from casemgmt.urlcache import fixed_url as _fixed_url

register = template.Library()


@register.simple_tag
def fixed_url(name: str) -> str:
    return _fixed_url(name)


@register.simple_tag
def case_url(name: str, case_pk, *rest) -> str:
    return _case_url(name, case_pk, *rest)
