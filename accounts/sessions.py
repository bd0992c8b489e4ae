"""Session engine (SESSION_ENGINE = "accounts.sessions"): Django's database sessions, stored in
`accounts.StaffSession` with the user's id, so all sessions of a user can be ended at once.

The session row is read with its user, membership and organisation (one query where Django reads the
session, then the user): `accounts.middleware.AuthenticationMiddleware` makes this request's store
known to `accounts.backends.MembershipBackend.get_user` while Django's `auth.get_user` runs, and the
backend takes the row's user when it is the session's user. Everything else of `auth.get_user` (the
backend check, the session hash of the password) runs unchanged on that user.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore as DBStore
from django.core.exceptions import SuspiciousOperation
from django.utils import timezone

# the session store of the request whose user `auth.get_user` is loading (set only for that call)
LOADING_USER_OF: ContextVar[SessionStore | None] = ContextVar("LOADING_USER_OF", default=None)


class SessionStore(DBStore):
    row_user = None  # the user of the row this store loaded, with membership and organisation

    @classmethod
    def get_model_class(cls):
        from .models import StaffSession

        return StaffSession

    def _get_session_from_db(self):
        self.row_user = None
        query = self.model.objects.select_related("user__membership__organisation")
        row = None
        try:
            row = query.get(session_key=self.session_key, expire_date__gt=timezone.now())
        except (self.model.DoesNotExist, SuspiciousOperation) as error:
            if isinstance(error, SuspiciousOperation):
                logging.getLogger(f"django.security.{error.__class__.__name__}").warning(str(error))
            self._session_key = None
        else:
            self.row_user = row.user
        return row

    def flush(self):
        self.row_user = None
        super().flush()

    def clear(self):
        self.row_user = None
        super().clear()

    def user_of_row(self, user_id):
        """The row's user if it is `user_id` (the id the session's data names), else None."""
        user = self.row_user
        return user if user is not None and user.pk == user_id else None

    def create_model_instance(self, data):
        instance = super().create_model_instance(data)
        try:
            instance.user_id = int(data.get(SESSION_KEY))
        except (TypeError, ValueError):
            instance.user_id = None  # an anonymous session (language choice, the login wizard)
        return instance
