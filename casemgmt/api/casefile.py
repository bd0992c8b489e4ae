"""Case-file endpoints: one generic viewset per row kind, plus referrals, assessments and attachments."""

from __future__ import annotations

import functools
import re

from django.db.models import Q
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, parsers, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from casemgmt import access, casefile_services, selectors
from casemgmt.casefile import (
    Assessment,
    AssessmentAnswer,
    AssessmentDomain,
    AssessmentItem,
    AssessmentTemplate,
    Attachment,
    DataCategory,
    GoalProgress,
    Outcome,
)
from casemgmt.casefile_forms import MODELS
from casemgmt.casefile_services import WRITABLE_FIELDS
from casemgmt.models import Case, Eligibility, Stage
from casemgmt.reads import file_response, log_read, log_reads

from .conditional import SafeWritesMixin

CASE_FILTER = [OpenApiParameter("case", int, description="Only rows of this case")]


def case_in_scope(request, case_id) -> Case:
    """The case named in a request body, through the policy; missing and forbidden read the same."""
    try:
        return access.get_case_for_user(request.user, int(case_id))
    except (Http404, TypeError, ValueError) as error:
        raise serializers.ValidationError({"case": [_("No such case.")]}) from error


def _case_filter(request, queryset):
    case_id = request.query_params.get("case")
    if case_id is None:
        return queryset
    if not re.fullmatch(r"[0-9]{1,18}", case_id):
        raise serializers.ValidationError({"case": [_("A case id is a number.")]})
    return queryset.filter(case_id=int(case_id))


@functools.cache
def record_serializer_class(key: str) -> type[serializers.ModelSerializer]:
    model = MODELS[key]
    extra = {}
    if key == "consent":
        extra["categories"] = serializers.ListField(
            child=serializers.ChoiceField(choices=DataCategory.choices), allow_empty=False
        )
    if key in ("goal", "service_referral"):
        extra["get_fields"] = _scoped_fields
    meta = type(
        "Meta",
        (),
        {
            "model": model,
            "fields": ["id", "case", *WRITABLE_FIELDS[key], "recorded_by", "created_at", "updated_at"],
            "read_only_fields": ["id", "case", "recorded_by", "created_at", "updated_at"],
        },
    )
    return type(f"{model.__name__}Serializer", (serializers.ModelSerializer,), {"Meta": meta, **extra})


def _scoped_fields(self):
    """Owner and goal choices come from the case, so ids of other cases read as unknown ids."""
    fields = serializers.ModelSerializer.get_fields(self)
    case = self.context.get("case")
    if case is not None and "owner" in fields:
        from accounts.models import User

        fields["owner"].queryset = User.objects.filter(
            Q(case_teams__case=case) | Q(membership__organisation_id=case.organisation_id, membership__role="manager")
        ).distinct()
    if case is not None and "goal" in fields:
        from casemgmt.casefile import Goal

        fields["goal"].queryset = Goal.objects.filter(case=case)
    return fields


class RecordViewSet(SafeWritesMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Rows of one kind of the case file, filtered in SQL by the access policy (`?case=` narrows)."""

    key: str = ""
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        rows = access.records_visible_to(self.request.user, self.key).select_related("recorded_by")
        return _case_filter(self.request, rows) if self.action == "list" else rows

    def get_serializer_class(self):
        return record_serializer_class(self.key)

    @extend_schema(parameters=CASE_FILTER)
    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        log_reads(
            request,
            [row.case_id for row in page],
            view=f"api-{self.key}-list",
            groups=frozenset({access.RECORD_RULES[self.key].group}),
        )
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        record = self.get_object()
        log_read(
            request, record.case, view=f"api-{self.key}-detail", groups=frozenset({access.RECORD_RULES[self.key].group})
        )
        return Response(self.get_serializer(record).data)

    def create(self, request, *args, **kwargs):
        case = case_in_scope(request, request.data.get("case") if hasattr(request.data, "get") else None)
        if not access.can_write_record(request.user, case, self.key):
            raise NotFound
        serializer = self.get_serializer(data=request.data, context={**self.get_serializer_context(), "case": case})
        serializer.is_valid(raise_exception=True)
        record = casefile_services.record_create(
            key=self.key, case=case, by=request.user, data=dict(serializer.validated_data)
        )
        log_read(request, case, view=f"api-{self.key}-create", groups=frozenset({access.RECORD_RULES[self.key].group}))
        return Response(self.get_serializer(record).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        record = self.get_object()
        if not access.can_write_record(request.user, record.case, self.key, record):
            raise NotFound
        serializer = self.get_serializer(
            record, data=request.data, partial=True, context={**self.get_serializer_context(), "case": record.case}
        )
        serializer.is_valid(raise_exception=True)
        record = casefile_services.record_update(
            key=self.key, record=record, by=request.user, data=dict(serializer.validated_data)
        )
        log_read(
            request, record.case, view=f"api-{self.key}-update", groups=frozenset({access.RECORD_RULES[self.key].group})
        )
        return Response(self.get_serializer(record).data)


def record_viewset(key: str) -> type[RecordViewSet]:
    model = MODELS[key]
    return type(
        f"{model.__name__}ViewSet",
        (RecordViewSet,),
        {
            "key": key,
            "queryset": model.objects.none(),
            "__doc__": f"{model._meta.verbose_name_plural.capitalize()} of the cases visible to the caller.",
        },
    )


class GoalProgressSerializer(serializers.ModelSerializer):
    class Meta:
        model = GoalProgress
        fields = ["id", "date", "note", "recorded_by", "created_at"]
        read_only_fields = ["id", "recorded_by", "created_at"]


class GoalViewSet(record_viewset("goal")):
    @extend_schema(methods=["GET"], responses=GoalProgressSerializer(many=True))
    @extend_schema(methods=["POST"], request=GoalProgressSerializer, responses={201: GoalProgressSerializer})
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def progress(self, request, pk=None):
        """Dated progress updates of a goal."""
        goal = self.get_object()
        if request.method == "POST":
            if not access.can_write_record(request.user, goal.case, "goal", goal):
                raise NotFound
            serializer = GoalProgressSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            progress = casefile_services.goal_progress_add(goal=goal, by=request.user, **serializer.validated_data)
            return Response(GoalProgressSerializer(progress).data, status=status.HTTP_201_CREATED)
        log_read(request, goal.case, view="api-goal-progress", groups=frozenset({access.G.PLAN}))
        return Response(GoalProgressSerializer(goal.progress.all(), many=True).data)


# --- Referrals ------------------------------------------------------------------------------


class ReferralSerializer(serializers.ModelSerializer):
    case_code = serializers.CharField(source="participant.case_code", read_only=True)
    lead = serializers.IntegerField(source="lead_id", read_only=True, allow_null=True)

    class Meta:
        model = Case
        fields = ["id", "case_code", "stage", *access.GROUP_FIELDS[access.G.REFERRAL], "lead"]
        read_only_fields = fields


class ScreeningSerializer(serializers.Serializer):
    first_contact_date = serializers.DateField()
    decision = serializers.ChoiceField(choices=Eligibility.choices)
    reason = serializers.CharField(max_length=2000)


class ReferralViewSet(SafeWritesMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The intake: cases in referral or screening that the caller may see with their referral data.

    New referrals are created with POST /api/v1/cases/."""

    serializer_class = ReferralSerializer
    queryset = Case.objects.none()
    etag_related = ("participant",)  # the same case as /cases/{id}/, the same tag
    conditional_actions = frozenset({"screen"})
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        if "referral_source" not in access.allowed_list_filters(self.request.user):
            return Case.objects.none()
        return selectors.case_list(user=self.request.user).filter(stage__in=[Stage.REFERRAL, Stage.SCREENING])

    def retrieve(self, request, *args, **kwargs):
        case = self.get_object()
        log_read(request, case, view="api-referral-detail", groups=frozenset({access.G.REFERRAL}))
        return Response(self.get_serializer(case).data)

    @extend_schema(request=ScreeningSerializer, responses=ReferralSerializer)
    @action(detail=True, methods=["post"])
    def screen(self, request, pk=None):
        """Record the screening: accept moves the case to assessment, the other decisions decline it."""
        case = self.get_object()
        if not access.can_move_stage(request.user, case):
            raise NotFound
        serializer = ScreeningSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        casefile_services.case_screen(case=case, by=request.user, **serializer.validated_data)
        return Response(self.get_serializer(selectors.case_list(user=request.user).get(pk=case.pk)).data)


# --- Assessments ----------------------------------------------------------------------------


class ItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = AssessmentItem
        fields = ["id", "code", "text", "kind"]


class DomainSerializer(serializers.ModelSerializer):
    items = ItemSerializer(many=True)

    class Meta:
        model = AssessmentDomain
        fields = ["id", "code", "name", "items"]


class TemplateSerializer(serializers.ModelSerializer):
    domains = DomainSerializer(many=True)

    class Meta:
        model = AssessmentTemplate
        fields = ["id", "name", "description", "is_active", "domains"]


class AssessmentTemplateViewSet(SafeWritesMixin, viewsets.ReadOnlyModelViewSet):
    """Assessment instruments (configuration, no case data): readable by staff who assess."""

    serializer_class = TemplateSerializer
    queryset = AssessmentTemplate.objects.none()
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        if not access.can_open_case(self.request.user):
            return AssessmentTemplate.objects.none()
        return AssessmentTemplate.objects.prefetch_related("domains__items")


class AnswerSerializer(serializers.ModelSerializer):
    item = serializers.IntegerField(source="item_id")
    rating = serializers.IntegerField(min_value=0, max_value=3)

    class Meta:
        model = AssessmentAnswer
        fields = ["item", "rating", "evidence", "information_quality"]


class AssessmentSerializer(serializers.ModelSerializer):
    answers = AnswerSerializer(many=True)
    template = serializers.PrimaryKeyRelatedField(queryset=AssessmentTemplate.objects.filter(is_active=True))

    class Meta:
        model = Assessment
        fields = [
            "id",
            "case",
            "template",
            "assessed_on",
            "summary",
            "risk_band",
            "risk_score",
            "needs_profile",
            "answers",
            "recorded_by",
            "created_at",
        ]
        read_only_fields = ["id", "case", "risk_band", "risk_score", "needs_profile", "recorded_by", "created_at"]


class AssessmentViewSet(SafeWritesMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Structured assessments; the band and needs profile are derived, never sent."""

    serializer_class = AssessmentSerializer
    queryset = Assessment.objects.none()
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        rows = access.records_visible_to(self.request.user, "assessment").prefetch_related("answers")
        return _case_filter(self.request, rows) if self.action == "list" else rows

    @extend_schema(parameters=CASE_FILTER)
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def retrieve(self, request, *args, **kwargs):
        assessment = self.get_object()
        log_read(request, assessment.case, view="api-assessment-detail", groups=frozenset({access.G.ASSESSMENT}))
        return Response(self.get_serializer(assessment).data)

    def create(self, request, *args, **kwargs):
        case = case_in_scope(request, request.data.get("case") if hasattr(request.data, "get") else None)
        if not access.can_write_record(request.user, case, "assessment"):
            raise NotFound
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        answers = [{"item": a["item_id"], **{k: v for k, v in a.items() if k != "item_id"}} for a in data["answers"]]
        assessment = casefile_services.assessment_record(
            case=case,
            by=request.user,
            template=data["template"],
            assessed_on=data["assessed_on"],
            summary=data.get("summary", ""),
            answers=answers,
        )
        return Response(self.get_serializer(assessment).data, status=status.HTTP_201_CREATED)


# --- Attachments ---------------------------------------------------------------------------


class AttachmentSerializer(serializers.ModelSerializer):
    file = serializers.FileField(write_only=True)

    class Meta:
        model = Attachment
        fields = [
            "id",
            "case",
            "record_type",
            "record_id",
            "original_name",
            "content_type",
            "size",
            "description",
            "file",
            "recorded_by",
            "created_at",
        ]
        read_only_fields = ["id", "case", "original_name", "content_type", "size", "recorded_by", "created_at"]


class AttachmentViewSet(SafeWritesMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Files on a case or on one of its records; readable as the record they belong to."""

    serializer_class = AttachmentSerializer
    queryset = Attachment.objects.none()
    parser_classes = [parsers.MultiPartParser, parsers.FormParser]
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        rows = access.records_visible_to(self.request.user, "attachment")
        return _case_filter(self.request, rows) if self.action == "list" else rows

    @extend_schema(parameters=CASE_FILTER)
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def create(self, request, *args, **kwargs):
        case = case_in_scope(request, request.data.get("case"))
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        record_type = data.get("record_type") or "case"
        if record_type != "case" and record_type not in access.RECORD_RULES:
            raise serializers.ValidationError({"record_type": [_("Unknown record type.")]})
        record = None
        if record_type != "case":
            record = (
                access.records_visible_to(request.user, record_type).filter(pk=data.get("record_id"), case=case).first()
            )
            if record is None:
                raise serializers.ValidationError({"record_id": [_("No such record on this case.")]})
        if not access.can_attach(request.user, case, record_type, record):
            raise NotFound
        attachment = casefile_services.attachment_add(
            case=case,
            by=request.user,
            upload=data["file"],
            record_type=record_type,
            record_id=data.get("record_id"),
            description=data.get("description", ""),
        )
        return Response(self.get_serializer(attachment).data, status=status.HTTP_201_CREATED)

    # the file as uploaded: its own content type (PDF, image, ...), hence any media type
    @extend_schema(responses={(200, "*/*"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        return file_response(request, self.get_object(), view="api-attachment-download")


# --- Post-exit outcomes ---------------------------------------------------------------------


class OutcomeSerializer(serializers.ModelSerializer):
    class Meta:
        model = Outcome
        fields = [
            "id",
            "case",
            "kind",
            "episode",
            "due_on",
            "recorded_on",
            "education",
            "employment",
            "housing",
            "family",
            "legal_status",
            "reoffended",
            "relapse",
            "notes",
            "recorded_by",
            "updated_at",
        ]
        read_only_fields = fields

    def to_representation(self, outcome):
        data = super().to_representation(outcome)
        allowed = access.outcome_fields_for(self.context["request"].user)
        return data if allowed is None else {k: v for k, v in data.items() if k in allowed}


class OutcomeRecordSerializer(serializers.Serializer):
    recorded_on = serializers.DateField()
    education = serializers.CharField(required=False, allow_blank=True)
    employment = serializers.CharField(required=False, allow_blank=True)
    housing = serializers.CharField(required=False, allow_blank=True)
    family = serializers.CharField(required=False, allow_blank=True)
    legal_status = serializers.CharField(required=False, allow_blank=True)
    reoffended = serializers.BooleanField(required=False, allow_null=True)
    relapse = serializers.BooleanField(required=False, allow_null=True)
    notes = serializers.CharField(required=False, allow_blank=True)


class OutcomeViewSet(SafeWritesMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The exit snapshot and the post-exit follow-ups (6, 12, 24 months) of the cases visible to the caller.

    Placement officers on the team read the employment field only."""

    serializer_class = OutcomeSerializer
    queryset = Outcome.objects.none()
    conditional_actions = frozenset({"record"})
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        rows = access.records_visible_to(self.request.user, "outcome").select_related("case")
        return _case_filter(self.request, rows) if self.action == "list" else rows

    @extend_schema(parameters=CASE_FILTER)
    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        log_reads(request, [row.case_id for row in page], view="api-outcome-list", groups=frozenset({"outcomes"}))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        outcome = self.get_object()
        log_read(request, outcome.case, view="api-outcome-detail", groups=frozenset({"outcomes"}))
        return Response(self.get_serializer(outcome).data)

    @extend_schema(request=OutcomeRecordSerializer, responses=OutcomeSerializer)
    @action(detail=True, methods=["post"])
    def record(self, request, pk=None):
        """Fill in a post-exit follow-up."""
        outcome = self.get_object()
        if not access.can_write_record(request.user, outcome.case, "outcome", outcome):
            raise NotFound
        serializer = OutcomeRecordSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        recorded_on = data.pop("recorded_on")
        outcome = casefile_services.outcome_record(outcome=outcome, by=request.user, recorded_on=recorded_on, data=data)
        return Response(self.get_serializer(outcome).data)
