from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class MembershipBackend(ModelBackend):
    """Loads the user with membership and organisation in one query on every request.

    Every access decision needs the role and organisation, so fetching them with the
    user saves two queries per request.
    """

    def get_user(self, user_id):
        user = get_user_model()._default_manager.select_related("membership__organisation").filter(pk=user_id).first()
        return user if user and self.user_can_authenticate(user) else None
