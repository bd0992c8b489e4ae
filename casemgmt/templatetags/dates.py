"""`{% day value %}`: a date in the page language's own format and, for a user who turned it on in their
preferences, the Hijri date beside it (issue 15).

    {% load dates %}{% day case.referral_date %}  {% day e.at "SHORT_DATE_FORMAT" %}

Each part is isolated in its own <bdi>, so neither reorders the text around it in a right-to-left page
(an Arabic date in a French sentence, Western digits in an Arabic one). The Hijri date is the Umm
al-Qura calendar's (hijridate), with Arabic month names on Arabic pages and English ones otherwise;
outside that calendar's range (1924 to 2077) only the Gregorian date is shown.
"""

from __future__ import annotations

import datetime

from django import template
from django.utils import formats, timezone, translation
from django.utils.html import format_html
from hijridate import Gregorian

register = template.Library()


def hijri(value: datetime.date, language: str) -> str | None:
    """The Hijri date of a Gregorian day, as text of the language ("15 رمضان 1447 هـ", "15 Ramadan 1447 AH")."""
    try:
        date = Gregorian.fromdate(value).to_hijri()
    except OverflowError:  # outside the Umm al-Qura tables
        return None
    names = "ar" if language == "ar" else "en"
    return f"{date.day} {date.month_name(names)} {date.year} {date.notation(names)}"


def _shows_hijri(context) -> bool:
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    return bool(user is not None and user.is_authenticated and getattr(user, "show_hijri_dates", False))


@register.simple_tag(takes_context=True)
def day(context, value, format_name: str = "DATE_FORMAT"):
    """The localized Gregorian date, and the Hijri date when the user has it on; "—" without a date."""
    if not value:
        return "—"
    if isinstance(value, datetime.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        day_value = value.date()
    else:
        day_value = value
    gregorian = format_html(
        '<bdi class="day"><time datetime="{}">{}</time></bdi>',
        day_value.isoformat(),
        formats.date_format(value, format_name),
    )
    if not _shows_hijri(context):
        return gregorian
    language = translation.get_language() or "en"
    text = hijri(day_value, language)
    if text is None:
        return gregorian
    return format_html(
        '{} <bdi class="hijri text-muted small" lang="{}" data-testid="hijri">({})</bdi>',
        gregorian,
        "ar" if language == "ar" else "en",
        text,
    )
