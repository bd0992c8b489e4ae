"""Password rules (issue 11, ASVS): at least 12 characters, not a common password, no composition
rules, long passphrases welcome; argon2 in production."""

from __future__ import annotations

import subprocess
import sys

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from accounts.models import Organisation, Role
from accounts.services import user_create
from tests.conftest import ROOT, subprocess_env


@pytest.mark.parametrize(
    "password",
    [
        "abcdefghijkm",  # 12 lower-case letters: no composition rule
        "correct horse battery staple",  # spaces
        "كلمة سر طويلة جدا",  # Arabic script
        "x" * 5 + "long-passphrase-" * 8,  # well over 64 characters
    ],
)
def test_accepted(password, db):
    validate_password(password)


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("abcdefghijk", "too short"),  # 11 characters
        ("qwerty123456", "too common"),
        ("1q2w3e4r5t6y", "too common"),
    ],
)
def test_refused(password, message, db):
    with pytest.raises(ValidationError) as refused:
        validate_password(password)
    assert message in " ".join(refused.value.messages)


def test_the_user_form_reports_a_weak_password_on_its_field(client, admin):
    client.force_login(admin)
    response = client.post(
        "/settings/users/new/",
        {
            "username": "weakling",
            "first_name": "Nadia",
            "last_name": "Test",
            "email": "weak@demo.invalid",
            "role": Role.CASEWORKER,
            "password": "short-pw",
        },
    )
    assert response.status_code in (200, 400)
    assert "too short" in response.content.decode()


def test_the_service_refuses_a_common_password(admin):
    with pytest.raises(ValidationError) as refused:
        user_create(
            organisation=Organisation.objects.get(pk=admin.membership.organisation_id),
            by=admin,
            username="common",
            first_name="A",
            last_name="B",
            email="c@demo.invalid",
            role=Role.CASEWORKER,
            password="123456qwerty",
        )
    assert "password" in refused.value.message_dict


def test_production_hashes_with_argon2():
    env = subprocess_env(DJANGO_SETTINGS_MODULE="casemgmt.settings", DJANGO_DEBUG="0", DJANGO_SECRET_KEY="x" * 50)
    code = (
        "import django; django.setup(); from django.contrib.auth.hashers import make_password, get_hasher; "
        "print(get_hasher().algorithm, make_password('a-long-passphrase-2026').split('$')[0])"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["argon2", "argon2"]
