from django.apps import AppConfig


class ProgramsConfig(AppConfig):
    """Religious-scholar mentoring and job/training placements (issues 6 and 7)."""

    name = "programs"

    def ready(self):
        # Each capability registers its access rules, timeline sources, navigation and demo data
        # with the core here; the core imports neither.
        from . import mentoring_hooks, placement_hooks  # noqa: F401
