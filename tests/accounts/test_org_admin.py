"""An organisation's admin manages its own users, and only those."""

import pytest
from django.urls import reverse

from accounts.models import Membership, Organisation, Role, User

OTHER_ROLES = ["caseworker", "manager", "auditor", "caseworker2", "authority", "mentor"]


def _new_user_data(**overrides):
    data = {
        "username": "newcomer",
        "first_name": "Imane",
        "last_name": "Sefrioui-Tahar",
        "email": "newcomer@demo.invalid",
        "role": Role.COUNSELLOR,
        "password": "a-long-enough-passphrase-2026",
    }
    data.update(overrides)
    return data


def test_admin_lists_only_own_organisation_users(client, admin, demo):
    client.force_login(admin)
    response = client.get(reverse("orgsettings:user-list"))
    assert response.status_code == 200
    listed = {u.username for u in response.context["page"].object_list}
    assert listed == {"caseworker", "colleague", "counsellor", "placement", "manager", "auditor", "admin"}


def test_user_list_search_and_sort(client, admin):
    client.force_login(admin)
    response = client.get(reverse("orgsettings:user-list"), {"q": "colleag"})
    assert [u.username for u in response.context["page"].object_list] == ["colleague"]
    response = client.get(reverse("orgsettings:user-list"), {"q": "nobody-has-this-name"})
    assert "No user matches this search." in response.content.decode()
    response = client.get(reverse("orgsettings:user-list"), {"sort": "role"})
    roles = [u.membership.role for u in response.context["page"].object_list]
    assert roles == sorted(roles)


def test_user_list_query_count_does_not_grow(client, admin, django_assert_max_num_queries):
    organisation = admin.membership.organisation
    client.force_login(admin)
    # session, user+membership+organisation, count, one page of users with membership
    with django_assert_max_num_queries(4) as few:
        client.get(reverse("orgsettings:user-list"))
    for i in range(30):
        user = User.objects.create_user(f"bulk{i}", password="x-long-password-2026")
        Membership.objects.create(user=user, organisation=organisation, role=Role.CASEWORKER)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("orgsettings:user-list"))


@pytest.mark.parametrize("other", ["caseworker2", "authority", "mentor", "supervisor"])
def test_admin_cannot_see_or_edit_another_organisations_user(client, admin, demo, other):
    client.force_login(admin)
    target = demo[other]
    url = reverse("orgsettings:user-edit", args=[target.pk])
    assert client.get(url).status_code == 404
    response = client.post(url, {"first_name": "X", "last_name": "Y", "email": "x@demo.invalid", "role": "admin"})
    assert response.status_code == 404
    target.refresh_from_db()
    assert target.first_name != "X"
    assert target.membership.role != Role.ADMIN


@pytest.mark.parametrize("username", OTHER_ROLES)
def test_other_roles_do_not_reach_the_settings_pages(client, demo, username):
    client.force_login(demo[username])
    colleague = demo["colleague"]
    for url in (
        reverse("orgsettings:user-list"),
        reverse("orgsettings:user-create"),
        reverse("orgsettings:user-edit", args=[colleague.pk]),
    ):
        assert client.get(url).status_code == 404


def test_superuser_without_membership_does_not_reach_the_settings_pages(client, superuser, demo):
    client.force_login(superuser)
    assert client.get(reverse("orgsettings:user-list")).status_code == 404


def test_admin_creates_a_user_in_own_organisation(client, admin):
    client.force_login(admin)
    response = client.post(reverse("orgsettings:user-create"), _new_user_data())
    assert response.status_code == 302
    user = User.objects.get(username="newcomer")
    assert user.membership.organisation == admin.membership.organisation
    assert user.membership.role == Role.COUNSELLOR
    assert user.check_password("a-long-enough-passphrase-2026")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"password": "short"}, "password"),
        ({"password": "password1234"}, "password"),
        ({"email": "not-an-email"}, "email"),
        ({"username": "caseworker"}, "username"),
        ({"role": Role.AUTHORITY_LIAISON}, "role"),  # not a role of an NGO
        ({"first_name": ""}, "first_name"),
    ],
)
def test_bad_input_shows_field_errors_and_creates_nothing(client, admin, overrides, field):
    client.force_login(admin)
    before = User.objects.count()
    response = client.post(reverse("orgsettings:user-create"), _new_user_data(**overrides))
    assert response.status_code == 200
    assert response.context["form"].errors.get(field), response.context["form"].errors
    assert "is-invalid" in response.content.decode()
    assert User.objects.count() == before


def test_admin_edits_role_and_deactivation_ends_the_session(client, admin, colleague):
    other = type(client)()
    other.force_login(colleague)
    assert other.get("/").status_code == 200

    client.force_login(admin)
    url = reverse("orgsettings:user-edit", args=[colleague.pk])
    data = {"first_name": "Yassine", "last_name": "Bennani-Sahel", "email": "c@demo.invalid", "role": "manager"}
    assert client.post(url, data).status_code == 302
    colleague.refresh_from_db()
    assert colleague.membership.role == Role.MANAGER
    assert colleague.is_active is False  # the checkbox was not sent

    assert other.get("/").status_code == 302  # signed out at once


def test_admin_cannot_demote_or_deactivate_themselves(client, admin):
    client.force_login(admin)
    url = reverse("orgsettings:user-edit", args=[admin.pk])
    data = {"first_name": "H", "last_name": "B", "email": "a@demo.invalid", "role": "caseworker", "is_active": "on"}
    response = client.post(url, data)
    assert response.status_code == 200
    assert "You cannot change your own role" in response.content.decode()
    admin.refresh_from_db()
    assert admin.membership.role == Role.ADMIN


def test_admin_of_an_authority_gets_only_authority_roles(client, demo):
    probation = Organisation.objects.get(name="Regional Probation Office")
    boss = User.objects.create_user("probation-admin", password="x-long-password-2026")
    Membership.objects.create(user=boss, organisation=probation, role=Role.ADMIN)
    client.force_login(boss)
    response = client.get(reverse("orgsettings:user-create"))
    choices = [value for value, _ in response.context["form"].fields["role"].choices]
    assert choices == [Role.ADMIN, Role.AUTHORITY_LIAISON] or set(choices) == {Role.ADMIN, Role.AUTHORITY_LIAISON}
    listed = {u.username for u in client.get(reverse("orgsettings:user-list")).context["page"].object_list}
    assert listed == {"authority", "probation-admin"}


def test_role_changes_are_kept_in_history(client, admin, colleague):
    from django.apps import apps

    client.force_login(admin)
    client.post(
        reverse("orgsettings:user-edit", args=[colleague.pk]),
        {"first_name": "Y", "last_name": "B", "email": "c@demo.invalid", "role": "manager", "is_active": "on"},
    )
    events = apps.get_model("accounts", "MembershipEvent").objects.filter(pgh_obj_id=colleague.membership.pk)
    assert list(events.order_by("pgh_id").values_list("role", flat=True))[-2:] == ["caseworker", "manager"]
    assert events.order_by("-pgh_id").first().pgh_context.metadata["user"] == admin.pk
