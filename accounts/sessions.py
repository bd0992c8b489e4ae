"""Session engine (SESSION_ENGINE = "accounts.sessions"): Django's database sessions, stored in
`accounts.StaffSession` with the user's id, so all sessions of a user can be ended at once.

The session row is read with its user, membership and organisation and with the OTP device that
verified it (one query where Django reads the session, then the user, then django-otp the device):
`accounts.middleware.AuthenticationMiddleware` makes this request's store known to
`accounts.backends.MembershipBackend.get_user` while Django's `auth.get_user` runs, and the backend
takes the row's user when it is the session's user. Everything else of `auth.get_user` (the
backend check, the session hash of the password) runs unchanged on that user. Likewise
`accounts.middleware.OTPMiddleware` takes the row's device when it is the device the session's data
names; django-otp's own checks (the device is the user's, and confirmed) run unchanged on it.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore as DBStore
from django.core.exceptions import SuspiciousOperation
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY

from dbengine import prepared

# the session store of the request whose user `auth.get_user` is loading (set only for that call)
LOADING_USER_OF: ContextVar[SessionStore | None] = ContextVar("LOADING_USER_OF", default=None)
# the session store of the request whose OTP device accounts.middleware.OTPMiddleware is loading
VERIFYING_SESSION: ContextVar[SessionStore | None] = ContextVar("VERIFYING_SESSION", default=None)

# The device columns of the session row, by the model label of django-otp's persistent ids
# ("otp_totp.totpdevice/12"): the devices this project's two-factor login uses (settings.INSTALLED_APPS).
DEVICE_COLUMNS = {"otp_totp.totpdevice": "totp_device", "otp_static.staticdevice": "static_device"}


def _device_column(persistent_id) -> tuple[str, int] | None:
    """(column, device id) of a persistent id this row can hold, else None."""
    if not isinstance(persistent_id, str):
        return None
    label, _, device_id = persistent_id.rpartition("/")
    column = DEVICE_COLUMNS.get(label)
    if column is None or not device_id.isdigit():
        return None
    return column, int(device_id)


class SessionStore(DBStore):
    row_user = None  # the user of the row this store loaded, with membership and organisation
    row_device = None  # the OTP device of the row this store loaded

    @classmethod
    def get_model_class(cls):
        from .models import StaffSession

        return StaffSession

    def _get_session_from_db(self):
        self.row_user = self.row_device = None
        query = self.model.objects.select_related("user__membership__organisation", *DEVICE_COLUMNS.values())
        row = None
        try:
            # a key lookup run on every request: a prepared statement (dbengine), planned once
            with prepared():
                row = query.get(session_key=self.session_key, expire_date__gt=timezone.now())
        except (self.model.DoesNotExist, SuspiciousOperation) as error:
            if isinstance(error, SuspiciousOperation):
                logging.getLogger(f"django.security.{error.__class__.__name__}").warning(str(error))
            self._session_key = None
        else:
            self.row_user = row.user
            self.row_device = row.totp_device or row.static_device
        return row

    def flush(self):
        self.row_user = self.row_device = None
        super().flush()

    def clear(self):
        self.row_user = self.row_device = None
        super().clear()

    def user_of_row(self, user_id):
        """The row's user if it is `user_id` (the id the session's data names), else None."""
        user = self.row_user
        return user if user is not None and user.pk == user_id else None

    def device_of_row(self, persistent_id):
        """The row's device if it is `persistent_id` (the device the session's data names), else None."""
        device = self.row_device
        return device if device is not None and device.persistent_id == persistent_id else None

    def create_model_instance(self, data):
        instance = super().create_model_instance(data)
        try:
            instance.user_id = int(data.get(SESSION_KEY))
        except (TypeError, ValueError):
            instance.user_id = None  # an anonymous session (language choice, the login wizard)
        instance.totp_device_id = instance.static_device_id = None
        device = _device_column(data.get(DEVICE_ID_SESSION_KEY))
        if device is not None:
            setattr(instance, f"{device[0]}_id", device[1])
        return instance
