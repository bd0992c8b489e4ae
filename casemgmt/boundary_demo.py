"""Demo rows of the authority boundary (issue 10), run after the cases by seed_demo.

For the Northern centre: the `authority` user's probation office holds consents of different
categories (from the case file's demo), one court-order mandate, one expired and one withdrawn
consent, a pending information request and a delivered exceptional disclosure."""

from __future__ import annotations

import datetime

from django.utils import timezone

from accounts.models import User

from . import boundary_services, demo
from .boundary_models import ExceptionalDisclosure, InformationRequest, LegalMandate
from .casefile import Consent
from .casefile_services import record_create
from .models import Case, Stage


@demo.register
def seed_boundary() -> None:
    if LegalMandate.objects.exists() or ExceptionalDisclosure.objects.exists():
        return  # idempotent: seeded already
    authority = User.objects.filter(username="authority").select_related("membership__organisation").first()
    manager = User.objects.filter(username="manager").first()
    auditor = User.objects.filter(username="auditor").first()
    if authority is None or manager is None or auditor is None:
        return
    probation = authority.membership.organisation
    northern = manager.membership.organisation
    today = timezone.localdate()
    cases = list(
        Case.objects.filter(organisation=northern, stage__in=[Stage.ACTIVE, Stage.REVIEW])
        .select_related("participant")
        .order_by("participant__case_code")
    )
    if len(cases) < 5:
        return
    mandated, expired, withdrawn, asked, disclosed = cases[:5]
    # A court order linking one case to the probation office: identity, legal status, stage, compliance.
    record_create(
        key="mandate",
        case=mandated,
        by=manager,
        data={
            "kind": LegalMandate.Kind.COURT_ORDER,
            "reference": "TC-2026-0417",
            "issuing_body": "Regional Court (synthetic)",
            "authority": probation,
            "starts_on": today - datetime.timedelta(days=120),
            "ends_on": today + datetime.timedelta(days=245),
        },
    )
    # One consent expired, one withdrawn: those cases drop out of the shared view.
    Consent.objects.filter(case=expired, recipient=probation).update(
        given_on=today - datetime.timedelta(days=400), expires_on=today - datetime.timedelta(days=10)
    )
    Consent.objects.filter(case=withdrawn, recipient=probation).update(withdrawn_on=today - datetime.timedelta(days=5))
    # A pending information request on a case the office shares.
    if InformationRequest.objects.filter(case=asked).exists() is False:
        boundary_services.information_request_submit(
            case=asked,
            by=authority,
            categories=["risk_band", "placement"],
            purpose="Preparing the six-monthly supervision report (synthetic).",
        )
    # A delivered exceptional disclosure: prepared by the manager, approved by the auditor.
    prepared = boundary_services.disclosure_prepare(
        case=disclosed,
        by=manager,
        authority=probation,
        legal_basis=ExceptionalDisclosure.LegalBasis.DANGER,
        justification="Credible threat against a named third party reported in a session (synthetic example).",
        categories=["identity", "risk_band"],
    )
    approved = boundary_services.disclosure_approve(disclosure=prepared, by=auditor)
    boundary_services.disclosure_deliver(disclosure=approved, by=manager)
