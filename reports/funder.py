"""The funder report: aggregates of one organisation for one complete calendar quarter, counts under 5
suppressed (with complementary suppression, see suppression.py). No names, no case codes, no ids.

One period length only (the calendar quarter), and only complete quarters: a published quarter never
changes afterwards, and no figure is the difference of two published ones (a year minus three
quarters, or a quarter published twice as it filled up).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from django.db.models import CharField, Count, F, Value
from django.utils.translation import gettext_lazy as _

from casemgmt.casefile import LegalEvent, Outcome, RelapseEvent
from casemgmt.models import ExitReason, ReferralSource
from families.models import SessionStatus as FamilySessionStatus
from programs.models import SessionStatus

from . import figures
from .figures import Filters, month_of_date, month_of_time
from .suppression import PRIMARY, SECONDARY, Suppressed, suppress

ALL = Value("all", output_field=CharField())
QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")


@dataclass(frozen=True)
class Quarter:
    year: int
    number: int

    @property
    def start(self) -> datetime.date:
        return datetime.date(self.year, 3 * self.number - 2, 1)

    @property
    def end(self) -> datetime.date:
        if self.number == 4:
            return datetime.date(self.year, 12, 31)
        return datetime.date(self.year, 3 * self.number + 1, 1) - datetime.timedelta(days=1)

    @property
    def months(self) -> list[str]:
        return [f"{self.year}-{month:02d}" for month in range(3 * self.number - 2, 3 * self.number + 1)]

    def __str__(self) -> str:
        return f"{self.year}-Q{self.number}"


def last_complete_quarter(today: datetime.date) -> Quarter:
    number = (today.month - 1) // 3  # the current quarter's number minus one
    return Quarter(today.year - 1, 4) if number == 0 else Quarter(today.year, number)


class BadPeriod(ValueError):
    pass


def parse_quarter(text: str | None, today: datetime.date) -> Quarter:
    """`2026-Q3`; empty means the last complete quarter. Only complete quarters are published."""
    if not text:
        return last_complete_quarter(today)
    match = QUARTER.match(text.strip())
    if not match or not 2000 <= int(match[1]) <= 2999:
        raise BadPeriod(_("Give a calendar quarter such as 2026-Q3."))
    quarter = Quarter(int(match[1]), int(match[2]))
    if quarter.end >= today:
        raise BadPeriod(_("Only complete quarters are published; %(q)s is not over yet.") % {"q": quarter})
    return quarter


@dataclass
class FunderTable:
    slug: str
    title: str
    unit: str
    row_title: str
    row_labels: list[str]
    column_labels: list[str]  # without the total column
    suppressed: Suppressed

    @property
    def one_column(self) -> bool:
        return len(self.column_labels) == 1

    def header(self) -> list[str]:
        return [self.row_title, *self.column_labels, *([] if self.one_column else [str(_("Total"))])]

    def body(self) -> list[list]:
        """Rows with their labels, the total row last; suppressed cells as "<5" or "\u2013"."""
        labels = [*self.row_labels, str(_("Total"))]
        return [[label, *shown] for label, shown in zip(labels, self.suppressed.shown, strict=True)]

    def as_json(self) -> dict:
        return {
            "slug": self.slug,
            "title": self.title,
            "unit": self.unit,
            "columns": self.header(),
            "rows": self.body(),
        }


def _grid(counts: dict[tuple[str, str], int], rows: list[str], columns: list[str]) -> list[list[int]]:
    return [[counts.get((row, column), 0) for column in columns] for row in rows]


def _pairs(queryset, row_expr, column_expr=None, *, count="pk") -> dict[tuple[str, str], int]:
    """One GROUP BY: {(row key, column key): count}."""
    everything = Value("all", output_field=CharField())
    grouped = queryset.annotate(r=row_expr, c=column_expr if column_expr is not None else everything)
    grouped = grouped.values("r", "c").annotate(n=Count(count)).order_by()
    return {(str(g["r"]), str(g["c"])): g["n"] for g in grouped}


def _table(slug, title, unit, row_title, rows, columns, counts) -> FunderTable:
    cells = _grid(counts, [key for key, _label in rows], [key for key, _label in columns])
    return FunderTable(
        slug,
        str(title),
        str(unit),
        str(row_title),
        [str(label) for _key, label in rows],
        [str(label) for _key, label in columns],
        suppress(cells),
    )


def funder_report(organisation_id: int, quarter: Quarter) -> list[FunderTable]:
    """The published tables; every row and column is fixed in advance, so an empty category still shows."""
    f = Filters(organisation_id=organisation_id, start=quarter.start, end=quarter.end, today=quarter.end)
    months = [(month, month) for month in quarter.months]
    one = [("all", _("Count"))]
    sessions = {
        ("mentoring", column): n
        for (_row, column), n in _pairs(
            figures._mentoring_sessions(f).filter(status=SessionStatus.ATTENDED), ALL, month_of_time("starts_at")
        ).items()
    }
    sessions.update(
        {
            ("family", column): n
            for (_row, column), n in _pairs(
                figures._family_sessions(f).filter(status=FamilySessionStatus.ATTENDED),
                ALL,
                month_of_time("starts_at"),
            ).items()
        }
    )
    placements = {
        ("placements", column): n
        for (_row, column), n in _pairs(figures._placements(f), ALL, month_of_date("started_on")).items()
    }
    exit_outcomes = figures._outcomes(f).filter(kind=Outcome.Kind.EXIT)
    events = {
        **{(f"relapse:{k}", c): n for (k, c), n in _pairs(figures._relapse_events(f), F("kind")).items()},
        **{(f"legal:{k}", c): n for (k, c), n in _pairs(figures._legal_events(f), F("kind")).items()},
    }
    employment_rows = [*Outcome.Employment.choices, ("", _("Not recorded"))]
    return [
        _table(
            "referrals",
            _("Referrals by source and month"),
            _("participants referred"),
            _("Referral source"),
            list(ReferralSource.choices),
            months,
            _pairs(figures._referrals(f), F("referral_source"), month_of_date("referral_date")),
        ),
        _table(
            "sessions",
            _("Sessions attended by month"),
            _("sessions attended"),
            _("Program"),
            [("mentoring", _("Mentoring")), ("family", _("Family counselling"))],
            months,
            sessions,
        ),
        _table(
            "placements",
            _("Job and training placements started by month"),
            _("placements"),
            _("Placements"),
            [("placements", _("Placements started"))],
            months,
            placements,
        ),
        _table(
            "exits",
            _("Exits by reason"),
            _("participants"),
            _("Exit reason"),
            list(ExitReason.choices),
            one,
            _pairs(figures._exits(f), F("exit_reason")),
        ),
        _table(
            "employment",
            _("Employment at exit"),
            _("participants"),
            _("Employment"),
            employment_rows,
            one,
            _pairs(exit_outcomes, F("employment")),
        ),
        _table(
            "events",
            _("Relapse and re-offending events"),
            _("events"),
            _("Event"),
            [(f"relapse:{k}", label) for k, label in RelapseEvent.Kind.choices]
            + [(f"legal:{k}", LegalEvent.Kind(k).label) for k in figures.REOFFENDING_KINDS],
            one,
            events,
        ),
    ]


def as_json(organisation_name: str, quarter: Quarter, tables: list[FunderTable]) -> dict:
    return {
        "period": str(quarter),
        "start": quarter.start.isoformat(),
        "end": quarter.end.isoformat(),
        "organisation": organisation_name,
        "suppression": {
            "threshold": 5,
            "under_threshold": PRIMARY,
            "complementary": SECONDARY,
            "note": str(
                _(
                    "Counts under 5 are shown as <5; a few more are hidden (–) so that no hidden count "  # noqa: RUF001 (the dash is what the page shows)
                    "follows from the totals."
                )
            ),
        },
        "tables": [table.as_json() for table in tables],
    }
