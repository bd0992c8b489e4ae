"""Synthetic demo data: fictional organisations and users. Idempotent; never in production."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import City, Membership, Organisation, Role, User
from casemgmt import boundary_demo, client_demo, demo  # noqa: F401  boundary_demo registers its seeder
from casemgmt.demo import seed_cases

CITIES = [
    ("TNG", "Tangier", "طنجة"),
    ("TET", "Tetouan", "تطوان"),
    ("FNQ", "Fnideq", "الفنيدق"),
    ("CAS", "Casablanca", "الدار البيضاء"),
    ("FES", "Fes", "فاس"),
    ("SLE", "Salé", "سلا"),
]

NORTHERN = "Northern Reintegration Centre"
ATLANTIC = "Atlantic Family Support Association"
PROBATION = "Regional Probation Office"
SCHOLARS = "Council of Scholars North"

ORGANISATIONS = [
    (NORTHERN, Organisation.Kind.NGO, "TNG"),
    (ATLANTIC, Organisation.Kind.NGO, "CAS"),
    (PROBATION, Organisation.Kind.AUTHORITY, "TET"),
    (SCHOLARS, Organisation.Kind.RELIGIOUS, "TET"),
    ("Tetouan Vocational Institute", Organisation.Kind.TRAINING_PROVIDER, "TET"),
    ("Strait Logistics", Organisation.Kind.EMPLOYER, "TNG"),
    ("Reintegration Fund", Organisation.Kind.FUNDER, "CAS"),
]

# username, given name, family name, organisation, role: all names invented.
USERS = [
    ("caseworker", "Salma", "Idrissi-Nour", NORTHERN, Role.CASEWORKER),
    ("colleague", "Yassine", "Bennani-Sahel", NORTHERN, Role.CASEWORKER),
    ("counsellor", "Nadia", "Fassi-Ouard", NORTHERN, Role.COUNSELLOR),
    ("placement", "Karim", "Tazi-Mellal", NORTHERN, Role.PLACEMENT_OFFICER),
    ("manager", "Leila", "Amrani-Zine", NORTHERN, Role.MANAGER),
    ("auditor", "Omar", "Chraibi-Lahlou", NORTHERN, Role.AUDITOR),
    ("admin", "Hind", "Berrada-Kettani", NORTHERN, Role.ADMIN),
    ("caseworker2", "Rachid", "Alaoui-Mrani", ATLANTIC, Role.CASEWORKER),
    ("mentor", "Abdelhak", "Soussi-Naciri", SCHOLARS, Role.MENTOR),
    ("supervisor", "Mustapha", "Ziani-Filali", SCHOLARS, Role.MENTOR_SUPERVISOR),
    ("mentor2", "Fatima-Zahra", "Kadiri-Seddik", SCHOLARS, Role.MENTOR),
    ("peermentor", "Hicham", "Ennaji-Touil", SCHOLARS, Role.MENTOR),
    ("authority", "Samir", "Ouazzani-Rami", PROBATION, Role.AUTHORITY_LIAISON),
]


class Command(BaseCommand):
    help = "Load synthetic demo organisations and users (refuses to run with DEBUG off)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--cases", type=int, default=60, help="how many demo cases (default 60; more for the reports)"
        )

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("seed_demo refuses to run with DEBUG off: demo accounts have a known password.")
        with transaction.atomic():
            seed_reference_data()
            created = seed_users(password=settings.DEMO_PASSWORD)
            cases = seed_cases(max(options["cases"], 1))
            for seed in demo.EXTENSIONS:
                seed()
            demo.seed_follow_ups()
            demo.seed_data_subject()
            api_clients = client_demo.seed_demo_clients()
        self.stdout.write(self.style.SUCCESS(f"Demo data ready ({created} new users, {cases} new cases)."))
        self.stdout.write("Demo API clients (POST /o/token/ with grant_type=client_credentials, HTTP Basic id:secret):")
        for organisation, client_id, secret, scopes in api_clients:
            self.stdout.write(f"  {organisation}: client id {client_id}  client secret {secret}  scopes {scopes}")


def seed_reference_data() -> None:
    for code, name, name_ar in CITIES:
        City.objects.update_or_create(code=code, defaults={"name": name, "name_ar": name_ar})
    for name, kind, city in ORGANISATIONS:
        Organisation.objects.update_or_create(name=name, defaults={"kind": kind, "city": City.objects.get(code=city)})


def seed_users(*, password: str) -> int:
    created = 0
    for username, first, last, organisation, role in USERS:
        user, is_new = User.objects.get_or_create(
            username=username, defaults={"first_name": first, "last_name": last, "email": f"{username}@demo.invalid"}
        )
        if is_new:
            user.set_password(password)
            user.save(update_fields=["password"])
            created += 1
        Membership.objects.update_or_create(
            user=user, defaults={"organisation": Organisation.objects.get(name=organisation), "role": role}
        )
    return created
