from django.apps import AppConfig


class FamiliesConfig(AppConfig):
    """Households, family members and counselling (issue 8)."""

    name = "families"

    def ready(self):
        # Record rules, the counsellor's team-row condition, timeline source, case page, navigation,
        # start-page panel and demo data register with the core here; the core imports none of them.
        from . import hooks  # noqa: F401
