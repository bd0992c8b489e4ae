"""Who may import what (built on `casemgmt.access` and the placement rules, like `mentoring_access`).

- partners and opportunities: placement officers (any NGO), who keep the shared partner registry
  (`placement_selectors.can_edit_partners`); managers only read it;
- participants (each with a case in the NGO's intake queue): the NGO's managers, who own the intake
  queue and see every case of the organisation, so matching an existing participant by national ID
  tells them nothing they may not see. Caseworkers open single cases (and lead them), but a bulk load
  of cases nobody leads is intake work, and matching by national ID across the organisation would
  tell a caseworker about cases off their team;
- a run (its errors, counts, file name) is seen by the user who uploaded it, while they may still
  import that kind; everybody else, other organisations, authorities and auditors: 404.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import Role, User
from casemgmt import access
from programs.placement_selectors import can_edit_partners

from .models import ImportKind, ImportRun


def kinds_for(user: User) -> list[str]:
    """The kinds of rows this user may import, in menu order."""
    kinds = []
    if can_edit_partners(user):
        kinds += [ImportKind.PARTNERS, ImportKind.OPPORTUNITIES]
    if access.has_role(user, Role.MANAGER):
        kinds.append(ImportKind.PARTICIPANTS)
    return kinds


def can_import(user: User, kind: str) -> bool:
    return kind in kinds_for(user)


def runs_visible_to(user: User) -> QuerySet[ImportRun]:
    """The user's own runs of the kinds they may still import."""
    kinds = kinds_for(user)
    if not kinds:
        return ImportRun.objects.none()
    return ImportRun.objects.filter(created_by=user, kind__in=kinds).defer("content")


def get_run_for_user(user: User, pk: int) -> ImportRun:
    return get_object_or_404(runs_visible_to(user), pk=pk)
