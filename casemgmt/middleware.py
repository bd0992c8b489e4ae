from django.contrib.auth.middleware import LoginRequiredMiddleware as BaseLoginRequiredMiddleware

# DRF and the OAuth2 token endpoint authenticate for themselves and answer 401/403 as
# problem details; a redirect to a login page means nothing to a partner system.
API_PREFIXES = ("/api/", "/o/")


class LoginRequiredMiddleware(BaseLoginRequiredMiddleware):
    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith(API_PREFIXES):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)
