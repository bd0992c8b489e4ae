"""Home page for every role, the navigation per role, error pages that reveal nothing."""

import pytest
from django.urls import reverse

from tests.conftest import DEMO_USERNAMES
from tests.security.helpers import post_password


@pytest.mark.parametrize("username", DEMO_USERNAMES)
def test_every_role_has_a_home_page(client, demo, username):
    user = demo[username]
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert user.membership.organisation.name in html
    assert str(user.membership.get_role_display()) in html
    # Only an organisation admin gets the users page in the navigation.
    assert (reverse("orgsettings:user-list") in html) == (username == "admin")


def test_superuser_without_membership_sees_no_case_data_and_gets_the_admin_link(client, superuser):
    client.force_login(superuser)
    html = client.get("/").content.decode()
    assert "opens no case data" in html
    assert reverse("admin:index") in html


def test_404_page_reveals_nothing(client, caseworker):
    client.force_login(caseworker)
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Traceback" not in html
    assert "urlpatterns" not in html
    assert "not yours to see" in html


def test_arabic_pages_are_right_to_left(client, caseworker):
    client.force_login(caseworker)
    client.post("/i18n/setlang/", {"language": "ar", "next": "/"})
    html = client.get("/").content.decode()
    assert '<html lang="ar" dir="rtl">' in html
    assert "bootstrap.rtl.min.css" in html


def test_english_pages_are_left_to_right(client, caseworker):
    client.force_login(caseworker)
    html = client.get("/").content.decode()
    assert '<html lang="en" dir="ltr">' in html
    assert "bootstrap.min.css" in html


def test_login_and_logout(client, caseworker):
    response = post_password(client, "caseworker", "demo-Reintegration-2026")
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/").status_code == 200
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/").status_code == 302


def test_wrong_password_gets_a_generic_error(client, caseworker):
    response = post_password(client, "caseworker", "wrong")
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
