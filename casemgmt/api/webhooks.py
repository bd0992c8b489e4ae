"""A partner client's own webhook subscriptions (issue 14).

/api/v1/webhook-subscriptions/                         list (the client's own) / POST subscribes
/api/v1/webhook-subscriptions/{id}/                    GET, PATCH (url, events), DELETE (ends it); If-Match
/api/v1/webhook-subscriptions/{id}/rotate-secret/      POST: a new signing secret, shown once
/api/v1/webhook-subscriptions/{id}/deliveries/         GET: what was sent, its status and response code

Only partner clients (OAuth2 client credentials) with the `webhooks:manage` scope reach these; staff
sessions get 404, as on the other partner endpoints (the system administrator oversees subscriptions,
deliveries, replays and resumes in the admin). The organisation and
the OAuth2 application come from the token, never from the body; a subscription names only events
the organisation's kind may hear *and* the token's scopes may read (`webhooks.EVENT_SCOPES`). Another
client's subscription answers 404. The secret is in the answer of POST and of rotate-secret only.
"""

from __future__ import annotations

from django.db.models import Count, Max
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from .. import access, webhooks
from ..webhook_models import WebhookDelivery, WebhookEvent, WebhookSubscription
from . import clients
from .conditional import SafeWritesMixin

SCOPE = "webhooks:manage"


class WebhookSubscriptionSerializer(serializers.ModelSerializer):
    events = serializers.ListField(child=serializers.ChoiceField(choices=WebhookEvent.choices), allow_empty=False)
    paused = serializers.BooleanField(read_only=True)
    last_delivery_at = serializers.DateTimeField(read_only=True, allow_null=True)
    deliveries = serializers.IntegerField(read_only=True, source="delivery_count")

    class Meta:
        model = WebhookSubscription
        fields = [
            "id",
            "url",
            "events",
            "is_active",
            "paused",
            "paused_at",
            "paused_reason",
            "consecutive_failures",
            "deliveries",
            "last_delivery_at",
            "created_at",
        ]
        read_only_fields = [
            "id",
            "is_active",
            "paused",
            "paused_at",
            "paused_reason",
            "consecutive_failures",
            "created_at",
        ]
        extra_kwargs = {"url": {"validators": []}}  # the service checks the address (https, no private hosts)


class NewWebhookSubscriptionSerializer(WebhookSubscriptionSerializer):
    secret = serializers.CharField(
        read_only=True, help_text="The signing secret (whsec_…): shown in this answer only; store it now."
    )

    class Meta(WebhookSubscriptionSerializer.Meta):
        fields = [*WebhookSubscriptionSerializer.Meta.fields, "secret"]


class SecretSerializer(serializers.Serializer):
    secret = serializers.CharField(read_only=True)


class WebhookDeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event",
            "event_id",
            "status",
            "attempts",
            "last_attempt_at",
            "last_status_code",
            "last_error",
            "next_attempt_at",
            "delivered_at",
            "replay_of",
            "created_at",
        ]
        read_only_fields = fields


class WebhookSubscriptionViewSet(
    SafeWritesMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """The caller's webhook subscriptions. PATCH and DELETE take If-Match (428 without)."""

    serializer_class = WebhookSubscriptionSerializer
    queryset = WebhookSubscription.objects.none()
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    required_scopes = {
        action_name: [SCOPE]
        for action_name in (
            "list",
            "retrieve",
            "create",
            "partial_update",
            "destroy",
            "rotate_secret",
            "deliveries",
        )
    }

    def principal(self) -> clients.ClientPrincipal:
        if not clients.is_client(self.request.user):
            raise NotFound  # as on the other partner endpoints: staff have none of these
        return self.request.user

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return WebhookSubscription.objects.none()
        return (
            access.webhook_subscriptions_for(self.principal())
            .annotate(delivery_count=Count("deliveries"), last_delivery_at=Max("deliveries__delivered_at"))
            .order_by("-created_at", "-pk")
        )

    @extend_schema(request=WebhookSubscriptionSerializer, responses={201: NewWebhookSubscriptionSerializer})
    def create(self, request, *args, **kwargs):
        principal = self.principal()
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        sub = webhooks.subscribe(
            application=principal.api_client.application,
            organisation=principal.organisation,
            url=body.validated_data["url"],
            events=body.validated_data["events"],
            scopes=principal.scopes,
        )
        row = self.get_queryset().get(pk=sub.pk)
        row.secret = sub.secret
        return Response(NewWebhookSubscriptionSerializer(row).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        principal = self.principal()
        sub = self.get_object()
        body = self.get_serializer(sub, data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        changes = {k: v for k, v in body.validated_data.items() if k in ("url", "events")}
        webhooks.subscription_update(sub, scopes=principal.scopes, **changes)
        return Response(self.get_serializer(self.get_queryset().get(pk=sub.pk)).data)

    @extend_schema(responses={200: WebhookSubscriptionSerializer})
    def destroy(self, request, *args, **kwargs):
        """End the subscription: nothing more is sent. Answers the ended row (`is_active` false), which
        stays with its delivery records for the system administrator's oversight."""
        sub = self.get_object()
        webhooks.unsubscribe(sub)
        ended = WebhookSubscription.objects.annotate(
            delivery_count=Count("deliveries"), last_delivery_at=Max("deliveries__delivered_at")
        ).get(pk=sub.pk)
        return Response(self.get_serializer(ended).data)

    @extend_schema(request=None, responses=SecretSerializer)
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        """A new signing secret for the next deliveries (the old one stops at once); shown in this answer only."""
        secret = webhooks.rotate_secret(self.get_object())
        return Response({"secret": secret})

    @extend_schema(responses=WebhookDeliverySerializer(many=True))
    @action(detail=True, methods=["get"])
    def deliveries(self, request, pk=None):
        """What was sent to this subscription, newest first: status, attempts and the last response code
        (payloads are not repeated here)."""
        sub = self.get_object()
        rows = WebhookDelivery.objects.filter(subscription=sub).order_by("-created_at", "-pk")
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)
