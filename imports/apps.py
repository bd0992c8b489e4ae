from django.apps import AppConfig


class ImportsConfig(AppConfig):
    """Bulk import of partners, opportunities and participants (issue 14); imports from every app but
    `reports`, nothing imports it."""

    name = "imports"

    def ready(self):
        from . import hooks  # noqa: F401  the navigation entry, registered with the core
