from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

from .sessions import LOADING_USER_OF


class MembershipBackend(ModelBackend):
    """Loads the user with membership and organisation in one query on every request.

    Every access decision needs the role and organisation, so fetching them with the
    user saves two queries per request.
    """

    def get_user(self, user_id):
        # during a request, the session's own query brought the user already (accounts.sessions)
        user_of_row = getattr(LOADING_USER_OF.get(), "user_of_row", None)
        user = user_of_row(user_id) if user_of_row is not None else None
        if user is None:
            user = (
                get_user_model()._default_manager.select_related("membership__organisation").filter(pk=user_id).first()
            )
        return user if user and self.user_can_authenticate(user) else None
