"""The manager's dashboard (issue 12) and its baseline: the same aggregates by hand-written SQL.

The baseline covers the figures that have data at scale (caseload by stage, risk band, city and lead;
referrals per month by source and by screening outcome; days to first contact and to plan; overdue
follow-ups by kind and holder; risk-band movement; exits by reason), each the same rows, groups and
totals the page shows, written as one would by hand (joins, LATERAL for a case's first or latest
assessment, GROUPING SETS for a totals row) and rendered through one plain template. The figures with no
rows at scale (mentoring, families, placements, outcomes, re-offending and relapse events, disclosures)
are not in it: the page still runs their queries (a few ms in all, on empty index ranges).
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.utils import timezone

from reports.selectors import default_period

OPEN = ("pending", "snoozed", "escalated")
CASELOAD = "c.organisation_id = %(org)s AND c.stage NOT IN ('closed', 'declined')"
REFERRED = "c.organisation_id = %(org)s AND c.referral_date BETWEEN %(start)s AND %(end)s"

QUERIES = {
    "caseload_stage": f"""
        SELECT c.stage, count(*) FROM casemgmt_case c WHERE {CASELOAD}
        GROUP BY GROUPING SETS ((c.stage), ()) ORDER BY 1""",
    "caseload_risk": f"""
        SELECT coalesce(b.risk_band, 'none'), count(*) FROM casemgmt_case c
        LEFT JOIN LATERAL (SELECT risk_band FROM casemgmt_assessment a WHERE a.case_id = c.id
                           ORDER BY assessed_on DESC, id DESC LIMIT 1) b ON true
        WHERE {CASELOAD} GROUP BY 1 ORDER BY 1""",
    "caseload_city": f"""
        SELECT ci.id, ci.name, count(*) FROM casemgmt_case c
        JOIN casemgmt_participant p ON p.id = c.participant_id JOIN accounts_city ci ON ci.id = p.city_id
        WHERE {CASELOAD} GROUP BY ci.id, ci.name ORDER BY ci.id::text""",
    "caseload_worker": f"""
        SELECT t.user_id, u.first_name || ' ' || u.last_name, count(*) FROM casemgmt_case c
        LEFT JOIN casemgmt_caseteammember t ON t.case_id = c.id AND t.is_lead
        LEFT JOIN accounts_user u ON u.id = t.user_id
        WHERE {CASELOAD} GROUP BY t.user_id, u.first_name, u.last_name ORDER BY coalesce(t.user_id::text, 'none')""",
    "referrals_month": f"""
        SELECT to_char(c.referral_date, 'YYYY-MM'), c.referral_source, count(*) FROM casemgmt_case c
        WHERE {REFERRED} GROUP BY 1, 2 ORDER BY 1, 2""",
    "referrals_outcome": f"""
        SELECT c.referral_source, coalesce(nullif(c.eligibility, ''), 'pending'), count(*) FROM casemgmt_case c
        WHERE {REFERRED} GROUP BY 1, 2 ORDER BY 1, 2""",
    "timeliness": f"""
        SELECT c.referral_source, count(*), count(c.first_contact_date),
               percentile_cont(0.5) WITHIN GROUP (ORDER BY c.first_contact_date - c.referral_date),
               count(g.first_goal - a.first_on),
               percentile_cont(0.5) WITHIN GROUP (ORDER BY g.first_goal - a.first_on)
        FROM casemgmt_case c
        LEFT JOIN (SELECT case_id, min(assessed_on) AS first_on FROM casemgmt_assessment GROUP BY case_id) a
               ON a.case_id = c.id
        LEFT JOIN (SELECT case_id, min((created_at AT TIME ZONE %(tz)s)::date) AS first_goal
                   FROM casemgmt_goal GROUP BY case_id) g ON g.case_id = c.id
        WHERE {REFERRED} GROUP BY GROUPING SETS ((c.referral_source), ()) ORDER BY 1""",
    "overdue_followups": """
        SELECT f.kind, f.assignee_id, u.first_name || ' ' || u.last_name, count(*) FROM casemgmt_followup f
        JOIN casemgmt_case c ON c.id = f.case_id JOIN accounts_user u ON u.id = f.assignee_id
        WHERE c.organisation_id = %(org)s AND f.status = ANY(%(open)s) AND f.due_on < %(today)s
          AND (f.snoozed_until IS NULL OR f.snoozed_until < %(today)s)
        GROUP BY GROUPING SETS ((f.kind, f.assignee_id, u.first_name, u.last_name), ()) ORDER BY 1, 2::text""",
    "risk_movement": """
        SELECT first.risk_band, latest.risk_band, count(*) FROM casemgmt_case c
        CROSS JOIN LATERAL (SELECT id, risk_band, assessed_on FROM casemgmt_assessment a WHERE a.case_id = c.id
                            ORDER BY assessed_on DESC, id DESC LIMIT 1) latest
        CROSS JOIN LATERAL (SELECT id, risk_band FROM casemgmt_assessment a WHERE a.case_id = c.id
                            ORDER BY assessed_on, id LIMIT 1) first
        WHERE c.organisation_id = %(org)s AND latest.assessed_on BETWEEN %(start)s AND %(end)s
          AND first.id <> latest.id
        GROUP BY 1, 2 ORDER BY 1, 2""",
    "exits_reason": """
        SELECT c.exit_reason, count(*) FROM casemgmt_case c
        WHERE c.organisation_id = %(org)s AND c.exited_on BETWEEN %(start)s AND %(end)s AND c.exit_reason <> ''
        GROUP BY GROUPING SETS ((c.exit_reason), ()) ORDER BY 1""",
}


def params(org: int, today: datetime.date | None = None) -> dict:
    today = today or timezone.localdate()
    start, end = default_period(today)
    return {"org": org, "start": start, "end": end, "today": today, "open": list(OPEN), "tz": settings.TIME_ZONE}


def floor(conn, org: int, render):
    """One callable: every query above, their rows rendered through `render` (one plain template)."""

    def run():
        query = params(org)
        rows = []
        for sql in QUERIES.values():
            rows += conn.execute(sql, query).fetchall()
        return render({"rows": rows})

    return run


def per_figure(conn, org: int, repeat: int = 5) -> list[tuple[str, float, float, int]]:
    """Each figure alone: the app's queries (`selectors.figure_result`, no page) and the SQL above,
    median ms of `repeat` runs each, and the rows the SQL returns."""
    import statistics
    import time

    from reports import selectors
    from reports.figures import FIGURES
    from reports.forms import default_filters

    filters, query = default_filters(org), params(org)

    def timed(fn):
        samples = []
        for _ in range(repeat + 1):  # the first is a warm-up
            started = time.perf_counter()
            result = fn()
            samples.append((time.perf_counter() - started) * 1000)
        return statistics.median(samples[1:]), result

    out = []
    for slug, sql in QUERIES.items():
        app_ms, _result = timed(lambda slug=slug: selectors.figure_result(FIGURES[slug], filters))
        sql_ms, rows = timed(lambda sql=sql: conn.execute(sql, query).fetchall())
        out.append((slug, app_ms, sql_ms, len(rows)))
    return out
