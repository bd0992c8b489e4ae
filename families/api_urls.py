from django.urls import include, path
from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.include_format_suffixes = False
api.register(router)

urlpatterns = [path("", include(router.urls))]
