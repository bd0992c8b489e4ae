"""Filters of the printable data-subject export: it renders nested sections of plain data."""

from django import template

register = template.Library()


@register.filter
def is_dict(value) -> bool:
    return isinstance(value, dict)


@register.filter
def is_rows(value) -> bool:
    """A list of records (dicts), shown one box per record."""
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


@register.filter
def is_list(value) -> bool:
    return isinstance(value, list | tuple)


@register.filter
def humanize_key(value: str) -> str:
    return str(value).replace("_", " ").capitalize()
