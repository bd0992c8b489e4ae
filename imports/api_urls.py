from rest_framework.routers import SimpleRouter

from .api import ImportViewSet

router = SimpleRouter()
router.include_format_suffixes = False
router.register("imports", ImportViewSet, basename="api-import")

urlpatterns = router.urls
