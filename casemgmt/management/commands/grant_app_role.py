"""Grant the application role its privileges (also done by every `migrate`); run as the owner."""

from django.core.management.base import BaseCommand, CommandError

from casemgmt.dbroles import GrantError, grant_app_role


class Command(BaseCommand):
    help = "Grant the application role DML on ordinary tables and INSERT/SELECT on append-only ones."

    def add_arguments(self, parser):
        parser.add_argument("--role", help="the application role (default: settings.DATABASE_APP_ROLE)")

    def handle(self, *args, role=None, **options):
        try:
            granted = grant_app_role(role=role)
        except GrantError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"{granted.role}: read-write on {len(granted.read_write)} tables, "
            f"insert and select only on {len(granted.append_only)}: {', '.join(granted.append_only)}"
        )
        if granted.not_owned:
            raise CommandError(f"Not owned by the connecting role, not granted: {', '.join(granted.not_owned)}")
