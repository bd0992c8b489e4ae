from drf_spectacular.utils import extend_schema
from rest_framework import generics, viewsets
from rest_framework.filters import SearchFilter

from casemgmt.access import users_manageable_by

from .serializers import MeSerializer, OrganisationUserSerializer


class MeView(generics.RetrieveAPIView):
    """The calling user with their organisation and role."""

    serializer_class = MeSerializer

    def get_object(self):
        return self.request.user


@extend_schema(description="Staff accounts of the caller's organisation (organisation admins only).")
class OrganisationUserViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = OrganisationUserSerializer
    filter_backends = [SearchFilter]
    search_fields = ["username", "first_name", "last_name", "email"]

    def get_queryset(self):
        return users_manageable_by(self.request.user)
