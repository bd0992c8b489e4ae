"""Demo partner API clients (issue 13): one each for the authority, an employer and the funder.

Demo mode only (`seed_demo` refuses to run with DEBUG off). Their client ids and secrets are fixed so the
printed values keep working after every `make run`; the secret is re-set (and hashed) on each seed."""

from __future__ import annotations

from oauth2_provider.models import Application

from accounts import services
from accounts.models import ApiClient, Organisation

# (organisation, client name, client id, client secret, scopes)
DEMO_CLIENTS = [
    (
        "Regional Probation Office",
        "Probation case system (demo)",
        "demo-probation-office",
        "demo-secret-probation-office-2026",
        ["cases:read-shared", "legal-events:write", "referrals:write", "webhooks:manage"],
    ),
    (
        "Strait Logistics",
        "Strait Logistics HR (demo)",
        "demo-strait-logistics",
        "demo-secret-strait-logistics-2026",
        ["placements:read", "placements:write", "opportunities:write", "webhooks:manage"],
    ),
    (
        "Reintegration Fund",
        "Reintegration Fund statistics (demo)",
        "demo-reintegration-fund",
        "demo-secret-reintegration-fund-2026",
        ["reports:read"],
    ),
]
DEMO_KINDS = {
    "Regional Probation Office": Organisation.Kind.AUTHORITY,
    "Strait Logistics": Organisation.Kind.EMPLOYER,
    "Reintegration Fund": Organisation.Kind.FUNDER,
}


def seed_demo_clients() -> list[tuple[str, str, str, str]]:
    """Register (or refresh) the three demo clients; returns (organisation, client id, secret, scopes)."""
    printed = []
    for org_name, name, client_id, secret, scopes in DEMO_CLIENTS:
        organisation, _ = Organisation.objects.get_or_create(name=org_name, defaults={"kind": DEMO_KINDS[org_name]})
        existing = ApiClient.objects.filter(application__client_id=client_id).select_related("application").first()
        if existing is None:
            services.api_client_register(
                name=name, organisation=organisation, scopes=scopes, client_id=client_id, client_secret=secret
            )
        else:
            application: Application = existing.application
            application.client_secret = secret  # hashed again on save
            application.save(update_fields=["client_secret"])
            existing.allowed_scopes = " ".join(scopes)
            existing.is_active = True
            existing.save(update_fields=["allowed_scopes", "is_active"])
        printed.append((org_name, client_id, secret, " ".join(scopes)))
    return printed
