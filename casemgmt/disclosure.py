"""The disclosure log: one append-only row per read of a case by an authority user or partner system.

`record()` is the only writer. Rows hold ids and categories, never personal data.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils import timezone

from .boundary_models import DisclosureLog


def record(
    *,
    organisation_id: int,
    case_id: int,
    categories: Iterable[str],
    basis: Iterable[str],
    basis_ids: Iterable[str] = (),
    channel: str,
    view: str,
    user_id: int | None = None,
    client_id: str = "",
) -> DisclosureLog:
    """Append one row for one case shown to an authority (its categories and the basis that opened them)."""
    return DisclosureLog.objects.create(
        at=timezone.now(),
        user_id=user_id,
        client_id=client_id,
        organisation_id=organisation_id,
        case_id=case_id,
        categories=sorted(set(categories)),
        basis=sorted(set(basis)),
        basis_ids=sorted(set(basis_ids)),
        channel=channel,
        view=view,
    )


def record_many(rows: list[dict]) -> list[DisclosureLog]:
    """Append one row per case of a list response in one insert (the keyword arguments of `record`)."""
    now = timezone.now()
    return DisclosureLog.objects.bulk_create(
        DisclosureLog(
            at=now,
            user_id=row.get("user_id"),
            client_id=row.get("client_id", ""),
            organisation_id=row["organisation_id"],
            case_id=row["case_id"],
            categories=sorted(set(row["categories"])),
            basis=sorted(set(row["basis"])),
            basis_ids=sorted(set(row.get("basis_ids", ()))),
            channel=row["channel"],
            view=row["view"],
        )
        for row in rows
    )
