"""URLs of the production error-page test (tests/platform/test_error_pages.py): the app's own, plus a
page and an API view that fail with personal data in the exception's message."""

from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

SECRET = "ZqBoomGivenName 4471 rue Secrete"


@login_not_required
def boom(request):
    raise ValueError(f"participant {SECRET} could not be saved")


class BoomApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    def get(self, request):
        raise ValueError(f"participant {SECRET} could not be serialised")


urlpatterns = [
    path("boom/", boom),
    path("api/v1/boom/", BoomApi.as_view()),
    path("", include("casemgmt.urls")),
]

handler400 = "casemgmt.views.bad_request"
handler403 = "casemgmt.views.permission_denied"
handler404 = "casemgmt.views.page_not_found"
handler500 = "casemgmt.views.server_error"
