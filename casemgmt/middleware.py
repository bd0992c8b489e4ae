from django.conf import settings
from django.contrib.auth.middleware import LoginRequiredMiddleware as BaseLoginRequiredMiddleware

# DRF and the OAuth2 token endpoint authenticate for themselves and answer 401/403 as
# problem details; a redirect to a login page means nothing to a partner system.
API_PREFIXES = ("/api/", "/o/")


class LoginRequiredMiddleware(BaseLoginRequiredMiddleware):
    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith(API_PREFIXES):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


class NoStoreMiddleware:
    """`Cache-Control: no-store` on every response but static files and the health check.

    Almost every page and API answer carries personal data, and a list of the few that do not would
    go stale: neither the browser (back button on a shared computer) nor a proxy may keep any.
    WhiteNoise answers static files before this middleware runs; the prefixes cover runserver.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not request.path_info.startswith(settings.NO_STORE_EXEMPT_PREFIXES):
            response["Cache-Control"] = "no-store"
            response.headers.pop("Expires", None)
        return response
