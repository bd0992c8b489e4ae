from django.conf import settings


def two_factor(request):
    """Whether two-factor login is required: in demo mode every page says it is off."""
    return {"two_factor_required": settings.TWO_FACTOR_REQUIRED}
