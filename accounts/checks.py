from django.conf import settings
from django.core.checks import Warning, register


@register(deploy=True)
def two_factor_required(app_configs, **kwargs):
    """A production start (DEBUG off) without required two-factor login fails `check --deploy
    --fail-level WARNING` (issue 11)."""
    if settings.DEBUG or settings.TWO_FACTOR_REQUIRED:
        return []
    return [
        Warning(
            "Two-factor login is not required (DJANGO_TWO_FACTOR_REQUIRED is off) with DEBUG off.",
            hint="Unset DJANGO_TWO_FACTOR_REQUIRED: production requires two factors for every staff user.",
            id="accounts.W001",
        )
    ]
