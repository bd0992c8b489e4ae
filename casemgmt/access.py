"""The one access policy: who may see or change what.

Every page, API endpoint, export, history view and reminder asks this module.
Lists get querysets filtered in SQL; single objects come from the same querysets,
so an object outside a user's scope is simply not found (404), never "forbidden".
Being a superuser opens nothing here: the Django admin is for configuration only.

Field visibility follows the handbook's table (section 4): a team member's field set
follows their role on the case team; a manager's follows their membership role.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery, Value
from django.shortcuts import get_object_or_404

from accounts.models import Role, User
from dbengine import prepared

from .models import AccessLog, Case, CaseTeamMember, Participant


def has_role(user: User, *roles: str) -> bool:
    return bool(user.is_authenticated and user.is_active and user.role in roles)


# --- Organisation users -----------------------------------------------------------


def users_manageable_by(user: User) -> QuerySet[User]:
    """Staff accounts an organisation admin may list and edit: those of their own organisation."""
    if not has_role(user, Role.ADMIN):
        return User.objects.none()
    return User.objects.filter(membership__organisation_id=user.membership.organisation_id).select_related(
        "membership__organisation"
    )


def get_manageable_user(user: User, user_id: int) -> User:
    return get_object_or_404(users_manageable_by(user), pk=user_id)


# --- Field groups -----------------------------------------------------------------


class G:
    """Field groups: the unit in which case data is shown or hidden."""

    CODE = "code"  # case code and the lead caseworker's contact
    NAMES = "names"  # given and family names in both scripts, city
    STAGE = "stage"
    LANGUAGES = "languages"  # languages (and safety flags, with the case file)
    IDENTITY = "identity"  # date of birth, national ID
    CONTACT = "contact"  # the participant's phone, e-mail, address
    REFERRAL = "referral"  # referral and screening
    TEAM = "team"  # who is on the case team
    SAFETY = "safety"  # safety flags (shown as a banner to the team)
    CONFLICT = "conflict"  # travel and conflict history
    LEGAL = "legal"  # legal status, sentence, conditions and every legal event
    LEGAL_CONDITIONS = "legal_conditions"  # legal status, conditions and condition events only
    RELAPSE = "relapse"
    RISK = "risk"  # the current risk band
    ASSESSMENT = "assessment"  # assessment answers and evidence
    PLAN = "plan"  # goals and progress (rows filtered by domain for some roles)
    SERVICES = "services"  # service referrals
    NOTES = "notes"  # case notes (restricted ones: author and lead only)
    CONSENTS = "consents"  # consent metadata
    MANDATES = "mandates"  # legal-mandate metadata (court orders, probation supervision)
    DOCUMENTS = "documents"  # attachments on the case itself
    OUTCOMES = "outcomes"  # the exit snapshot and post-exit outcomes
    OUTCOME_EMPLOYMENT = "outcome_employment"  # their employment field only
    MENTORING = "mentoring"  # mentor assignments and sessions (never their confidential notes)
    PLACEMENTS = "placements"  # employability profile, placements and their check-ins
    FAMILY = "family"  # households, family members, counselling engagements and sessions, support


# Model fields per group, for serializers, forms and the change history.
GROUP_FIELDS: dict[str, tuple[str, ...]] = {
    G.CODE: ("case_code",),
    G.NAMES: ("given_name_latin", "family_name_latin", "given_name_arabic", "family_name_arabic", "city"),
    G.STAGE: ("stage", "stage_changed_at"),
    G.LANGUAGES: ("languages",),
    G.IDENTITY: ("date_of_birth", "national_id"),
    G.CONTACT: ("phone", "email", "address"),
    G.REFERRAL: (
        "referral_source",
        "referral_date",
        "referring_organisation",
        "referral_reason",
        "first_contact_date",
        "eligibility",
        "eligibility_reason",
    ),
    G.TEAM: ("user", "role", "is_lead"),
    G.LEGAL: ("legal_status", "sentence_ends_on", "legal_conditions"),
    G.LEGAL_CONDITIONS: ("legal_status", "legal_conditions"),
}
# Groups made of rows rather than case fields.
ALL_GROUPS = frozenset(value for name, value in vars(G).items() if not name.startswith("_") and isinstance(value, str))
# The other groups are made of rows rather than case fields.
GROUP_FIELDS.update(dict.fromkeys(ALL_GROUPS - set(GROUP_FIELDS), ()))
# Viewer kinds: the role on the case team ("lead" for the lead caseworker) or "manager".
LEAD = "lead"
MANAGER = "manager"
_SEEN_BY_ALL_TEAM = {G.CODE, G.NAMES, G.STAGE, G.LANGUAGES, G.TEAM, G.SAFETY, G.PLAN}
VISIBLE: dict[str, frozenset[str]] = {
    LEAD: ALL_GROUPS - {G.LEGAL_CONDITIONS, G.OUTCOME_EMPLOYMENT},
    "caseworker": ALL_GROUPS - {G.LEGAL_CONDITIONS, G.OUTCOME_EMPLOYMENT},
    "placement_officer": frozenset(
        _SEEN_BY_ALL_TEAM | {G.CONTACT, G.LEGAL_CONDITIONS, G.NOTES, G.OUTCOME_EMPLOYMENT, G.PLACEMENTS}
    ),
    # A counsellor reads the family's contact details (families app), not the participant's,
    # and of the consents only those about family contact.
    "counsellor": frozenset(_SEEN_BY_ALL_TEAM | {G.CONSENTS, G.FAMILY}),
    "mentor": frozenset(_SEEN_BY_ALL_TEAM | {G.MENTORING}),
    MANAGER: ALL_GROUPS - {G.LEGAL_CONDITIONS, G.OUTCOME_EMPLOYMENT},
}
_CASEWORKER_EDITS = frozenset({G.NAMES, G.LANGUAGES, G.IDENTITY, G.CONTACT, G.REFERRAL, G.LEGAL})
EDITABLE: dict[str, frozenset[str]] = {
    LEAD: _CASEWORKER_EDITS,
    "caseworker": _CASEWORKER_EDITS,
    MANAGER: frozenset({G.REFERRAL}),  # the intake; identity and contact are read-only for managers
}
TEAM_ROLES = ("caseworker", "placement_officer", "counsellor", "mentor")


# --- Cases ------------------------------------------------------------------------


# The team role a membership role may hold; a team row whose role no longer matches the person's
# membership (a caseworker who became a placement officer) opens nothing.
TEAM_ROLE_OF_MEMBERSHIP = {
    Role.CASEWORKER: "caseworker",
    Role.PLACEMENT_OFFICER: "placement_officer",
    Role.COUNSELLOR: "counsellor",
    Role.MENTOR: "mentor",
}
# NGO staff reach only their own organisation's cases (a mentor may come from a religious organisation).
SAME_ORGANISATION_ROLES = (Role.CASEWORKER, Role.PLACEMENT_OFFICER, Role.COUNSELLOR)


# Extra conditions a team row must meet to open its case, per membership role, registered by the
# apps to the right (a mentor's rows open nothing while their vetting is lapsed or suspended).
TEAM_ROW_CONDITIONS: dict[str, Callable[[User], Q]] = {}


def register_team_condition(role: str, condition: Callable[[User], Q]) -> None:
    TEAM_ROW_CONDITIONS[role] = condition


def _my_team_rows(user: User, case_ref: str = "pk"):
    """The user's own, still valid, team rows on the outer case."""
    role = user.role
    rows = CaseTeamMember.objects.filter(case=OuterRef(case_ref), user=user, role=TEAM_ROLE_OF_MEMBERSHIP[role])
    if role in SAME_ORGANISATION_ROLES:
        rows = rows.filter(case__organisation_id=user.membership.organisation_id)
    if role in TEAM_ROW_CONDITIONS:
        rows = rows.filter(TEAM_ROW_CONDITIONS[role](user))
    return rows


def cases_visible_to(user: User) -> QuerySet[Case]:
    """Cases this user may open; the single source for lists and details.

    Each case carries `viewer_kind`: "manager", "lead" or the user's role on the team,
    so lists decide field visibility per row without a query per row.
    """
    if not (user.is_authenticated and user.is_active):
        return Case.objects.none()
    role = user.role
    if role == Role.MANAGER:
        return Case.objects.filter(organisation_id=user.membership.organisation_id).annotate(viewer_kind=Value(MANAGER))
    if role in TEAM_ROLE_OF_MEMBERSHIP:
        mine = _my_team_rows(user)
        return Case.objects.filter(Exists(mine)).annotate(
            viewer_kind=Subquery(mine.values("role")[:1]),
            viewer_is_lead=Exists(mine.filter(is_lead=True)),
        )
    # auditor, admin, mentor supervisor: no case content. Authorities: with the sharing basis (issue 10).
    return Case.objects.none()


def get_case_for_user(user: User, case_id: int, *, with_pending_transfer: bool = False) -> Case:
    """The case, or 404 outside the user's scope. `with_pending_transfer`: with the receiver of its
    pending transfer (`CaseQuerySet.with_pending_transfer`) and the referring organisation, what the
    case page shows besides the case, in the same query."""
    cases = cases_visible_to(user).with_list_relations()
    if with_pending_transfer:
        cases = cases.with_pending_transfer().select_related("referring_organisation")
    # a lookup by primary key on every case page: a prepared statement (dbengine), planned once per shape
    with prepared():
        return get_object_or_404(cases, pk=case_id)


def get_case_of_participant_for_user(user: User, participant_id: int, cases: QuerySet[Case] | None = None) -> Case:
    """The case of a participant, through the same scope (404 outside it)."""
    return get_object_or_404(cases if cases is not None else cases_visible_to(user), participant_id=participant_id)


def viewer_kind(user: User, case: Case) -> str | None:
    """ "manager", "lead", a team role, or None. Uses the annotations of cases_visible_to."""
    kind = getattr(case, "viewer_kind", None)
    if kind is None:
        annotated = cases_visible_to(user).filter(pk=case.pk).first()
        if annotated is None:
            return None
        case.viewer_kind, case.viewer_is_lead = annotated.viewer_kind, getattr(annotated, "viewer_is_lead", False)
        kind = case.viewer_kind
    if kind != MANAGER and getattr(case, "viewer_is_lead", False):
        return LEAD
    return kind


def visible_groups(user: User, case: Case) -> frozenset[str]:
    return VISIBLE.get(viewer_kind(user, case) or "", frozenset())


def groups_visible_in_lists(user: User) -> frozenset[str]:
    """Every group that some case of `cases_visible_to(user)` may show this user: what a list needs to
    load (the rest is not fetched, nor decrypted). Each row still shows only `visible_groups(user, case)`.

    A manager sees their cases as manager; a team member in their membership's team role, and a
    caseworker also as lead (the lead is a caseworker: a check constraint)."""
    if not (user.is_authenticated and user.is_active):
        return frozenset()
    role = user.role
    if role == Role.MANAGER:
        kinds = {MANAGER}
    elif role in TEAM_ROLE_OF_MEMBERSHIP:
        kinds = {TEAM_ROLE_OF_MEMBERSHIP[role]} | ({LEAD} if role == Role.CASEWORKER else set())
    else:
        return frozenset()
    return frozenset().union(*(VISIBLE[kind] for kind in kinds))


def editable_groups(user: User, case: Case) -> frozenset[str]:
    if case.is_read_only:
        return frozenset()
    return EDITABLE.get(viewer_kind(user, case) or "", frozenset())


def visible_fields(user: User, case: Case) -> frozenset[str]:
    return frozenset(f for group in visible_groups(user, case) for f in GROUP_FIELDS[group])


def can_move_stage(user: User, case: Case) -> bool:
    """Stage moves, exits, closures and re-openings: the lead or a manager."""
    return viewer_kind(user, case) in (LEAD, MANAGER)


def can_manage_team(user: User, case: Case) -> bool:
    return not case.is_read_only and viewer_kind(user, case) in (LEAD, MANAGER)


def can_open_case(user: User) -> bool:
    return has_role(user, Role.CASEWORKER, Role.MANAGER)


def can_see_history(user: User, case: Case) -> bool:
    """Change history and access log of a case: caseworkers on the team and managers (handbook §4)."""
    return viewer_kind(user, case) in (LEAD, "caseworker", MANAGER)


def stage_reasons_visible(user: User, case: Case) -> bool:
    """Stage-change reasons carry screening and exit reasons: referral-level data."""
    return G.REFERRAL in visible_groups(user, case)


def team_candidates(user: User, case: Case) -> QuerySet[User]:
    """Colleagues the lead or a manager may add: caseworkers and placement officers of the owning NGO.

    Counsellors join through a family engagement and mentors through an assignment.
    """
    if not can_manage_team(user, case):
        return User.objects.none()
    return (
        User.objects.filter(
            is_active=True,
            membership__organisation_id=case.organisation_id,
            membership__role__in=[Role.CASEWORKER, Role.PLACEMENT_OFFICER],
        )
        .exclude(case_teams__case=case)
        .select_related("membership")
        .order_by("last_name", "first_name")
    )


def lead_candidates(user: User) -> QuerySet[User]:
    """Caseworkers a manager may make lead of the organisation's referrals."""
    if not has_role(user, Role.MANAGER):
        return User.objects.none()
    return User.objects.filter(
        is_active=True, membership__organisation_id=user.membership.organisation_id, membership__role=Role.CASEWORKER
    ).order_by("last_name", "first_name")


def participants_visible_to(user: User) -> QuerySet[Participant]:
    return Participant.objects.filter(case__in=cases_visible_to(user).values("pk"))


def lead_choices(user: User) -> QuerySet[User]:
    """The choices of the list's lead filter: a manager's caseworkers, or the leads of one's own cases."""
    if has_role(user, Role.MANAGER):
        # the organisation's caseworkers: no scan of every case of the organisation
        return (
            User.objects.filter(
                membership__organisation_id=user.membership.organisation_id, membership__role=Role.CASEWORKER
            )
            .only("first_name", "last_name")  # what a choice shows: get_full_name()
            .order_by("last_name", "first_name")
        )
    return (
        User.objects.filter(case_teams__is_lead=True, case_teams__case__in=cases_visible_to(user).values("pk"))
        .only("first_name", "last_name")
        .distinct()
        .order_by("last_name", "first_name")
    )


def allowed_list_filters(user: User) -> frozenset[str]:
    """Filters and sorts of the case list a user may use: none may reveal a hidden field."""
    allowed = {"q", "stage", "city", "lead", "sort"}
    if user.role in (Role.CASEWORKER, Role.MANAGER):  # they see referral and identity on every case they open
        allowed.add("referral_source")
        allowed.add("sort:referral")
        allowed.add("national_id")
        allowed.add("risk_band")
    return frozenset(allowed)


def case_reads(user: User, case: Case) -> QuerySet[AccessLog]:
    """Who read this case, for its history tab."""
    if not can_see_history(user, case):
        return AccessLog.objects.none()
    return case.access_logs.all()


def can_see_case_pages(user: User) -> bool:
    return has_role(user, *TEAM_ROLE_OF_MEMBERSHIP, Role.MANAGER)


def can_see_access_log_page(user: User) -> bool:
    return has_role(user, Role.MANAGER, Role.AUDITOR)


# --- Audit ------------------------------------------------------------------------


def access_logs_visible_to(user: User) -> QuerySet[AccessLog]:
    """Managers and the auditor read who read their organisation's cases; nobody else here."""
    if not can_see_access_log_page(user):
        return AccessLog.objects.none()
    organisation = user.membership.organisation_id
    # Reads of the organisation's cases, and its own staff's reads, which it keeps after a transfer.
    return AccessLog.objects.filter(Q(case__organisation_id=organisation) | Q(organisation_id=organisation))


# --- Case-file records -------------------------------------------------------------

ALL_ROWS = None  # a viewer kind mapped to ALL_ROWS reads every row of the record type


@dataclass(frozen=True)
class RecordRule:
    """Who reads and writes one kind of case-file row.

    `read` maps a viewer kind to None (every row) or to a function user → Q narrowing the rows
    (a placement officer reads condition events only; a restricted note is for its author and the lead).
    """

    group: str
    read: dict[str, Callable[[User], Q] | None]
    write: frozenset[str]
    author_edits_only: bool = False
    partial_group: str | None = None  # a group that opens some of the rows (legal conditions)
    attachable: bool = True  # files may be attached to its rows (mentoring sessions: no)

    def opened_by(self, groups: frozenset[str]) -> bool:
        return self.group in groups or (self.partial_group is not None and self.partial_group in groups)


_CW = {LEAD: ALL_ROWS, "caseworker": ALL_ROWS, MANAGER: ALL_ROWS}
_CW_WRITE = frozenset({LEAD, "caseworker"})

RECORD_RULES: dict[str, RecordRule] = {
    "assessment": RecordRule(G.ASSESSMENT, _CW, _CW_WRITE),
    "goal": RecordRule(
        G.PLAN,
        {
            **_CW,
            "counsellor": lambda user: Q(domain="family"),
            "mentor": lambda user: Q(domain="ideology"),
            "placement_officer": lambda user: Q(domain__in=["education", "employment"]),
        },
        _CW_WRITE,
    ),
    "note": RecordRule(
        G.NOTES,
        {
            # The lead reads restricted notes written in their own organisation; after a transfer, the
            # sending NGO's restricted notes stay with their authors.
            LEAD: lambda user: (
                Q(visibility="team")
                | Q(recorded_by=user)
                | Q(recorded_by__membership__organisation_id=user.membership.organisation_id)
            ),
            "caseworker": lambda user: Q(visibility="team") | Q(recorded_by=user),
            "placement_officer": lambda user: Q(visibility="team"),
            MANAGER: lambda user: Q(visibility="team"),  # never restricted notes
        },
        _CW_WRITE,
        author_edits_only=True,
    ),
    "legal_event": RecordRule(
        G.LEGAL,
        {**_CW, "placement_officer": lambda user: Q(kind="condition")},
        _CW_WRITE,
        partial_group=G.LEGAL_CONDITIONS,
    ),
    "relapse_event": RecordRule(G.RELAPSE, _CW, _CW_WRITE),
    "safety_flag": RecordRule(
        G.SAFETY,
        {**_CW, "placement_officer": ALL_ROWS, "counsellor": ALL_ROWS, "mentor": ALL_ROWS},
        _CW_WRITE,
    ),
    "conflict_history": RecordRule(G.CONFLICT, _CW, _CW_WRITE),
    "consent": RecordRule(
        G.CONSENTS,
        {**_CW, "counsellor": lambda user: Q(categories__contains=["family_contact"])},
        frozenset({LEAD, "caseworker", MANAGER}),
    ),
    "service_referral": RecordRule(G.SERVICES, _CW, _CW_WRITE),
    # Legal mandates: recorded by the manager, read by the caseworkers (handbook section 4).
    "mandate": RecordRule(G.MANDATES, _CW, frozenset({MANAGER}), attachable=False),
    # A placement officer reads every outcome row but only its employment field (OUTCOME_VISIBLE_FIELDS).
    "outcome": RecordRule(
        G.OUTCOMES,
        {**_CW, "placement_officer": ALL_ROWS},
        frozenset({LEAD, "caseworker", MANAGER}),
        partial_group=G.OUTCOME_EMPLOYMENT,
    ),
}
OUTCOME_EMPLOYMENT_FIELDS = ("id", "case", "kind", "episode", "due_on", "recorded_on", "employment")


def outcome_fields_for(user: User) -> tuple[str, ...] | None:
    """The outcome fields a reader of outcome rows may see: None for all of them.

    A team row opens a case only in the member's own role, so the role decides (no query per case)."""
    if user.role == Role.PLACEMENT_OFFICER:
        return OUTCOME_EMPLOYMENT_FIELDS
    return None


# Row kinds of the apps to the right (mentoring, placements, families), registered in their
# AppConfig.ready(): the same rules, the same functions, no import of those apps here.
REGISTERED_MODELS: dict[str, type] = {}
REGISTERED_HISTORY_FIELDS: dict[str, tuple[str, ...]] = {}


def register_record(key: str, model: type, rule: RecordRule, *, history_fields: tuple[str, ...] = ()) -> None:
    """Add a kind of case-bound row (the model has a `case` foreign key) under the same policy.

    `history_fields` are the fields the case's change history shows for it (the model must be
    tracked by pghistory when there are any)."""
    RECORD_RULES[key] = rule
    REGISTERED_MODELS[key] = model
    REGISTERED_HISTORY_FIELDS[key] = history_fields


def record_model(key: str):
    from . import boundary_models, casefile

    if key in REGISTERED_MODELS:
        return REGISTERED_MODELS[key]
    return {
        "assessment": casefile.Assessment,
        "goal": casefile.Goal,
        "note": casefile.Note,
        "legal_event": casefile.LegalEvent,
        "relapse_event": casefile.RelapseEvent,
        "safety_flag": casefile.SafetyFlag,
        "conflict_history": casefile.ConflictHistory,
        "consent": casefile.Consent,
        "service_referral": casefile.ServiceReferral,
        "attachment": casefile.Attachment,
        "outcome": casefile.Outcome,
        "mandate": boundary_models.LegalMandate,
    }[key]


def _team_kind_filter(user: User, kind: str) -> Q:
    rows = _my_team_rows(user, "case")
    if kind == LEAD:
        rows = rows.filter(is_lead=True)
    return Q(Exists(rows))


def _rows_for(user: User, read: dict[str, Callable[[User], Q] | None]) -> Q:
    """The SQL condition for the rows a user reads under one record rule (never an empty OR)."""
    if not (user.is_authenticated and user.is_active):
        return Q(pk__in=[])
    condition = Q(pk__in=[])
    role = user.role
    for kind, narrow in read.items():
        if kind == MANAGER:
            if role != Role.MANAGER:
                continue
            scope = Q(case__organisation_id=user.membership.organisation_id)
        elif role in TEAM_ROLE_OF_MEMBERSHIP:
            if (kind == LEAD and role != Role.CASEWORKER) or kind not in (LEAD, TEAM_ROLE_OF_MEMBERSHIP[role]):
                continue
            scope = _team_kind_filter(user, kind)
        else:
            continue
        condition |= scope & narrow(user) if narrow is not None else scope
    return condition


def rows_condition(user: User, key: str) -> Q:
    """The SQL condition of one record rule, for the rows and for their history versions alike."""
    return _rows_for(user, RECORD_RULES[key].read)


def records_visible_to(user: User, key: str) -> QuerySet:
    """Case-file rows of one kind this user may read, across all their cases, filtered in SQL."""
    model = record_model(key)
    if key == "attachment":
        return model.objects.filter(_attachments_for(user))
    return model.objects.filter(_rows_for(user, RECORD_RULES[key].read))


def case_records_visible_to(user: User, case: Case, key: str) -> QuerySet:
    """The rows of one kind on ONE case, for a case reached through `cases_visible_to`.

    The same rule as `records_visible_to(user, key).filter(case=case)`, but the case's scope is taken
    from the case's annotations (viewer kind, lead) instead of being derived again in SQL for every
    kind: the timeline asks this for nine kinds at once. Tests hold the two equal for every demo user.
    """
    model = record_model(key)
    kind = viewer_kind(user, case)
    if key == "attachment" or kind is None or not (user.is_authenticated and user.is_active):
        return records_visible_to(user, key).filter(case=case) if kind else model.objects.none()
    kinds = {MANAGER} if kind == MANAGER else {case.viewer_kind}
    if kind == LEAD and user.role == Role.CASEWORKER:
        kinds.add(LEAD)
    narrows = [narrow for rule_kind, narrow in RECORD_RULES[key].read.items() if rule_kind in kinds]
    rows = model.objects.filter(case=case)
    if not narrows:
        return rows.none()
    if any(narrow is None for narrow in narrows):  # one of the viewer's kinds reads every row
        return rows
    condition = Q(pk__in=[])
    for narrow in narrows:
        condition |= narrow(user)
    return rows.filter(condition)


def get_record_for_user(user: User, key: str, pk: int):
    return get_object_or_404(records_visible_to(user, key), pk=pk)


def can_write_record(user: User, case: Case, key: str, record=None) -> bool:
    """Create (record=None) or change a row. Closed cases are read-only."""
    if case.is_read_only:
        return False
    if key == "attachment":
        return can_attach(user, case, record.record_type if record else "case")
    rule = RECORD_RULES[key]
    if viewer_kind(user, case) not in rule.write:
        return False
    return not (record is not None and rule.author_edits_only and record.recorded_by_id != user.pk)


# Attachments follow the record they belong to; those on the case itself are case documents,
# read by caseworkers on the team and managers.
_DOCUMENT_READ = {LEAD: ALL_ROWS, "caseworker": ALL_ROWS, MANAGER: ALL_ROWS}


def _attachments_for(user: User) -> Q:
    condition = Q(record_type="case") & _rows_for(user, _DOCUMENT_READ)
    for key in RECORD_RULES:
        visible = records_visible_to(user, key).values("pk")
        condition |= Q(record_type=key, record_id__in=visible)
    return condition


def can_attach(user: User, case: Case, record_type: str, record=None) -> bool:
    """Attaching a file changes the record: the same rule as writing it (a note: its author only)."""
    if case.is_read_only:
        return False
    if record_type == "case":
        return viewer_kind(user, case) in _CW_WRITE | {MANAGER}
    if not RECORD_RULES[record_type].attachable:
        return False
    if record is not None:
        return can_write_record(user, case, record_type, record)
    return viewer_kind(user, case) in RECORD_RULES[record_type].write


def saved_searches_of(user: User) -> QuerySet:
    """A user's saved searches are theirs alone (they may hold a typed name)."""
    from .models import SavedSearch

    if not can_see_case_pages(user):
        return SavedSearch.objects.none()
    return SavedSearch.objects.filter(user=user)


def team_candidate_in_role(user: User, case: Case, candidate_id: int, role: str) -> User | None:
    """A colleague the lead or manager may add, in the team role their membership holds; None for anyone
    else (one answer, so the team endpoint cannot map other organisations' staff)."""
    candidate = team_candidates(user, case).filter(pk=candidate_id).first()
    if candidate is None or TEAM_ROLE_OF_MEMBERSHIP.get(candidate.membership.role) != role:
        return None
    return candidate


# --- Follow-ups -----------------------------------------------------------------------------


def follow_ups_visible_to(user: User) -> QuerySet:
    """A user's own follow-ups on cases they can still open; a manager's: also every one of the
    organisation's cases; the lead's and team caseworkers': also those of their cases."""
    from .followup_models import FollowUp

    if not (user.is_authenticated and user.is_active) or user.membership_or_none is None:
        return FollowUp.objects.none()
    visible = cases_visible_to(user).values("pk")
    condition = Q(assignee=user)
    if user.role in (Role.MANAGER, Role.CASEWORKER):
        condition = Q()  # every follow-up of the cases they see (a manager: the organisation's)
    return FollowUp.objects.filter(condition, case__in=visible)


def can_act_on_follow_up(user: User, follow_up) -> bool:
    """Complete or snooze: its holder, the case's lead or a manager of the organisation."""
    if follow_up.assignee_id == user.pk:
        return True
    case = cases_visible_to(user).filter(pk=follow_up.case_id).first()
    return case is not None and viewer_kind(user, case) in (LEAD, MANAGER)


def follow_up_reassign_candidates(user: User, follow_up) -> QuerySet[User]:
    """The lead or a manager hands a follow-up to a team member or a manager of the organisation."""
    case = cases_visible_to(user).filter(pk=follow_up.case_id).first()
    if case is None or viewer_kind(user, case) not in (LEAD, MANAGER):
        return User.objects.none()
    team = CaseTeamMember.objects.filter(case_id=case.pk).values("user_id")
    return (
        User.objects.filter(is_active=True)
        .filter(Q(pk__in=team) | Q(membership__organisation_id=case.organisation_id, membership__role=Role.MANAGER))
        .exclude(pk=follow_up.assignee_id)
        .order_by("last_name", "first_name")
    )


# --- Transfers ----------------------------------------------------------------------------


def transfers_visible_to(user: User) -> QuerySet:
    """Managers see the transfers their organisation sent and received (the sender keeps its record);
    the receiver sees only the case code until it accepts."""
    from .models import CaseTransfer

    if not has_role(user, Role.MANAGER):
        return CaseTransfer.objects.none()
    organisation = user.membership.organisation_id
    return CaseTransfer.objects.filter(Q(from_organisation_id=organisation) | Q(to_organisation_id=organisation))


def can_decide_transfer(user: User, transfer) -> bool:
    return has_role(user, Role.MANAGER) and transfer.to_organisation_id == user.membership.organisation_id


def can_request_transfer(user: User, case: Case) -> bool:
    return not case.is_read_only and can_move_stage(user, case)


# --- Authorities: the shared view (issue 10) -----------------------------------------------


def _current_consents(organisation_id: int, today):
    from .casefile import Consent

    return Consent.objects.filter(recipient_id=organisation_id, withdrawn_on__isnull=True, given_on__lte=today).filter(
        Q(expires_on__isnull=True) | Q(expires_on__gte=today)
    )


def _current_mandates(organisation_id: int, today):
    from .boundary_models import LegalMandate

    return LegalMandate.objects.filter(
        authority_id=organisation_id, revoked_on__isnull=True, starts_on__lte=today
    ).filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today))


def is_authority(user: User) -> bool:
    membership = user.membership_or_none if user.is_authenticated else None
    return (
        has_role(user, Role.AUTHORITY_LIAISON)
        and membership is not None
        and membership.organisation.kind == "authority"
        and membership.organisation.is_active
    )


def shared_cases_for_organisation(organisation_id: int) -> QuerySet[Case]:
    """Cases an authority organisation may read now: a current consent names it, or a current legal
    mandate links the case to it. Evaluated in SQL on every request, so a withdrawal, an expiry or a
    revocation takes effect on the next one. Each case carries the basis ids and consented categories;
    `shared_categories(case)` turns them into the categories it opens."""
    from django.contrib.postgres.expressions import ArraySubquery
    from django.db.models import F, Func
    from django.utils import timezone

    today = timezone.localdate()
    consents = _current_consents(organisation_id, today).filter(case=OuterRef("pk"))
    mandates = _current_mandates(organisation_id, today).filter(case=OuterRef("pk"))
    return Case.objects.filter(Exists(consents) | Exists(mandates)).annotate(
        basis_consent_ids=ArraySubquery(consents.order_by("pk").values("pk")),
        basis_mandate_ids=ArraySubquery(mandates.order_by("pk").values("pk")),
        consented_categories=ArraySubquery(
            consents.annotate(category=Func(F("categories"), function="unnest")).values("category")
        ),
    )


def shared_cases_for(user: User) -> QuerySet[Case]:
    """The shared view of an authority liaison; nobody else has one (NGO staff use `cases_visible_to`)."""
    if not is_authority(user):
        return Case.objects.none()
    return shared_cases_for_organisation(user.membership.organisation_id)


def shared_categories(case: Case) -> frozenset[str]:
    """The categories a case of `shared_cases_for` opens: the consented ones (family contact is the NGO's
    own business) and, with a mandate, identity, legal status, program stage and compliance."""
    from .boundary_models import AUTHORITY_CATEGORIES, MANDATE_CATEGORIES

    granted = {c for c in case.consented_categories if c in AUTHORITY_CATEGORIES}
    if case.basis_mandate_ids:
        granted |= {str(c) for c in MANDATE_CATEGORIES}
    return frozenset(granted)


def shared_basis(case: Case) -> tuple[list[str], list[str]]:
    """(basis kinds, basis ids) of a case of `shared_cases_for`, for the disclosure log."""
    kinds, ids = [], []
    if case.basis_consent_ids:
        kinds.append("consent")
        ids += [f"consent:{pk}" for pk in case.basis_consent_ids]
    if case.basis_mandate_ids:
        kinds.append("mandate")
        ids += [f"mandate:{pk}" for pk in case.basis_mandate_ids]
    return kinds, ids


def get_shared_case(user: User, case_id: int) -> Case:
    return get_object_or_404(shared_cases_for(user).select_related("participant"), pk=case_id)


def can_record_legal_events_as_authority(user: User, case: Case) -> bool:
    return not case.is_read_only and "legal_status" in shared_categories(case)


def information_requests_visible_to(user: User) -> QuerySet:
    """An authority's own organisation's requests; the managers of the case's organisation."""
    from .boundary_models import InformationRequest

    if is_authority(user):
        return InformationRequest.objects.filter(authority_id=user.membership.organisation_id)
    if has_role(user, Role.MANAGER):
        return InformationRequest.objects.filter(case__organisation_id=user.membership.organisation_id)
    return InformationRequest.objects.none()


def authority_referrals_visible_to(user: User) -> QuerySet:
    """An authority follows the status of its own organisation's referrals (and nothing of the case)."""
    from .boundary_models import AuthorityReferral

    if not is_authority(user):
        return AuthorityReferral.objects.none()
    return AuthorityReferral.objects.filter(authority_id=user.membership.organisation_id)


def exceptional_disclosures_visible_to(user: User) -> QuerySet:
    """Managers and the auditor of the disclosing NGO see its disclosures (the decision, not the snapshot
    unless they read the case); the authority sees those delivered to it."""
    from .boundary_models import ExceptionalDisclosure

    if is_authority(user):
        return ExceptionalDisclosure.objects.filter(
            authority_id=user.membership.organisation_id, status=ExceptionalDisclosure.Status.DELIVERED
        )
    if has_role(user, Role.MANAGER, Role.AUDITOR):
        return ExceptionalDisclosure.objects.filter(organisation_id=user.membership.organisation_id)
    return ExceptionalDisclosure.objects.none()


def is_manager_of(user: User, organisation_id: int) -> bool:
    """A manager of this organisation: answers information requests, prepares and delivers exceptional
    disclosures of its cases."""
    return has_role(user, Role.MANAGER) and user.membership.organisation_id == organisation_id


def can_approve_disclosure(user: User, disclosure) -> bool:
    """The organisation's auditor or another manager: never the one who prepared it."""
    return (
        has_role(user, Role.MANAGER, Role.AUDITOR)
        and user.membership.organisation_id == disclosure.organisation_id
        and disclosure.prepared_by_id != user.pk
    )


# --- Data protection (issue 10: the auditor's views, subject export, retention) ---------------


def can_see_dpo_pages(user: User) -> bool:
    """Access and disclosure logs, grants and mandates, anomalies: the organisation's auditor (DPO) and
    its managers (handbook §4: both read the logs, consent and mandate metadata). No case content."""
    return has_role(user, Role.MANAGER, Role.AUDITOR)


def disclosure_logs_visible_to(user: User) -> QuerySet:
    """What authorities read of the organisation's cases (ids and categories only)."""
    from .boundary_models import DisclosureLog

    if not can_see_dpo_pages(user):
        return DisclosureLog.objects.none()
    return DisclosureLog.objects.filter(case__organisation_id=user.membership.organisation_id)


def authority_consents_visible_to(user: User) -> QuerySet:
    """Consents of the organisation's cases that name an authority: the grants (metadata only)."""
    from accounts.models import Organisation

    from .casefile import Consent

    if not can_see_dpo_pages(user):
        return Consent.objects.none()
    return Consent.objects.filter(
        case__organisation_id=user.membership.organisation_id, recipient__kind=Organisation.Kind.AUTHORITY
    )


def mandates_visible_to(user: User) -> QuerySet:
    from .boundary_models import LegalMandate

    if not can_see_dpo_pages(user):
        return LegalMandate.objects.none()
    return LegalMandate.objects.filter(case__organisation_id=user.membership.organisation_id)


def audited_cases(user: User) -> QuerySet[Case]:
    """The cases whose change history (who and when, no values) the auditor reads: the organisation's."""
    if not has_role(user, Role.AUDITOR):
        return Case.objects.none()
    return Case.objects.filter(organisation_id=user.membership.organisation_id)


def can_request_subject_export(user: User, case: Case) -> bool:
    """The data-subject export is produced by the lead caseworker (with the manager's approval)."""
    return viewer_kind(user, case) == LEAD and user.role == Role.CASEWORKER


def subject_exports_visible_to(user: User) -> QuerySet:
    """A manager: the requests on the organisation's cases (to approve); the lead: those of the cases
    they lead now. Nobody else."""
    from .dpo_models import SubjectExportRequest

    if has_role(user, Role.MANAGER):
        return SubjectExportRequest.objects.filter(case__organisation_id=user.membership.organisation_id)
    if has_role(user, Role.CASEWORKER):
        led = _my_team_rows(user, "case").filter(is_lead=True)
        return SubjectExportRequest.objects.filter(Exists(led))
    return SubjectExportRequest.objects.none()


def can_decide_subject_export(user: User, export) -> bool:
    return has_role(user, Role.MANAGER) and export.case.organisation_id == user.membership.organisation_id


def retention_reviews_visible_to(user: User) -> QuerySet:
    """Closed cases past the retention period: for the organisation's managers to confirm."""
    from .dpo_models import RetentionReview

    if not has_role(user, Role.MANAGER):
        return RetentionReview.objects.none()
    return RetentionReview.objects.filter(case__organisation_id=user.membership.organisation_id)


def webhook_subscriptions_for(principal) -> QuerySet:
    """A partner client's own webhook subscriptions (issue 14): its application's, for its organisation,
    not ended. Staff users have none (the system administrator oversees them in the admin)."""
    from .api.clients import is_client
    from .webhook_models import WebhookSubscription

    if not is_client(principal):
        return WebhookSubscription.objects.none()
    return WebhookSubscription.objects.filter(
        application_id=principal.api_client.application_id,
        organisation_id=principal.organisation_id,
        is_active=True,
    )
