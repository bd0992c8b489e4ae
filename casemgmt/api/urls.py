from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from . import cases, views

router = SimpleRouter()
router.include_format_suffixes = False
router.register("users", views.OrganisationUserViewSet, basename="api-user")
router.register("cases", cases.CaseViewSet, basename="api-case")
router.register("participants", cases.ParticipantViewSet, basename="api-participant")

urlpatterns = [
    path("me/", views.MeView.as_view(), name="api-me"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include(router.urls)),
]
