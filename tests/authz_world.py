"""The world of the authorization matrix (tests/test_authz_matrix.py): the demo users and one case of
every scope kind, each carrying one row of every record kind, with unique marker strings.

Case kinds (who may open the case is the expectation of the matrix, see REACH there):
- OWN: Northern, `caseworker` leads, `placement` on the team, `counsellor` holds an engagement,
  `mentor` has an active assignment.
- TEAM: Northern, `colleague` leads; `caseworker` is not on it.
- NGO: Atlantic, `caseworker2` leads.
- NOBASIS, EXPIRED, WITHDRAWN, MANDATE, CONSENT: Northern, `colleague` leads; the probation office
  (`authority`) has no basis / an expired consent / a withdrawn consent / a current court order / a
  current consent with some categories.
- INTAKE: a person referred by the probation office, in the Northern intake queue (no lead, no rows).

The rows of the apps (placements, families, mentoring) on cases other than OWN are written by extra
staff who are not demo users, so no demo user reaches them through those rows.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.models import City, Membership, Organisation, Role, User
from casemgmt import boundary_services, casefile_services, services
from casemgmt.boundary_models import ExceptionalDisclosure, InformationRequest
from casemgmt.casefile import AssessmentTemplate, Consent, Outcome
from casemgmt.casefile_services import record_create
from casemgmt.default_template import ensure_default_template
from casemgmt.dpo_models import SubjectExportRequest
from casemgmt.followup_models import FollowUp, FollowUpRule, Notification
from casemgmt.models import Case, CaseTeamMember, CaseTransfer, ReferralSource, Stage, TeamRole
from families import services as fs
from programs import mentoring_services as ms
from programs import placement_services as ps
from tests.factories import case_move_stage, participant_data
from tests.programs.helpers import activate, make_profile

TODAY = timezone.localdate
OWN, TEAM, NGO = "OWN", "TEAM", "NGO"
NOBASIS, EXPIRED, WITHDRAWN, MANDATE, CONSENT = "NOBASIS", "EXPIRED", "WITHDRAWN", "MANDATE", "CONSENT"
INTAKE = "INTAKE"
CASE_KINDS = (OWN, TEAM, NGO, NOBASIS, EXPIRED, WITHDRAWN, MANDATE, CONSENT, INTAKE)
CONSENTED = ["identity", "legal_status", "program_stage", "placement"]  # the CONSENT case's categories
TAG = {
    OWN: "own",
    TEAM: "tem",
    NGO: "ngo",
    NOBASIS: "nob",
    EXPIRED: "exp",
    WITHDRAWN: "wdr",
    MANDATE: "man",
    CONSENT: "cns",
    INTAKE: "ink",
}
TEST_PASSWORD = "x-matrix-password-long-2026"


@dataclass
class World:
    users: dict[str, User]
    cases: dict[str, Case]
    # case kind -> object kind -> pk (one row of every record kind per case)
    objects: dict[str, dict[str, int]] = field(default_factory=dict)
    # case kind -> marker strings that must never show outside the case's scope
    markers: dict[str, dict[str, str]] = field(default_factory=dict)
    # objects that belong to no case: object kind -> value
    globals: dict[str, object] = field(default_factory=dict)
    media_root: str = ""


def markers_of(kind: str) -> dict[str, str]:
    tag = TAG[kind]
    return {
        "given": f"Zq{tag}given",
        "family": f"Zq{tag}family",
        "national_id": f"ZQ{tag.upper()}7731",
        "text": f"ZQTEXT{tag.upper()}91",
    }


def _user(username: str, organisation: Organisation, role: str) -> User:
    user = User.objects.create_user(username, f"{username}@demo.invalid", TEST_PASSWORD, first_name="Mx")
    Membership.objects.create(user=user, organisation=organisation, role=role)
    return User.objects.select_related("membership__organisation").get(pk=user.pk)


def _open(kind: str, *, organisation, by, lead, n: int) -> Case:
    m = markers_of(kind)
    data = participant_data(n=9000 + n)
    data.update(given_name_latin=m["given"], family_name_latin=m["family"], national_id=m["national_id"])
    case = services.case_open(
        by=by,
        organisation=organisation,
        participant=data,
        referral_source=ReferralSource.FAMILY,
        referral_date=TODAY() - datetime.timedelta(days=60),
        referral_reason=f"Referral {m['text']}",
        lead=lead,
    )
    for stage in (Stage.SCREENING, Stage.ASSESSMENT, Stage.ACTIVE):
        case_move_stage(case=case, by=lead, to_stage=stage, reason="walk")
    case.refresh_from_db()
    return case


def _pdf(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.4\n%matrix probe\n", content_type="application/pdf")


def build_world(media_root: str) -> World:
    """Build everything through the services (as the app does); run inside a transaction the caller
    rolls back."""
    from casemgmt.management.commands.seed_demo import ATLANTIC, NORTHERN, PROBATION, seed_reference_data, seed_users

    seed_reference_data()
    seed_users(password=TEST_PASSWORD)
    ensure_default_template()
    users = {u.username: u for u in User.objects.select_related("membership__organisation")}
    northern = Organisation.objects.get(name=NORTHERN)
    atlantic = Organisation.objects.get(name=ATLANTIC)
    probation = Organisation.objects.get(name=PROBATION)
    city = City.objects.get(code="TNG")
    other_authority = Organisation.objects.create(name="Matrix Other Authority", kind="authority", city=city)
    third_ngo = Organisation.objects.create(name="Matrix Third NGO", kind="ngo", city=city)
    extra = {
        "mx_po_n": _user("mx_po_n", northern, Role.PLACEMENT_OFFICER),
        "mx_co_n": _user("mx_co_n", northern, Role.COUNSELLOR),
        "mx_po_a": _user("mx_po_a", atlantic, Role.PLACEMENT_OFFICER),
        "mx_co_a": _user("mx_co_a", atlantic, Role.COUNSELLOR),
        "mx_mg_a": _user("mx_mg_a", atlantic, Role.MANAGER),
        "mx_mentor": _user("mx_mentor", users["mentor"].membership.organisation, Role.MENTOR),
    }
    users.update(extra)
    make_profile(users["supervisor"], users["mentor"])
    make_profile(users["supervisor"], users["mx_mentor"], capacity=20)
    officer = users["placement"]
    partner = ps.partner_create(
        by=officer,
        name="Matrix Logistics",
        kind=Organisation.Kind.EMPLOYER,
        profile={"sector": "logistics", "city": city, "contact_name": "Matrix Contact"},
    ).organisation
    opportunity = ps.opportunity_create(
        by=officer,
        data={
            "partner": partner,
            "title": "Matrix warehouse job",
            "kind": "job",
            "sector": "logistics",
            "city": city,
            "places": 30,
            "start_date": TODAY() + datetime.timedelta(days=10),
            "pay_band": "minimum_wage",
        },
    )
    template = AssessmentTemplate.objects.get()
    world = World(users=users, cases={})
    world.media_root = media_root
    from tests.casemgmt.conftest import answers_for

    plan = {
        OWN: (northern, users["caseworker"], users["manager"], users["placement"], users["counsellor"], "mentor"),
        TEAM: (northern, users["colleague"], users["manager"], extra["mx_po_n"], extra["mx_co_n"], "mx_mentor"),
        NGO: (atlantic, users["caseworker2"], extra["mx_mg_a"], extra["mx_po_a"], extra["mx_co_a"], "mx_mentor"),
    }
    for kind in (NOBASIS, EXPIRED, WITHDRAWN, MANDATE, CONSENT):
        plan[kind] = plan[TEAM]
    day = TODAY() - datetime.timedelta(days=20)
    for n, (kind, (org, lead, manager, po, co, mentor)) in enumerate(plan.items()):
        m = markers_of(kind)
        text = m["text"]
        case = _open(kind, organisation=org, by=lead, lead=lead, n=n)
        world.cases[kind] = case
        world.markers[kind] = {**m, "code": case.participant.case_code}
        objs: dict[str, int] = {"case": case.pk, "participant": case.participant_id}
        services.team_member_add(case=case, by=lead, user=po, role=TeamRole.PLACEMENT_OFFICER)
        objs["team_member"] = CaseTeamMember.objects.get(case=case, user=po).pk
        # --- case file rows
        rows = {
            "safety_flag": record_create(
                key="safety_flag", case=case, by=lead, data={"kind": "office_only", "note": text, "active": True}
            ),
            "goal": record_create(
                key="goal",
                case=case,
                by=lead,
                data={"domain": "ideology", "title": f"Goal {text}", "owner": lead},
            ),
            "note": record_create(
                key="note",
                case=case,
                by=lead,
                data={"kind": "visit", "date": day, "visibility": "team", "text": f"Note {text}"},
            ),
            "legal_event": record_create(
                key="legal_event", case=case, by=lead, data={"kind": "hearing", "date": day, "description": text}
            ),
            "relapse_event": record_create(
                key="relapse_event", case=case, by=lead, data={"kind": "threat", "date": day, "description": text}
            ),
            "conflict_history": record_create(
                key="conflict_history",
                case=case,
                by=lead,
                data={"country": text, "from_date": datetime.date(2015, 1, 1), "to_date": datetime.date(2016, 1, 1)},
            ),
            "consent": record_create(
                key="consent",
                case=case,
                by=lead,
                data={"purpose": f"Family {text}", "categories": ["family_contact"], "given_on": day},
            ),
            "service_referral": record_create(
                key="service_referral",
                case=case,
                by=lead,
                data={"kind": "housing", "provider": f"Office {text}", "referred_on": day},
            ),
            "assessment": casefile_services.assessment_record(
                case=case, by=lead, template=template, assessed_on=day, answers=answers_for(template)
            ),
        }
        # a legal mandate row on every case; only MANDATE's is current and names the probation office
        mandate_data = {
            "kind": "court_order",
            "reference": f"CO-{text}",
            "issuing_body": "Court",
            "authority": probation if kind in (MANDATE, EXPIRED, WITHDRAWN) else other_authority,
            "starts_on": TODAY() - datetime.timedelta(days=300),
        }
        rows["mandate"] = record_create(key="mandate", case=case, by=manager, data=mandate_data)
        if kind == EXPIRED:
            rows["mandate"].__class__.objects.filter(pk=rows["mandate"].pk).update(
                ends_on=TODAY() - datetime.timedelta(days=3)
            )
        if kind == WITHDRAWN:
            rows["mandate"].__class__.objects.filter(pk=rows["mandate"].pk).update(
                revoked_on=TODAY() - datetime.timedelta(days=3)
            )
        rows["outcome"] = Outcome.objects.create(
            case=case, recorded_by=lead, kind=Outcome.Kind.AFTER_6, episode=1, due_on=TODAY()
        )
        for key, row in rows.items():
            objs[key] = row.pk
        casefile_services.goal_progress_add(goal=rows["goal"], by=lead, date=day, note=text)
        objs["attachment"] = casefile_services.attachment_add(
            case=case, by=lead, upload=_pdf(f"{TAG[kind]}.pdf"), description=text
        ).pk
        # --- the authority's basis
        if kind in (EXPIRED, WITHDRAWN, CONSENT):
            basis = record_create(
                key="consent",
                case=case,
                by=lead,
                data={"purpose": "Coordination", "recipient": probation, "categories": CONSENTED, "given_on": day},
            )
            if kind == EXPIRED:
                Consent.objects.filter(pk=basis.pk).update(
                    given_on=TODAY() - datetime.timedelta(days=400), expires_on=TODAY() - datetime.timedelta(days=1)
                )
            if kind == WITHDRAWN:
                Consent.objects.filter(pk=basis.pk).update(withdrawn_on=TODAY() - datetime.timedelta(days=1))
        # --- mentoring: an active assignment and a logged session
        assignment = activate(case, lead=lead, manager=manager, mentor=users[mentor])
        objs["mentor_assignment"] = assignment.pk
        objs["mentoring_session"] = ms.session_log(
            by=users[mentor],
            assignment=assignment,
            data={
                "starts_at": timezone.now() - datetime.timedelta(days=2),
                "place_type": "mosque",
                "status": "attended",
                "duration_minutes": 60,
                "topics": ["texts"],
                "goal": rows["goal"],
                "progress_rating": 3,
                "summary": f"Mentoring {text}",
            },
            confidential_notes=f"Secret {text}",
        ).pk
        # --- placements: a started placement (with its check-ins) and the employability profile
        objs["employability"] = ps.employability_save(
            by=po, case=case, data={"education_level": 3, "sectors": ["logistics"]}
        ).pk
        placed = ps.placement_propose(
            by=po, case=case, opportunity=opportunity, proposed_on=day, note=f"Placement {text}"
        )
        placed = ps.placement_move(by=po, placement=placed, to_status="accepted", on=day)
        placed = ps.placement_move(by=po, placement=placed, to_status="started", on=day + datetime.timedelta(days=1))
        objs["placement"] = placed.pk
        objs["placement_check_in"] = placed.check_ins.order_by("day").first().pk
        # --- families: household, a relative, an engagement held by the counsellor, a session, support
        link = fs.member_add(
            case=case, by=lead, relation="mother", data={"given_name": f"Zq{TAG[kind]}mother", "family_name": text}
        )
        objs["household"] = link.household_id
        objs["family_member"] = link.member_id
        engagement = fs.engagement_create(
            case=case, by=lead, kind="psychological", members=[link.member], counsellors=[co], step_plan=text
        )
        objs["family_engagement"] = engagement.pk
        objs["counselling_session"] = fs.session_log(
            by=co,
            engagement=engagement,
            data={
                "starts_at": timezone.now() - datetime.timedelta(days=1),
                "kind": "family",
                "status": "attended",
                "duration_minutes": 60,
                "summary": f"Family {text}",
            },
            attendees=[link.member],
            confidential_notes=f"Secret {text}",
        ).pk
        objs["family_referral"] = fs.referral_create(
            engagement=engagement, by=co, data={"service": "health", "provider": text, "referred_on": day}
        ).pk
        objs["family_support"] = fs.support_add(
            engagement=engagement, by=co, data={"kind": "food", "amount": 100, "given_on": day, "note": text}
        ).pk
        # --- follow-up (the lead's) with its notification
        follow_up = FollowUp.objects.create(
            case=case, kind="first_contact", due_on=TODAY(), assignee=lead, key=f"matrix:{case.pk}"
        )
        Notification.objects.create(user=lead, follow_up=follow_up)
        objs["follow_up"] = follow_up.pk
        # --- a transfer to a third NGO (pending: only the managers of both ends see it)
        objs["transfer"] = CaseTransfer.objects.create(
            case=case,
            case_code=case.participant.case_code,
            from_organisation=org,
            to_organisation=third_ngo,
            consent_id=rows["consent"].pk,
            reason=text,
            requested_by=lead,
        ).pk
        # --- a data-subject export the manager approved (the lead downloads it)
        objs["subject_export"] = SubjectExportRequest.objects.create(
            case=case, requested_by=lead, status="approved", decided_by=manager, decided_at=timezone.now()
        ).pk
        # --- an information request (the probation office's only on cases it shares or shared)
        asking = probation if kind in (CONSENT, MANDATE, EXPIRED, WITHDRAWN) else other_authority
        objs["information_request"] = InformationRequest.objects.create(
            case=case,
            authority=asking,
            requested_by=users["authority"],
            categories=["risk_band"],
            purpose="Supervision report (matrix)",
        ).pk
        # --- an exceptional disclosure: prepared on every case, delivered on MANDATE only
        disclosure = boundary_services.disclosure_prepare(
            case=case,
            by=manager,
            authority=probation,
            legal_basis=ExceptionalDisclosure.LegalBasis.DANGER,
            justification="A credible threat reported in a session (matrix)",
            categories=["identity"],
        )
        if kind == MANDATE:
            disclosure = boundary_services.disclosure_approve(disclosure=disclosure, by=users["auditor"])
            disclosure = boundary_services.disclosure_deliver(disclosure=disclosure, by=manager)
        objs["disclosure"] = disclosure.pk
        world.objects[kind] = objs
    # the current basis of the authority
    record_create(
        key="mandate",
        case=world.cases[MANDATE],
        by=users["manager"],
        data={
            "kind": "court_order",
            "reference": "CO-CURRENT",
            "issuing_body": "Court",
            "authority": probation,
            "starts_on": TODAY() - datetime.timedelta(days=30),
        },
    )
    # --- INTAKE: a person referred by the probation office, no lead, no rows
    m = markers_of(INTAKE)
    data = participant_data(n=9100)
    data.update(given_name_latin=m["given"], family_name_latin=m["family"], national_id=m["national_id"])
    referral = boundary_services.authority_referral_submit(
        by=users["authority"], organisation=northern, participant=data, reason=f"Referral {m['text']}"
    )
    intake = referral.case
    world.cases[INTAKE] = intake
    world.markers[INTAKE] = {**m, "code": intake.participant.case_code}
    world.objects[INTAKE] = {"case": intake.pk, "participant": intake.participant_id}
    # --- objects of no case
    group = fs.group_session_create(
        by=extra["mx_co_n"],
        title="Matrix parents' meeting",
        starts_at=timezone.now() + datetime.timedelta(days=3),
        engagements=[
            world.cases[TEAM].family_engagements.get(),
            world.cases[NOBASIS].family_engagements.get(),
        ],
    )
    from imports import services as import_services

    # the placement officer's checked import file (one partner): its page, its confirm, its API row
    import_run = import_services.import_check(
        by=users["placement"],
        kind="partners",
        name="partners.csv",
        data=b"name,kind,sector,city\nMatrix Import Employer,employer,logistics,TNG\n",
    )
    # a partner system's webhook subscription (the probation office's client): 404 to every staff user
    from accounts.services import api_client_register
    from casemgmt import webhooks

    api_client, _secret = api_client_register(
        name="Matrix probation system",
        organisation=users["authority"].membership.organisation,
        scopes=["cases:read-shared", "webhooks:manage"],
    )
    subscription = webhooks.subscribe(
        application=api_client.application,
        organisation=api_client.organisation,
        url="https://hooks.example/matrix",
        events=["legal_event.recorded"],
    )
    world.globals = {
        "webhook_subscription": subscription.pk,
        "import_run": import_run.pk,
        "authority_referral": referral.pk,
        "group_session": group.pk,
        "partner": partner.pk,
        "opportunity": opportunity.pk,
        "mentor_profile": users["mentor"].mentor_profile.pk,
        "user": users["caseworker"].pk,
        "rule": FollowUpRule.objects.order_by("key").values_list("key", flat=True).first(),
        "saved_search": services.saved_search_save(
            by=users["caseworker"], name="Matrix search", querystring="stage=active"
        ).pk,
    }
    return world
