from django.apps import AppConfig


class FamiliesConfig(AppConfig):
    """Households, family members and counselling (issue 8)."""

    name = "families"
