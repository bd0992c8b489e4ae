"""Languages (issue 15): the choice stored on the profile and active on the next request in any browser,
the login page in the browser's language, the switcher on every kind of page, right-to-left pages."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import User
from tests.security.helpers import enrol, post_password

PASSWORD = "demo-Reintegration-2026"  # the demo users' (tests/conftest.py)

SWITCHER = 'data-testid="language-switcher"'


def test_the_switch_stores_the_language_on_the_profile(client, caseworker):
    client.force_login(caseworker)
    response = client.post("/i18n/setlang/", {"language": "fr", "next": "/cases/"})
    assert response.status_code == 302
    assert response["Location"] == "/cases/"
    caseworker.refresh_from_db()
    assert caseworker.language == "fr"


def test_the_stored_language_is_active_on_the_next_request_in_another_browser(caseworker):
    first = Client()
    first.force_login(caseworker)
    first.post("/i18n/setlang/", {"language": "ar", "next": "/"})
    # another browser: no language cookie, a French Accept-Language; the profile wins
    other = Client(HTTP_ACCEPT_LANGUAGE="fr")
    other.force_login(User.objects.get(pk=caseworker.pk))
    response = other.get("/")
    assert response["Content-Language"] == "ar"
    assert '<html lang="ar" dir="rtl">' in response.content.decode()


def test_the_stored_language_wins_over_the_cookie(client, caseworker):
    caseworker.language = "fr"
    caseworker.save(update_fields=["language"])
    client.cookies["django_language"] = "ar"
    client.force_login(caseworker)
    assert client.get("/")["Content-Language"] == "fr"


def test_without_a_stored_choice_the_browser_language_stands(client, caseworker):
    client.force_login(caseworker)
    assert client.get("/", HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9")["Content-Language"] == "fr"


def test_an_unknown_language_is_not_stored(client, caseworker):
    client.force_login(caseworker)
    client.post("/i18n/setlang/", {"language": "xx", "next": "/"})
    caseworker.refresh_from_db()
    assert caseworker.language == ""


def test_the_switch_answers_only_post(client, caseworker):
    client.force_login(caseworker)
    assert client.get("/i18n/setlang/", {"language": "fr"}).status_code == 405
    caseworker.refresh_from_db()
    assert caseworker.language == ""


def test_a_password_only_session_does_not_write_the_profile(client, caseworker, settings):
    """Two-factor required, code not yet given: the cookie changes, the profile does not."""
    settings.TWO_FACTOR_REQUIRED = True
    client.force_login(caseworker)  # logged in, not verified by a device
    response = client.post("/i18n/setlang/", {"language": "ar", "next": "/accounts/login/"})
    assert response.status_code == 302
    assert response.cookies["django_language"].value == "ar"
    caseworker.refresh_from_db()
    assert caseworker.language == ""


def test_another_user_is_not_touched(client, caseworker, colleague):
    client.force_login(caseworker)
    client.post("/i18n/setlang/", {"language": "ar", "next": "/"})
    colleague.refresh_from_db()
    assert colleague.language == ""


def test_the_service_refuses_to_change_someone_else(caseworker, colleague):
    from django.core.exceptions import ValidationError

    from accounts.services import user_language_set

    with pytest.raises(ValidationError):
        user_language_set(user=colleague, by=caseworker, language="fr")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("accept", "language"), [("fr-FR,fr;q=0.9,en;q=0.5", "fr"), ("ar-MA,ar;q=0.9", "ar"), ("de", "en")]
)
def test_the_login_page_speaks_the_browser_language(client, accept, language):
    response = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE=accept)
    html = response.content.decode()
    assert response["Content-Language"] == language
    assert f'<html lang="{language}"' in html
    assert SWITCHER in html


@pytest.mark.django_db
def test_on_the_login_page_a_choice_beats_the_browser(client):
    client.post("/i18n/setlang/", {"language": "ar", "next": "/accounts/login/"})
    response = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="fr")
    assert response["Content-Language"] == "ar"
    assert 'dir="rtl"' in response.content.decode()


def test_the_switcher_is_on_the_code_step_and_the_enrolment_page(client, caseworker, settings):
    settings.TWO_FACTOR_REQUIRED = True
    enrol(caseworker)
    response = post_password(client, "caseworker", PASSWORD)  # the code step of the wizard
    assert response.status_code == 200
    assert 'name="token-otp_token"' in response.content.decode()
    assert SWITCHER in response.content.decode()

    newcomer = Client()
    newcomer.force_login(User.objects.get(username="colleague"))  # no device yet: enrolment
    response = newcomer.get("/accounts/two-factor/setup/", HTTP_ACCEPT_LANGUAGE="ar")
    assert response.status_code == 200
    html = response.content.decode()
    assert SWITCHER in html
    assert '<html lang="ar" dir="rtl">' in html
    assert "bootstrap.rtl.min.css" in html


@pytest.mark.parametrize("url", ["/no/such/page/", "/accounts/two-factor/"])
def test_the_switcher_is_on_error_and_two_factor_pages(client, caseworker, url):
    client.force_login(caseworker)
    assert SWITCHER in client.get(url).content.decode()


@pytest.mark.django_db
def test_the_400_page_has_the_switcher(client):
    response = client.get("/cases/", HTTP_HOST="evil.example.org")
    assert response.status_code == 400
    assert SWITCHER in response.content.decode()


@pytest.fixture
def boom_client(settings):
    settings.ROOT_URLCONF = "tests.platform.boom_urls"
    return Client(raise_request_exception=False)


def test_the_stand_alone_500_page_has_the_switcher_and_reads_right_to_left(boom_client, caseworker):
    caseworker.language = "ar"
    caseworker.save(update_fields=["language"])
    boom_client.force_login(caseworker)
    response = boom_client.get("/boom/")
    assert response.status_code == 500
    html = response.content.decode()
    assert '<html lang="ar" dir="rtl">' in html
    assert SWITCHER in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert 'name="next" type="hidden" value="/boom/"' in html


@pytest.mark.django_db
def test_the_500_page_left_to_right_in_english(boom_client):
    html = boom_client.get("/boom/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="en" dir="ltr">' in html
    assert SWITCHER in html


def test_the_switch_from_the_500_page_goes_through_csrf(caseworker, settings):
    settings.ROOT_URLCONF = "tests.platform.boom_urls"
    browser = Client(enforce_csrf_checks=True, raise_request_exception=False)
    browser.force_login(caseworker)
    html = browser.get("/boom/").content.decode()
    token = html.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
    response = browser.post("/i18n/setlang/", {"language": "fr", "next": "/", "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    caseworker.refresh_from_db()
    assert caseworker.language == "fr"


# --- The preferences page -------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["caseworker", "manager", "auditor", "admin", "authority", "mentor"])
def test_every_staff_user_keeps_their_own_preferences(client, demo, username):
    user = demo[username]
    client.force_login(user)
    assert client.get("/accounts/preferences/").status_code == 200
    response = client.post("/accounts/preferences/", {"language": "ar", "show_hijri_dates": "on"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.language, user.show_hijri_dates) == ("ar", True)
    # the confirmation comes in the chosen language, and the next page too
    assert client.get("/accounts/preferences/")["Content-Language"] == "ar"


def test_preferences_back_to_the_browser_language(client, caseworker):
    caseworker.language = "ar"
    caseworker.save(update_fields=["language"])
    client.force_login(caseworker)
    client.post("/accounts/preferences/", {"language": ""})
    caseworker.refresh_from_db()
    assert (caseworker.language, caseworker.show_hijri_dates) == ("", False)
    assert client.get("/", HTTP_ACCEPT_LANGUAGE="fr")["Content-Language"] == "fr"


def test_preferences_refuse_an_unknown_language(client, caseworker):
    client.force_login(caseworker)
    response = client.post("/accounts/preferences/", {"language": "xx"})
    assert response.status_code == 200
    assert response.context["form"].errors["language"]


@pytest.mark.django_db
def test_preferences_need_a_login(client):
    response = client.get("/accounts/preferences/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
