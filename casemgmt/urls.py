from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from oauth2_provider import views as oauth2_views

from accounts.middleware import two_factor_exempt
from accounts.views import LoginView, language_set, preferences

from . import boundary_views, case_views, casefile_views, dpo_views, followup_views, orgsettings, subject_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/login/", LoginView.as_view(), name="login"),
    path("accounts/logout/", two_factor_exempt(auth_views.LogoutView.as_view()), name="logout"),
    path("accounts/two-factor/", include("accounts.urls")),
    path("i18n/setlang/", language_set, name="set_language"),
    path("accounts/preferences/", preferences, name="preferences"),
    path("settings/", include((orgsettings.urlpatterns, orgsettings.app_name))),
    # Apps to the right first: their case pages (/cases/<id>/mentoring/) must win over the case
    # file's generic /cases/<id>/<section>/ pattern.
    path("", include(followup_views.urlpatterns)),
    path("", include(dpo_views.urlpatterns)),
    path("", include(subject_views.urlpatterns)),
    path("", include("programs.urls")),
    path("", include("families.urls")),
    path("", include("reports.urls")),
    path("", include("imports.urls")),
    path("", include(boundary_views.urlpatterns)),
    path("", include(case_views.urlpatterns)),
    path("", include(casefile_views.urlpatterns)),
    path("api/v1/", include("casemgmt.api.urls")),
    path("api/v1/", include("programs.api.urls")),
    path("api/v1/", include("families.api_urls")),
    path("api/v1/", include("reports.api_urls")),
    path("api/v1/", include("imports.api_urls")),
    path("admin/", admin.site.urls),
    # Partner clients (issue 13): client credentials only; no authorization, device or application pages.
    path(
        "o/",
        include(
            (
                [
                    path("token/", oauth2_views.TokenView.as_view(), name="token"),
                    path("revoke_token/", oauth2_views.RevokeTokenView.as_view(), name="revoke-token"),
                ],
                "oauth2_provider",
            )
        ),
    ),
]

handler400 = "casemgmt.views.bad_request"
handler403 = "casemgmt.views.permission_denied"
handler404 = "casemgmt.views.page_not_found"
handler500 = "casemgmt.views.server_error"

admin.site.site_header = "Reintegration case management — system administration"
