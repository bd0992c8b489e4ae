from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and organisations"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from . import checks  # noqa: F401  (registers the deploy check)
        from .middleware import session_started

        # Session bookkeeping, not domain logic: both timeout clocks start at every login.
        user_logged_in.connect(
            lambda sender, request, user, **kwargs: session_started(request), weak=False, dispatch_uid="session_started"
        )
