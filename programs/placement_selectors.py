"""Reads for placements: the shared partner registry and board, lists, and matching both ways.

Who reads the shared registry (partners and opportunities) is decided here, with `access.has_role`:
placement officers and managers; everything case-bound goes through `casemgmt.access`.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Case as Conditional
from django.db.models import (
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from accounts.models import Organisation, Role, User
from casemgmt import access
from casemgmt.models import Case

from .models import (
    HOLDS_PLACE,
    LIVE,
    PARTNER_KINDS,
    CheckIn,
    EducationLevel,
    EmployabilityProfile,
    Opportunity,
    Placement,
    PlacementStatus,
    Sector,
)
from .placement_services import STAGES_FOR_PLACEMENT

# --- The shared registry ------------------------------------------------------------------------


def can_see_partners(user: User) -> bool:
    """The partner directory and the opportunity board: placement officers and managers of NGOs."""
    return access.has_role(user, Role.PLACEMENT_OFFICER, Role.MANAGER)


def can_edit_partners(user: User) -> bool:
    """Partners, their profiles and their opportunities are kept by placement officers (any NGO)."""
    return access.has_role(user, Role.PLACEMENT_OFFICER)


def can_see_placement_list(user: User) -> bool:
    """The list of placements across one's cases: the roles that read placements (rows filtered by the rule)."""
    return access.has_role(user, Role.PLACEMENT_OFFICER, Role.MANAGER, Role.CASEWORKER)


def partners_visible_to(user: User) -> QuerySet[Organisation]:
    if not can_see_partners(user):
        return Organisation.objects.none()
    return (
        Organisation.objects.filter(kind__in=PARTNER_KINDS)
        .select_related("city", "partner_profile__city")
        .annotate(open_opportunities=Count("opportunities", filter=Q(opportunities__is_open=True)))
        .order_by("name")
    )


def partner_list(user: User, *, q: str = "", kind: str = "") -> QuerySet[Organisation]:
    rows = partners_visible_to(user)
    if q:
        rows = rows.filter(
            Q(name__icontains=q)
            | Q(partner_profile__offers__icontains=q)
            | Q(partner_profile__contact_name__icontains=q)
        )
    if kind in PARTNER_KINDS:
        rows = rows.filter(kind=kind)
    return rows


def with_places(rows: QuerySet[Opportunity]) -> QuerySet[Opportunity]:
    """`taken` (accepted or started placements) and `free` places, as one subquery per row."""
    taken = (
        Placement.objects.filter(opportunity=OuterRef("pk"), status__in=HOLDS_PLACE)
        .order_by()
        .values("opportunity")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return rows.annotate(taken=Coalesce(Subquery(taken, output_field=IntegerField()), 0)).annotate(
        free=F("places") - F("taken")
    )


def opportunities_visible_to(user: User) -> QuerySet[Opportunity]:
    if not can_see_partners(user):
        return Opportunity.objects.none()
    return with_places(Opportunity.objects.select_related("partner", "city"))


def opportunity_board(
    user: User, *, is_open: str = "yes", kind: str = "", city: str = "", sector: str = "", q: str = ""
) -> QuerySet[Opportunity]:
    rows = opportunities_visible_to(user)
    if is_open == "yes":
        rows = rows.filter(is_open=True)
    elif is_open == "no":
        rows = rows.filter(is_open=False)
    if kind:
        rows = rows.filter(kind=kind)
    if city:
        rows = rows.filter(city__code=city)
    if sector:
        rows = rows.filter(sector=sector)
    if q:
        rows = rows.filter(Q(title__icontains=q) | Q(partner__name__icontains=q))
    return rows.order_by("-is_open", F("start_date").asc(nulls_last=True), "pk")


# --- Placements ---------------------------------------------------------------------------------


def placement_list(user: User, *, status: str = "") -> QuerySet[Placement]:
    """The placements of the caller's cases, live ones first, with the next check-in due (one query)."""
    next_due = CheckIn.objects.filter(placement=OuterRef("pk"), recorded_on__isnull=True).order_by("due_on")
    rows = (
        access.records_visible_to(user, "placement")
        .select_related("case__participant", "opportunity__partner")
        .annotate(
            next_due=Subquery(next_due.values("due_on")[:1]),
            next_day=Subquery(next_due.values("day")[:1]),
        )
    )
    if status == "live":
        rows = rows.filter(status__in=LIVE)
    elif status in PlacementStatus.values:
        rows = rows.filter(status=status)
    return rows.order_by(
        Conditional(When(status=PlacementStatus.STARTED, then=0), When(status__in=LIVE, then=1), default=2),
        F("next_due").asc(nulls_last=True),
        "-proposed_on",
        "-pk",
    )


def next_check_in_shown(placement: Placement):
    """A check-in is chased while the placement runs; after it ended, the rows stay as recorded."""
    return placement.next_due if placement.status == PlacementStatus.STARTED else None


# --- Matching -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Match:
    obj: object
    score: int
    reasons: list[str]
    misses: list[str]


def _one_if(condition: Q):
    return Conditional(When(condition, then=Value(1)), default=Value(0), output_field=IntegerField())


# Weights: meeting the requirements counts most, then being in the same city, then a known sector.
W_EDUCATION, W_CITY, W_SECTOR = 4, 2, 1


def opportunities_for_case(user: User, case: Case, *, limit: int = 20) -> list[Match]:
    """Open opportunities with a free place, ranked for this case's participant, with the reasons."""
    profile = EmployabilityProfile.objects.filter(case=case).first()
    level = profile.education_level if profile else None
    sectors = list(profile.sectors) if profile else []
    education_met = Q(min_education__isnull=True) | (Q(min_education__lte=level) if level is not None else Q(pk__in=[]))
    rows = (
        opportunities_visible_to(user)
        .filter(is_open=True, free__gt=0)
        .exclude(pk__in=Placement.objects.filter(case=case, status__in=LIVE).values("opportunity_id"))
        .annotate(
            city_match=_one_if(Q(city_id=case.participant.city_id)),
            education_met=_one_if(education_met),
            sector_match=_one_if(Q(sector__in=sectors) if sectors else Q(pk__in=[])),
        )
        .annotate(score=W_EDUCATION * F("education_met") + W_CITY * F("city_match") + W_SECTOR * F("sector_match"))
        .order_by("-score", F("start_date").asc(nulls_last=True), "pk")[:limit]
    )
    matches = []
    for row in rows:
        reasons, misses = [], []
        (reasons if row.city_match else misses).append(
            _("in %(city)s") % {"city": row.city.name}
            if row.city_match
            else _("in another city (%(city)s)") % {"city": row.city.name}
        )
        if row.min_education is None:
            reasons.append(_("no minimum education"))
        elif row.education_met:
            reasons.append(_("education level met (%(level)s)") % {"level": row.get_min_education_display()})
        else:
            misses.append(_("needs %(level)s") % {"level": row.get_min_education_display()})
        if row.sector_match:
            reasons.append(_("known sector: %(sector)s") % {"sector": row.get_sector_display()})
        else:
            misses.append(_("new sector: %(sector)s") % {"sector": row.get_sector_display()})
        matches.append(Match(row, row.score, reasons, misses))
    return matches


def candidates_for_opportunity(user: User, opportunity: Opportunity, *, limit: int = 50) -> list[Match]:
    """Cases of the caller's own teams (as placement officer) that could take this opportunity, ranked."""
    if not access.has_role(user, Role.PLACEMENT_OFFICER):
        return []
    live_here = Placement.objects.filter(case=OuterRef("pk"), opportunity=opportunity, status__in=LIVE)
    education_met = (
        Q(employability__education_level__gte=opportunity.min_education)
        if opportunity.min_education is not None
        else Q(pk__isnull=False)
    )
    rows = (
        access.cases_visible_to(user)
        .filter(stage__in=STAGES_FOR_PLACEMENT)
        .exclude(Exists(live_here))
        .select_related("participant__city", "employability")
        .annotate(
            has_profile=_one_if(Q(employability__isnull=False)),
            city_match=_one_if(Q(participant__city_id=opportunity.city_id)),
            education_met=_one_if(education_met),
            sector_match=_one_if(Q(employability__sectors__contains=[opportunity.sector])),
        )
        .annotate(score=W_EDUCATION * F("education_met") + W_CITY * F("city_match") + W_SECTOR * F("sector_match"))
        .order_by("-score", "participant__case_code")[:limit]
    )
    sector = Sector(opportunity.sector).label
    matches = []
    for case in rows:
        reasons, misses = [], []
        city = case.participant.city.name
        (reasons if case.city_match else misses).append(_("lives in %(city)s") % {"city": city})
        if not case.has_profile:
            misses.append(_("no employability profile yet"))
        elif opportunity.min_education is None:
            reasons.append(_("no minimum education"))
        elif case.education_met:
            reasons.append(
                _("education: %(level)s") % {"level": EducationLevel(case.employability.education_level).label}
            )
        else:
            misses.append(_("education below %(level)s") % {"level": EducationLevel(opportunity.min_education).label})
        if case.sector_match:
            reasons.append(_("knows the sector (%(sector)s)") % {"sector": sector})
        matches.append(Match(case, case.score, reasons, misses))
    return matches
