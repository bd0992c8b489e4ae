from django.apps import AppConfig


class ReportsConfig(AppConfig):
    """Dashboards and exports for managers (issue 12); reads from every app, nothing imports it."""

    name = "reports"

    def ready(self):
        from . import hooks  # noqa: F401  navigation and the home panel, registered with the core
