"""`{% fixed_url 'home' %}`: `{% url 'home' %}` for a URL without arguments, memoized (casemgmt/urlcache.py).

base.html renders the same handful on every page."""

from __future__ import annotations

from django import template

from casemgmt.urlcache import fixed_url as _fixed_url

register = template.Library()


@register.simple_tag
def fixed_url(name: str) -> str:
    return _fixed_url(name)
