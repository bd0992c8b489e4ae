"""The audit trail: trigger-based history that nothing bypasses, and the append-only access log."""

import pytest
from django.apps import apps
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from casemgmt import services
from casemgmt.models import AccessLog, Case, Participant


def _events(model_name, **filters):
    return apps.get_model("casemgmt", model_name).objects.filter(**filters)


def test_history_catches_queryset_update_and_raw_sql(demo, case):
    before = _events("CaseEvent", pgh_obj_id=case.pk).count()
    Case.objects.filter(pk=case.pk).update(referral_reason="changed behind the service's back")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE casemgmt_participant SET phone = '+212 611 111 111' WHERE id = %s", [case.participant_id]
        )
    assert _events("CaseEvent", pgh_obj_id=case.pk).count() == before + 1
    latest = _events("ParticipantEvent", pgh_obj_id=case.participant_id).order_by("-pgh_id").first()
    assert latest.phone == "+212 611 111 111"


def test_history_records_the_acting_user(demo, case):
    services.case_profile_update(case=case, by=demo["manager"], changes={"referral_reason": "intake note"})
    event = _events("CaseEvent", pgh_obj_id=case.pk).order_by("-pgh_id").first()
    assert event.pgh_context.metadata["user"] == demo["manager"].pk


def test_history_page_shows_changes_with_user_and_hides_fields_the_viewer_may_not_see(client, demo, case):
    services.case_profile_update(case=case, by=demo["caseworker"], changes={"national_id": "QX987654"})
    Case.objects.filter(pk=case.pk).update(referral_reason="raw update")
    client.force_login(demo["caseworker"])
    html = client.get(reverse("case-history", args=[case.pk])).content.decode()
    assert "QX987654" in html
    assert "raw update" in html
    assert demo["caseworker"].get_full_name() in html
    # the history view is itself a read of the case
    assert AccessLog.objects.filter(case=case, view="case-history").count() == 1


def test_history_through_the_policy_never_leaks_hidden_groups():
    from casemgmt.access import VISIBLE

    # who may open the history tab sees every group, so nothing can leak there; if the table changes,
    # case_history() filters by the viewer's groups (covered below)
    assert VISIBLE["caseworker"] == VISIBLE["manager"]


def test_case_history_filters_fields_by_groups(demo, case):
    from casemgmt.selectors import case_history

    services.case_profile_update(case=case, by=demo["caseworker"], changes={"national_id": "QX1", "phone": "9"})
    entries = case_history(case=case, groups=frozenset({"names", "contact"}))
    labels = {label for entry in entries for label, _, _ in entry.changes}
    assert "phone" in labels
    assert "national ID" not in labels
    assert "date of birth" not in labels


def test_team_changes_are_in_the_history(demo, case):
    from casemgmt.selectors import case_history

    member = case.team.get(user=demo["placement"])
    services.team_member_remove(member=member, by=demo["caseworker"])
    entries = case_history(case=case, groups=frozenset({"team"}))
    assert [e.action for e in entries if e.record == "team" and e.subject == demo["placement"].get_full_name()] == [
        "removed",
        "added",
    ]


def test_access_log_is_append_only(demo, case):
    log = services.access_log_record(user=demo["caseworker"], case=case, channel="ui", view="t", shown=frozenset())
    with pytest.raises(DatabaseError), transaction.atomic():
        AccessLog.objects.filter(pk=log.pk).update(view="tampered")
    with pytest.raises(DatabaseError), transaction.atomic():
        AccessLog.objects.filter(pk=log.pk).delete()
    assert AccessLog.objects.get(pk=log.pk).view == "t"


def test_access_log_page_shows_own_organisation_reads_only(client, demo, case):
    from tests.factories import CaseFactory

    other = CaseFactory(
        organisation=demo["caseworker2"].membership.organisation, by=demo["caseworker2"], lead=demo["caseworker2"]
    )
    services.access_log_record(user=demo["caseworker"], case=case, channel="ui", view="case-detail", shown=frozenset())
    services.access_log_record(
        user=demo["caseworker2"], case=other, channel="ui", view="case-detail", shown=frozenset()
    )
    for username in ("manager", "auditor"):
        client.force_login(demo[username])
        rows = list(client.get(reverse("access-log")).context["page"].object_list)
        assert [r.case_id for r in rows] == [case.pk]
        html = client.get(reverse("access-log")).content.decode()
        assert case.participant.family_name_latin not in html  # the auditor sees no case content
        # managers read case codes; the auditor holds none (handbook §4), only case numbers
        assert (case.participant.case_code in html) == (username == "manager")


def test_participant_rows_are_not_deleted_by_the_app():
    # PROTECT: a case keeps its participant; retention pseudonymises instead (issue 10)
    assert Case._meta.get_field("participant").remote_field.on_delete.__name__ == "PROTECT"
    assert Participant._meta.get_field("city").remote_field.on_delete.__name__ == "PROTECT"
