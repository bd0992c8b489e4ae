from rest_framework import serializers

from accounts.models import Organisation, User


class OrganisationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organisation
        fields = ["id", "name", "kind"]


class MeSerializer(serializers.ModelSerializer):
    organisation = OrganisationSerializer(allow_null=True)
    role = serializers.CharField(allow_null=True)

    class Meta:
        model = User
        fields = ["id", "username", "first_name", "last_name", "email", "organisation", "role"]


class OrganisationUserSerializer(serializers.ModelSerializer):
    role = serializers.CharField(source="membership.role")

    class Meta:
        model = User
        fields = ["id", "username", "first_name", "last_name", "email", "role", "is_active", "last_login"]
