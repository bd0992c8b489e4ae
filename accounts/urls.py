"""Two-factor pages under /accounts/two-factor/ (namespace `two_factor`, the names
django-two-factor-auth's views reverse)."""

from django.urls import path
from two_factor import views as tf

from . import views
from .middleware import two_factor_exempt

app_name = "two_factor"

urlpatterns = [
    # reachable before the session is verified: enrolment and its QR code
    path("setup/", two_factor_exempt(views.SetupView.as_view()), name="setup"),
    path("qrcode/", two_factor_exempt(tf.QRGeneratorView.as_view()), name="qr"),
    path("setup/complete/", tf.SetupCompleteView.as_view(), name="setup_complete"),
    path("recovery-codes/", views.BackupTokensView.as_view(), name="backup_tokens"),
    path("", tf.ProfileView.as_view(), name="profile"),
]
