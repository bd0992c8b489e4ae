"""Login with two factors, enrolment and recovery codes (issue 11): django-two-factor-auth's views
with this project's templates, recovery codes made at enrolment, and no "disable" page (a lost
device is reset by the system administrator)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.i18n import set_language
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from two_factor import views as tf

from .forms import PreferencesForm, apply_errors
from .middleware import ENDED
from .services import recovery_codes_generate, user_language_set, user_preferences_update


@method_decorator(login_not_required, name="dispatch")
class LoginView(tf.LoginView):
    """Username and password, then the authentication code (or a recovery code) when the user has
    a device. Errors are generic: unknown user, wrong password and a locked (username, address)
    pair all read the same."""

    template_name = "registration/login.html"

    def dispatch(self, request, *args, **kwargs):
        # Logged in already and nowhere asked to go: the start page. With a `next` (the admin sends
        # non-staff users here), the form is shown, so no redirect loop is possible.
        if request.method == "GET" and request.user.is_authenticated and not request.GET.get("next"):
            return redirect(settings.LOGIN_REDIRECT_URL)
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, form, **kwargs):
        context = super().get_context_data(form, **kwargs)
        context["session_ended"] = self.request.session.pop(ENDED, None)
        context["next"] = self.get_redirect_url()  # only a safe, same-site target
        return context


class SetupView(tf.SetupView):
    """Enrolment: scan the QR code (or type the key), confirm with one code. The confirming code's
    time step counts as used (it cannot log in again), and ten recovery codes are made at once."""

    def done(self, form_list, **kwargs):
        super().done(form_list, **kwargs)  # creates the device and verifies this session with it
        device = self.request.user.otp_device
        if isinstance(device, TOTPDevice):
            totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
            device.last_t = totp.t()
            device.save(update_fields=["last_t"])
        recovery_codes_generate(user=self.request.user)
        self.request.session.cycle_key()  # the session now carries a second factor: a new id
        url = reverse("two_factor:backup_tokens")
        next_url = self.get_redirect_url()
        return redirect(f"{url}?{urlencode({'next': next_url})}" if next_url else url)


class BackupTokensView(tf.BackupTokensView):
    """The recovery codes, and a button that replaces them."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        next_url = self.request.GET.get("next", "")
        context["next_url"] = next_url if next_url.startswith("/") and not next_url.startswith("//") else ""
        return context


# --- Language and preferences (issue 15) ----------------------------------------------------------


@login_not_required
@require_POST
def language_set(request: HttpRequest) -> HttpResponse:
    """The switcher on every page: Django's set_language (the cookie, back to a safe `next`), and for a
    signed-in user the choice on their profile too, so it follows them to any browser. A session that
    only the password opened (two-factor login still to come) changes the cookie, never the profile."""
    response = set_language(request)
    language = request.POST.get("language", "")
    user = request.user
    may_write = not settings.TWO_FACTOR_REQUIRED or user.is_verified()
    if user.is_authenticated and may_write and language in dict(settings.LANGUAGES):
        user_language_set(user=user, by=user, language=language)
    return response


def preferences(request: HttpRequest) -> HttpResponse:
    """The signed-in user's own preferences: language and Hijri dates. No other user's: no id in the URL."""
    user = request.user
    form = PreferencesForm(
        request.POST or None, initial={"language": user.language, "show_hijri_dates": user.show_hijri_dates}
    )
    if request.method == "POST" and form.is_valid():
        try:
            user_preferences_update(user=user, by=user, **form.cleaned_data)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            if user.language:  # the confirmation in the language just chosen
                translation.activate(user.language)
            messages.success(request, _("Your preferences are saved."))
            return redirect("preferences")
    return render(request, "accounts/preferences.html", {"form": form})
