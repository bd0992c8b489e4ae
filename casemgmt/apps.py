from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CasemgmtConfig(AppConfig):
    name = "casemgmt"
    verbose_name = "Case management"

    def ready(self) -> None:
        # checks registers the system checks; webhook_sources registers the core's webhook sources
        from . import checks, dbroles, followups, webhook_sources, webhooks  # noqa: F401

        followups.LISTENERS.append(webhooks.on_change)

        # Once per migrate (this app's signal), after every table exists: the owner grants the
        # application role its privileges, so a new table never waits for a manual step.
        post_migrate.connect(dbroles.grant_after_migrate, sender=self, dispatch_uid="casemgmt-grant-app-role")
