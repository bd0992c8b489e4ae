"""Dates per locale, the Hijri date for users who turn it on, and right-to-left markup (issue 15)."""

from __future__ import annotations

import datetime
import re

import pytest
from django.conf import settings
from django.template import Context, Template
from django.utils import timezone, translation

from casemgmt.followup_models import FollowUp
from casemgmt.models import Case
from casemgmt.templatetags.dates import hijri

TEMPLATES = settings.BASE_DIR / "templates"
KNOWN_DAY = datetime.date(2026, 3, 4)  # 15 Ramadan 1447 (Umm al-Qura)


def _show_hijri(user, on: bool = True, language: str = "") -> None:
    user.show_hijri_dates, user.language = on, language
    user.save(update_fields=["show_hijri_dates", "language"])


@pytest.fixture
def dated_case(case):
    Case.objects.filter(pk=case.pk).update(referral_date=KNOWN_DAY)
    return case


# --- The Hijri date -----------------------------------------------------------------------------------


def test_hijri_text_in_arabic_and_english():
    assert hijri(KNOWN_DAY, "en") == "15 Ramadan 1447 AH"
    assert hijri(KNOWN_DAY, "fr") == "15 Ramadan 1447 AH"  # hijridate names months in Arabic or English
    assert hijri(KNOWN_DAY, "ar") == "15 رمضان 1447 هـ"
    assert hijri(datetime.date(1900, 1, 1), "en") is None  # outside the Umm al-Qura tables


def test_the_day_tag_without_a_user_is_the_localized_gregorian_date_only():
    template = Template('{% load dates %}{% day value %}|{% day value "SHORT_DATE_FORMAT" %}|{% day none %}')
    with translation.override("fr"):
        html = template.render(Context({"value": KNOWN_DAY, "none": None}))
    assert html == (
        '<bdi class="day"><time datetime="2026-03-04">4 mars 2026</time></bdi>|'
        '<bdi class="day"><time datetime="2026-03-04">04/03/2026</time></bdi>|—'
    )


def test_the_day_tag_takes_a_datetime_in_local_time():
    # 23:30 UTC on 10 June is 11 June in Casablanca (UTC+1 outside Ramadan)
    moment = datetime.datetime(2026, 6, 10, 23, 30, tzinfo=datetime.UTC)
    local = timezone.localtime(moment).date()
    assert local == datetime.date(2026, 6, 11)
    with translation.override("en"):
        html = Template("{% load dates %}{% day value %}").render(Context({"value": moment}))
    assert 'datetime="2026-06-11"' in html


def test_hijri_date_only_when_the_user_turned_it_on(client, caseworker, dated_case):
    client.force_login(caseworker)
    html = client.get(dated_case.get_absolute_url()).content.decode()
    assert 'data-testid="hijri"' not in html
    assert "Ramadan" not in html

    _show_hijri(caseworker)
    html = client.get(dated_case.get_absolute_url()).content.decode()
    assert '<bdi class="hijri text-muted small" lang="en" data-testid="hijri">(15 Ramadan 1447 AH)</bdi>' in html


def test_hijri_date_in_arabic_on_arabic_pages(client, caseworker, dated_case):
    _show_hijri(caseworker, language="ar")
    client.force_login(caseworker)
    html = client.get(dated_case.get_absolute_url()).content.decode()
    assert '<bdi class="hijri text-muted small" lang="ar" data-testid="hijri">(15 رمضان 1447 هـ)</bdi>' in html


def test_hijri_date_on_the_timeline(client, caseworker, case):
    client.force_login(caseworker)
    url = f"/cases/{case.pk}/timeline/"
    assert 'data-testid="hijri"' not in client.get(url).content.decode()
    _show_hijri(caseworker)
    html = client.get(url).content.decode()
    assert 'data-testid="hijri"' in html
    assert "AH)</bdi>" in html


def test_hijri_date_on_the_follow_up_lists(client, caseworker, case):
    FollowUp.objects.create(case=case, kind="first_contact", due_on=KNOWN_DAY, assignee=caseworker, key="t:hijri")
    client.force_login(caseworker)
    for url in ("/follow-ups/", f"/cases/{case.pk}/follow-ups/"):
        assert "Ramadan" not in client.get(url).content.decode(), url
    _show_hijri(caseworker)
    for url in ("/follow-ups/", f"/cases/{case.pk}/follow-ups/"):
        assert "(15 Ramadan 1447 AH)" in client.get(url).content.decode(), url


def test_dates_follow_the_page_language(client, caseworker, dated_case):
    client.force_login(caseworker)
    _show_hijri(caseworker, on=False, language="fr")
    html = client.get(dated_case.get_absolute_url()).content.decode()
    assert '<time datetime="2026-03-04">4 mars 2026</time>' in html
    _show_hijri(caseworker, on=False, language="en")
    html = client.get(dated_case.get_absolute_url()).content.decode()
    assert '<time datetime="2026-03-04">March 4, 2026</time>' in html


def test_no_template_hard_codes_a_date_format():
    """Dates go through the locale's named formats (DATE_FORMAT, SHORT_DATE_FORMAT...) or {% day %};
    only machine-readable ISO values ('c' in a datetime attribute, a hidden form value) are fixed."""
    fixed = re.compile(r"\|(?:date|time):['\"](?![A-Z_]+_FORMAT['\"])([^'\"]*)['\"]")
    found = []
    for path in TEMPLATES.rglob("*.html"):
        for match in fixed.finditer(path.read_text()):
            if match.group(1) != "c":
                found.append(f"{path.relative_to(TEMPLATES)}: {match.group(0)}")
    assert found == []


# --- Right to left ------------------------------------------------------------------------------------


def test_case_codes_are_isolated_on_the_case_list_and_detail(client, caseworker, case):
    code = case.participant.case_code
    client.force_login(caseworker)
    assert f"<bdi>{code}</bdi>" in client.get("/cases/").content.decode()
    html = client.get(case.get_absolute_url()).content.decode()
    assert f'<h1 class="h3 mb-1"><bdi>{code}</bdi>' in html
    assert f"<bdi>{case.participant.email}</bdi>" in html
    assert f"<bdi>{case.participant.national_id}</bdi>" in html


def test_arabic_case_pages_read_right_to_left(client, caseworker, case):
    _show_hijri(caseworker, on=False, language="ar")
    client.force_login(caseworker)
    for url in ("/cases/", case.get_absolute_url(), f"/cases/{case.pk}/timeline/"):
        html = client.get(url).content.decode()
        assert '<html lang="ar" dir="rtl">' in html, url
        assert "bootstrap.rtl.min.css" in html, url


def test_every_stand_alone_template_sets_its_direction():
    """A template that writes its own <html> (not extending base.html) says lang and dir itself."""
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text()
        if "<html" in text:
            assert 'dir="{% if LANGUAGE_BIDI %}rtl{% else %}ltr{% endif %}"' in text, path
            assert "get_current_language_bidi as LANGUAGE_BIDI" in text, path


def test_direction_arrows_are_mirrored_in_right_to_left_pages():
    """← and → (the bidi algorithm does not mirror them) only in a .icon-dir span, which app.css
    mirrors under dir=rtl; the angle quotes U+2039, U+203A, U+00AB, U+00BB (which it does mirror)
    never in one."""
    arrow = re.compile(r"[←→]")
    wrapped = re.compile(r'<span class="icon-dir" aria-hidden="true">[←→]</span>')
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text()
        assert len(arrow.findall(text)) == len(wrapped.findall(text)), path
        assert not re.search('class="icon-dir"[^>]*>[\u2039\u203a\u00ab\u00bb]', text), path
    css = (settings.BASE_DIR / "casemgmt/static/casemgmt/app.css").read_text()
    assert '[dir="rtl"] .icon-dir { transform: scaleX(-1); }' in css


def test_pagination_arrows_are_mirrored(client, caseworker, demo):
    from tests.factories import northern_case

    for n in range(26):
        northern_case(demo, n=500 + n)
    client.force_login(caseworker)
    html = client.get("/cases/").content.decode()
    assert '{} <span class="icon-dir" aria-hidden="true">→</span>'.format("Next") in html


@pytest.mark.parametrize(("language", "due"), [("fr", "4 mars 2026"), ("", "March 4, 2026")])
def test_follow_up_e_mails_are_in_the_recipients_language(caseworker, case, language, due):
    from casemgmt import followups
    from casemgmt.followup_models import Notification

    _show_hijri(caseworker, on=False, language=language)
    row = FollowUp.objects.create(case=case, kind="first_contact", due_on=KNOWN_DAY, assignee=caseworker, key="t:m")
    message = followups._message(Notification.objects.create(user=caseworker, follow_up=row))
    assert due in message.body
    assert case.participant.case_code in message.subject


def test_the_stored_language_and_hijri_dates_cost_no_query(client, caseworker, case):
    """The middleware reads the user the request loads anyway; {% day %} reads the same user."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    FollowUp.objects.create(case=case, kind="first_contact", due_on=KNOWN_DAY, assignee=caseworker, key="t:q")
    client.force_login(caseworker)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/follow-ups/").status_code == 200
        return len(queries)

    count()  # the first request of the session may write it
    plain = count()
    _show_hijri(caseworker, on=True, language="ar")
    assert count() == plain
