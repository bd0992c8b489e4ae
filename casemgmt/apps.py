from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CasemgmtConfig(AppConfig):
    name = "casemgmt"
    verbose_name = "Case management"

    def ready(self) -> None:
        from . import checks, dbroles  # noqa: F401  # checks registers the system checks

        # Once per migrate (this app's signal), after every table exists: the owner grants the
        # application role its privileges, so a new table never waits for a manual step.
        post_migrate.connect(dbroles.grant_after_migrate, sender=self, dispatch_uid="casemgmt-grant-app-role")
