"""Role matrix for every case page; out of scope is 404; field subsets in the HTML."""

import pytest
from django.urls import reverse

from casemgmt.models import AccessLog, Stage
from tests.factories import case_move_stage

ALL = ["caseworker", "placement", "colleague", "manager", "auditor", "admin", "caseworker2", "authority", "anonymous"]


def _as(client, viewer):
    if viewer is not None:
        client.force_login(viewer)
    return client


def _expect(viewer_name, allowed, ok=200):
    if viewer_name == "anonymous":
        return 302
    return ok if viewer_name in allowed else 404


@pytest.mark.parametrize("viewer", ALL, indirect=True)
def test_case_detail(client, case, viewer, request):
    name = request.node.callspec.params["viewer"]
    response = _as(client, viewer).get(reverse("case-detail", args=[case.pk]))
    assert response.status_code == _expect(name, {"caseworker", "placement", "manager"})


@pytest.mark.parametrize("viewer", ALL, indirect=True)
def test_case_list_shows_only_cases_in_scope(client, case, viewer, request):
    name = request.node.callspec.params["viewer"]
    response = _as(client, viewer).get(reverse("case-list"))
    if name == "anonymous":
        assert response.status_code == 302
        return
    assert response.status_code == 200
    listed = [c.pk for c, _ in response.context["rows"]]
    assert (case.pk in listed) == (name in {"caseworker", "placement", "manager"})
    assert (case.participant.case_code in response.content.decode()) == (case.pk in listed)


@pytest.mark.parametrize("viewer", ALL, indirect=True)
def test_case_edit(client, case, viewer, request):
    name = request.node.callspec.params["viewer"]
    response = _as(client, viewer).get(reverse("case-edit", args=[case.pk]))
    assert response.status_code == _expect(name, {"caseworker", "manager"})


@pytest.mark.parametrize("viewer", ALL, indirect=True)
def test_case_history(client, case, viewer, request):
    name = request.node.callspec.params["viewer"]
    response = _as(client, viewer).get(reverse("case-history", args=[case.pk]))
    assert response.status_code == _expect(name, {"caseworker", "manager"})


@pytest.mark.parametrize("viewer", ALL, indirect=True)
def test_case_move(client, case, viewer, request):
    name = request.node.callspec.params["viewer"]
    response = _as(client, viewer).post(
        reverse("case-move", args=[case.pk]), {"to_stage": Stage.SCREENING, "reason": "first contact"}
    )
    assert response.status_code == _expect(name, {"caseworker", "manager"}, ok=302)
    case.refresh_from_db()
    assert (case.stage == Stage.SCREENING) == (response.status_code == 302 and name != "anonymous")


@pytest.mark.parametrize("viewer", ALL, indirect=True)
def test_case_reopen(client, demo, case, viewer, request):
    for stage in (Stage.SCREENING, Stage.ASSESSMENT, Stage.ACTIVE, Stage.EXITED):
        case_move_stage(case=case, by=demo["caseworker"], to_stage=stage, reason="walk")
    name = request.node.callspec.params["viewer"]
    response = _as(client, viewer).post(reverse("case-reopen", args=[case.pk]), {"reopen-reason": "relapse risk"})
    assert response.status_code == _expect(name, {"caseworker", "manager"}, ok=302)


@pytest.mark.parametrize("viewer", ALL, indirect=True)
def test_team_add_and_remove(client, demo, case, viewer, request):
    name = request.node.callspec.params["viewer"]
    _as(client, viewer)
    response = client.post(reverse("case-team-add", args=[case.pk]), {"user": demo["colleague"].pk})
    assert response.status_code == _expect(name, {"caseworker", "manager"}, ok=302)
    added = case.team.filter(user=demo["colleague"]).exists()
    assert added == (name in {"caseworker", "manager"})
    member = case.team.get(user=demo["placement"])
    response = client.post(reverse("case-team-remove", args=[case.pk, member.pk]))
    assert response.status_code == _expect(name, {"caseworker", "manager"}, ok=302)
    assert case.team.filter(pk=member.pk).exists() == (name not in {"caseworker", "manager"})


@pytest.mark.parametrize("viewer", ALL, indirect=True)
def test_case_open_page(client, viewer, request, demo):
    name = request.node.callspec.params["viewer"]
    response = _as(client, viewer).get(reverse("case-open"))
    assert response.status_code == _expect(name, {"caseworker", "colleague", "manager", "caseworker2"})


@pytest.mark.parametrize("viewer", ALL, indirect=True)
def test_access_log_page(client, case, viewer, request):
    name = request.node.callspec.params["viewer"]
    response = _as(client, viewer).get(reverse("access-log"))
    assert response.status_code == _expect(name, {"manager", "auditor"})


def test_superuser_sees_no_case(client, superuser, case):
    client.force_login(superuser)
    assert client.get(reverse("case-detail", args=[case.pk])).status_code == 404
    assert client.get(reverse("case-list")).context["rows"] == []


@pytest.mark.parametrize(
    ("username", "shown", "hidden"),
    [
        ("caseworker", {"name_latin", "national_id", "date_of_birth", "phone", "referral"}, set()),
        ("manager", {"name_latin", "national_id", "date_of_birth", "phone", "referral"}, set()),
        ("placement", {"name_latin", "languages", "phone", "address"}, {"national_id", "date_of_birth", "referral"}),
    ],
)
def test_field_subsets_in_the_html(client, demo, case, username, shown, hidden):
    client.force_login(demo[username])
    html = client.get(reverse("case-detail", args=[case.pk])).content.decode()
    for field in shown:
        assert f'data-field="{field}"' in html, field
    for field in hidden:
        assert f'data-field="{field}"' not in html, field
    if "national_id" in hidden:
        assert case.participant.national_id not in html
        assert "1990" not in html  # the year of birth


@pytest.mark.parametrize(("username", "sees_referral"), [("caseworker", True), ("manager", True), ("placement", False)])
def test_list_rows_show_the_referral_only_where_the_viewer_sees_it(client, demo, case, username, sees_referral):
    """Each row's cells come from that viewer's groups on that case (case_views._list_row)."""
    client.force_login(demo[username])
    response = client.get(reverse("case-list"))
    (row,) = [row for listed, row in response.context["rows"] if listed.pk == case.pk]
    assert row["code"] == case.participant.case_code
    assert row["name_latin"] == case.participant.name_latin  # the names: the whole team
    assert row["url"] == case.get_absolute_url()
    assert bool(row["referral_source"]) == sees_referral
    assert (row["referral_date"] is not None) == sees_referral
    if sees_referral:
        assert f"{case.get_referral_source_display()}, " in response.content.decode()


def test_placement_officer_edit_and_history_are_closed(client, placement, case):
    client.force_login(placement)
    html = client.get(reverse("case-detail", args=[case.pk])).content.decode()
    assert reverse("case-edit", args=[case.pk]) not in html
    assert reverse("case-history", args=[case.pk]) not in html
    assert reverse("case-move", args=[case.pk]) not in html


def test_detail_read_writes_one_access_log_row(client, placement, case):
    client.force_login(placement)
    client.get(reverse("case-detail", args=[case.pk]))
    log = AccessLog.objects.get(case=case)
    assert log.user == placement
    assert log.organisation == placement.membership.organisation
    assert log.channel == "ui"
    assert log.view == "case-detail"
    assert "identity" not in log.shown
    assert "contact" in log.shown


def test_out_of_scope_read_writes_no_access_log_row(client, colleague, case):
    client.force_login(colleague)
    client.get(reverse("case-detail", args=[case.pk]))
    assert not AccessLog.objects.exists()


def test_list_filter_choices_name_the_leads_and_cities(client, demo, case):
    """The filter form reads names as tuples (forms.CaseFilterForm); they read as the models would."""
    from accounts.models import City, User
    from casemgmt.access import lead_choices

    client.force_login(demo["manager"])
    form = client.get(reverse("case-list")).context["form"]
    leads = dict(form.fields["lead"].choices[1:])
    expected = {user.pk: user.get_full_name() for user in lead_choices(demo["manager"])}
    assert leads == expected
    assert demo["caseworker"].pk in leads
    assert form.fields["city"].choices[1:] == [(city.code, city.name) for city in City.objects.all()]
    # a lead filter by one of them keeps the case of that lead
    response = client.get(reverse("case-list"), {"lead": demo["caseworker"].pk})
    assert case.pk in [listed.pk for listed, _row in response.context["rows"]]
    assert User.objects.filter(pk__in=leads).count() == len(leads)
