from django.apps import AppConfig


class ReportsConfig(AppConfig):
    """Dashboards and exports for managers (issue 12); reads from every app, nothing imports it."""

    name = "reports"
