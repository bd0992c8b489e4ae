from drf_spectacular.utils import extend_schema
from rest_framework import generics, viewsets
from rest_framework.filters import SearchFilter

from accounts.models import User
from casemgmt.access import users_manageable_by

from .conditional import SafeWritesMixin
from .serializers import MeSerializer, OrganisationUserSerializer


class MeView(SafeWritesMixin, generics.RetrieveAPIView):
    """The calling user with their organisation and role."""

    serializer_class = MeSerializer
    etag_from_content = True

    def get_object(self):
        return self.request.user


@extend_schema(description="Staff accounts of the caller's organisation (organisation admins only).")
class OrganisationUserViewSet(SafeWritesMixin, viewsets.ReadOnlyModelViewSet):
    queryset = User.objects.none()  # typed path parameters for the schema; rows come from get_queryset
    serializer_class = OrganisationUserSerializer
    filter_backends = [SearchFilter]
    search_fields = ["username", "first_name", "last_name", "email"]

    def get_queryset(self):
        return users_manageable_by(self.request.user)
