"""Query parameters of the API, checked the same way everywhere (400 with the field, never 500)."""

from __future__ import annotations

import re

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers


def query_int(request, name: str) -> int | None:
    """An id-like whole number from the query string, or None when absent."""
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if not re.fullmatch(r"[0-9]{1,18}", raw):
        raise serializers.ValidationError({name: [_("A whole number is expected.")]})
    return int(raw)


def query_choice(request, name: str, values) -> str | None:
    """One of a set of values (a status) from the query string, or None when absent."""
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if raw not in values:
        raise serializers.ValidationError(
            {name: [_("Unknown value: choose one of %(values)s.") % {"values": ", ".join(values)}]}
        )
    return raw
