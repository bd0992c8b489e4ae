from django.urls import include, path
from rest_framework.routers import SimpleRouter

from . import mentoring, partner, placements

router = SimpleRouter()
router.include_format_suffixes = False
mentoring.register(router)
placements.register(router)
partner.register(router)

urlpatterns = [path("", include(router.urls))]
