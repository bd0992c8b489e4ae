"""The core's webhook sources: legal events, consents and authority referrals (issue 14).

Each source turns a change into the events its subscribers may see, with only what they may see:
- a legal event goes to the authorities that share the case with `legal status` now (the shared
  view's projection of the event; disclosure-logged on the basis that opens it);
- a withdrawn consent goes to the organisation it named (case code, consent id, categories, date);
  an expired one is found by the hourly sweep (`webhooks.consent_expiries`);
- an authority referral's status goes to the referring authority (its own reference and the status
  only, nothing of the case).
"""

from __future__ import annotations

from . import access
from .boundary_models import AuthorityReferral
from .boundary_services import referral_status, referral_status_code
from .models import ReferralSource
from .shared_view import LEGAL_STATUS
from .webhook_models import WebhookEvent
from .webhooks import Outgoing, consent_outgoing, has_subscribers, register_source


def legal_event(event) -> list[Outgoing]:
    out = []
    for organisation_id in _authorities_with_subscriptions():
        case = access.shared_cases_for_organisation(organisation_id).filter(pk=event.case_id).first()
        if case is None or LEGAL_STATUS not in access.shared_categories(case):
            continue
        kinds, ids = access.shared_basis(case)
        out.append(
            Outgoing(
                event=WebhookEvent.LEGAL_EVENT_RECORDED,
                organisation_id=organisation_id,
                dedupe_key=f"legal_event:{event.pk}",
                payload={
                    "case_id": case.pk,
                    "case_code": case.participant.case_code,
                    "legal_event": {
                        "id": event.pk,
                        "kind": event.kind,
                        "date": event.date.isoformat(),
                        "description": event.description,
                    },
                },
                disclosure={
                    "case_id": case.pk,
                    "categories": ["identity", LEGAL_STATUS],
                    "basis": kinds,
                    "basis_ids": ids,
                },
            )
        )
    return out


def _authorities_with_subscriptions() -> list[int]:
    from .webhook_models import WebhookSubscription

    return list(
        WebhookSubscription.objects.filter(is_active=True, events__contains=[WebhookEvent.LEGAL_EVENT_RECORDED])
        .values_list("organisation_id", flat=True)
        .distinct()
        .order_by("organisation_id")
    )


def consent(consent) -> list[Outgoing]:
    if consent.withdrawn_on is None or consent.recipient_id is None:
        return []
    if not has_subscribers(WebhookEvent.CONSENT_WITHDRAWN, [consent.recipient_id]):
        return []
    return [consent_outgoing(consent, WebhookEvent.CONSENT_WITHDRAWN)]


def referral(case) -> list[Outgoing]:
    if case.referral_source != ReferralSource.AUTHORITY:
        return []
    item = AuthorityReferral.objects.filter(case_id=case.pk).first()
    if item is None:
        return []
    code = referral_status_code(item)
    return [
        Outgoing(
            event=WebhookEvent.REFERRAL_STATUS_CHANGED,
            organisation_id=item.authority_id,
            dedupe_key=f"referral:{item.pk}:{code}",
            payload={
                "referral_id": item.pk,
                "reference": item.reference,
                "status": code,
                "status_label": str(referral_status(item)),
            },
        )
    ]


register_source(["legal_event.saved"], legal_event)
register_source(["consent.saved"], consent)
register_source(["case.screened", "case.stage"], referral)
