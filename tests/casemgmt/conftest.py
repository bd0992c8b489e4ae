import datetime

import pytest
from django.utils import timezone

from accounts.models import Organisation
from casemgmt.casefile import AssessmentTemplate
from casemgmt.casefile_services import assessment_record, record_create
from casemgmt.default_template import ensure_default_template
from casemgmt.models import Stage
from tests.factories import case_move_stage

TODAY = timezone.localdate


def answers_for(template, rating=1, protective=None):
    items = [item for domain in template.domains.prefetch_related("items") for item in domain.items.all()]
    return [
        {
            "item": item.pk,
            "rating": protective if protective is not None and item.kind == "protective" else rating,
            "evidence": "interview",
            "information_quality": "high",
        }
        for item in items
    ]


@pytest.fixture
def template(db):
    ensure_default_template()  # transactional tests flush the rows the data migration made
    return AssessmentTemplate.objects.get()


@pytest.fixture
def active_case(demo, case):
    for stage in (Stage.SCREENING, Stage.ASSESSMENT, Stage.ACTIVE):
        case_move_stage(case=case, by=demo["caseworker"], to_stage=stage, reason="walk")
    return case


@pytest.fixture
def records(demo, active_case, template):
    """One row of every kind on the active case, written by the lead."""
    lead, case = demo["caseworker"], active_case
    day = TODAY() - datetime.timedelta(days=3)
    probation = Organisation.objects.get(name="Regional Probation Office")
    rows = {
        "assessment": assessment_record(
            case=case, by=lead, template=template, assessed_on=day, answers=answers_for(template)
        ),
        "goal": record_create(
            key="goal", case=case, by=lead, data={"domain": "employment", "title": "Find work", "owner": lead}
        ),
        "note": record_create(
            key="note",
            case=case,
            by=lead,
            data={"kind": "visit", "date": day, "visibility": "team", "text": "TEAM-NOTE-TEXT"},
        ),
        "legal_event": record_create(
            key="legal_event",
            case=case,
            by=lead,
            data={"kind": "hearing", "date": day, "description": "Hearing at the court"},
        ),
        "relapse_event": record_create(
            key="relapse_event",
            case=case,
            by=lead,
            data={"kind": "threat", "date": day, "description": "Threat reported"},
        ),
        "safety_flag": record_create(
            key="safety_flag", case=case, by=lead, data={"kind": "office_only", "note": "", "active": True}
        ),
        "conflict_history": record_create(
            key="conflict_history",
            case=case,
            by=lead,
            data={"country": "Country A", "from_date": datetime.date(2015, 1, 1), "to_date": datetime.date(2016, 1, 1)},
        ),
        "consent": record_create(
            key="consent",
            case=case,
            by=lead,
            data={
                "purpose": "Probation coordination",
                "recipient": probation,
                "categories": ["identity"],
                "given_on": day,
            },
        ),
        "service_referral": record_create(
            key="service_referral",
            case=case,
            by=lead,
            data={"kind": "housing", "provider": "Housing office", "referred_on": day},
        ),
    }
    return rows
