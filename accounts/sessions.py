"""Session engine (SESSION_ENGINE = "accounts.sessions"): Django's database sessions, stored in
`accounts.StaffSession` with the user's id, so all sessions of a user can be ended at once."""

from __future__ import annotations

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore as DBStore


class SessionStore(DBStore):
    @classmethod
    def get_model_class(cls):
        from .models import StaffSession

        return StaffSession

    def create_model_instance(self, data):
        instance = super().create_model_instance(data)
        try:
            instance.user_id = int(data.get(SESSION_KEY))
        except (TypeError, ValueError):
            instance.user_id = None  # an anonymous session (language choice, the login wizard)
        return instance
