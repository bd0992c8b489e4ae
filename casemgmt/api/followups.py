"""/api/v1/follow-ups/: the caller's own follow-ups, with complete and snooze actions."""

from __future__ import annotations

import re

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from casemgmt import access, followup_services
from casemgmt.followup_models import FollowUp, FollowUpStatus

from .conditional import SafeWritesMixin


class FollowUpSerializer(serializers.ModelSerializer):
    case_code = serializers.CharField(source="case.participant.case_code", read_only=True)

    class Meta:
        model = FollowUp
        fields = [
            "id",
            "case",
            "case_code",
            "kind",
            "due_on",
            "status",
            "assignee",
            "snoozed_until",
            "note",
            "completed_at",
            "completed_with",
        ]
        read_only_fields = fields


class CompleteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    satisfied_by = serializers.CharField(required=False, allow_blank=True, default="", max_length=80)


class SnoozeSerializer(serializers.Serializer):
    until = serializers.DateField()
    reason = serializers.CharField(max_length=2000)


FILTERS = [
    OpenApiParameter("case", int, description="Only this case"),
    OpenApiParameter("kind", str, description="Only this kind of follow-up (a rule's key)"),
    OpenApiParameter("status", str, enum=list(FollowUpStatus.values)),
    OpenApiParameter("due_before", str, description="Due on or before this date (YYYY-MM-DD)"),
]


class FollowUpViewSet(SafeWritesMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The caller's own follow-ups (held by them), filtered by case, kind, status and due date."""

    serializer_class = FollowUpSerializer
    queryset = FollowUp.objects.none()
    conditional_actions = frozenset({"complete", "snooze"})
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return FollowUp.objects.none()
        rows = access.follow_ups_visible_to(self.request.user).select_related("case__participant")
        if self.action != "list":
            return rows
        rows = rows.filter(assignee=self.request.user)
        params = self.request.query_params
        errors = {}
        if "case" in params:
            if re.fullmatch(r"[0-9]{1,18}", params["case"]):
                rows = rows.filter(case_id=int(params["case"]))
            else:
                errors["case"] = [_("A case id is a number.")]
        if "kind" in params:
            rows = rows.filter(kind=params["kind"][:40])
        if "status" in params:
            if params["status"] in FollowUpStatus.values:
                rows = rows.filter(status=params["status"])
            else:
                errors["status"] = [_("Unknown status.")]
        if "due_before" in params:
            day = serializers.DateField().run_validation
            try:
                rows = rows.filter(due_on__lte=day(params["due_before"]))
            except serializers.ValidationError:
                errors["due_before"] = [_("A date as YYYY-MM-DD.")]
        if errors:
            raise serializers.ValidationError(errors)
        return rows

    @extend_schema(parameters=FILTERS)
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def _actionable(self):
        row = self.get_object()
        if not access.can_act_on_follow_up(self.request.user, row):
            raise NotFound
        return row

    @extend_schema(request=CompleteSerializer, responses=FollowUpSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        """Mark done, naming what satisfied it."""
        row = self._actionable()
        body = CompleteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        row = followup_services.followup_complete(follow_up=row, by=request.user, **body.validated_data)
        return Response(FollowUpSerializer(row).data)

    @extend_schema(request=SnoozeSerializer, responses=FollowUpSerializer)
    @action(detail=True, methods=["post"])
    def snooze(self, request, pk=None):
        """Put off until a date, with a reason."""
        row = self._actionable()
        body = SnoozeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        row = followup_services.followup_snooze(follow_up=row, by=request.user, **body.validated_data)
        return Response(FollowUpSerializer(row).data)
