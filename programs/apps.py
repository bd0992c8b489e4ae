from django.apps import AppConfig


class ProgramsConfig(AppConfig):
    """Religious-scholar mentoring and job/training placements (issues 6 and 7)."""

    name = "programs"
