"""/api/v1/cases/, /api/v1/participants/ and the case team, through the one access policy."""

from __future__ import annotations

from collections.abc import Callable
from operator import itemgetter
from types import SimpleNamespace

from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from accounts.models import City, Organisation, User
from casemgmt import access, casefile_services, selectors, services, timeline
from casemgmt.access import G
from casemgmt.models import (
    LANGUAGES,
    Case,
    CaseTeamMember,
    CaseTransfer,
    ExitReason,
    ReferralSource,
    Stage,
    TeamRole,
)
from casemgmt.reads import log_read

from .conditional import SafeWritesMixin

# API fields per field group: the model fields of the policy, plus the lead's contact with the code.
# `id`, `participant_id`, `organisation` and `updated_at` are always there.
API_GROUP_FIELDS: dict[str, tuple[str, ...]] = {
    **{group: fields for group, fields in access.GROUP_FIELDS.items() if group != G.TEAM},
    G.CODE: ("case_code", "lead"),
}
ALWAYS = ("id", "participant_id", "organisation", "updated_at")


class LeadSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    email = serializers.EmailField()


class CaseSerializer(serializers.Serializer):
    """A case as one flat record. Fields outside the viewer's groups are left out, not nulled."""

    id = serializers.IntegerField(read_only=True)
    participant_id = serializers.IntegerField(read_only=True)
    organisation = serializers.CharField(source="organisation.name", read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)
    case_code = serializers.CharField(source="participant.case_code", read_only=True)
    lead = serializers.SerializerMethodField()
    given_name_latin = serializers.CharField(source="participant.given_name_latin", required=False)
    family_name_latin = serializers.CharField(source="participant.family_name_latin", required=False)
    given_name_arabic = serializers.CharField(source="participant.given_name_arabic", required=False)
    family_name_arabic = serializers.CharField(source="participant.family_name_arabic", required=False)
    city = serializers.SlugRelatedField(
        source="participant.city", slug_field="code", queryset=City.objects.all(), required=False
    )
    languages = serializers.ListField(
        source="participant.languages", child=serializers.ChoiceField(choices=LANGUAGES), required=False
    )
    date_of_birth = serializers.DateField(source="participant.date_of_birth", allow_null=True, required=False)
    national_id = serializers.CharField(source="participant.national_id", allow_blank=True, required=False)
    phone = serializers.CharField(source="participant.phone", allow_blank=True, required=False)
    email = serializers.EmailField(source="participant.email", allow_blank=True, required=False)
    address = serializers.CharField(source="participant.address", allow_blank=True, required=False)
    stage = serializers.ChoiceField(choices=Stage.choices, read_only=True)
    stage_changed_at = serializers.DateTimeField(read_only=True)
    referral_source = serializers.ChoiceField(choices=ReferralSource.choices, required=False)
    referral_date = serializers.DateField(required=False)
    referring_organisation = serializers.PrimaryKeyRelatedField(
        queryset=Organisation.objects.filter(is_active=True), allow_null=True, required=False
    )
    referral_reason = serializers.CharField(allow_blank=True, required=False)

    @extend_schema_field(LeadSerializer(allow_null=True))
    def get_lead(self, case) -> dict | None:
        if getattr(case, "lead_id", None) is None:
            return None
        return {"id": case.lead_id, "name": case.lead_name, "email": case.lead_email}

    def to_representation(self, case):
        data = super().to_representation(case)
        allowed = set(ALWAYS)
        for group in access.visible_groups(self.context["request"].user, case):
            allowed.update(API_GROUP_FIELDS.get(group, ()))
        return {name: value for name, value in data.items() if name in allowed}

    def validate_referral_date(self, value):
        if value > timezone.localdate():
            raise serializers.ValidationError(_("The referral date cannot be in the future."))
        return value

    def validate_date_of_birth(self, value):
        if value and value >= timezone.localdate():
            raise serializers.ValidationError(_("The date of birth must be in the past."))
        if value and value.year < 1900:
            raise serializers.ValidationError(_("Check the year of birth."))
        return value


_DATE = serializers.DateField()


def _date(value):
    return _DATE.to_representation(value) if value else None


# The list's fields: the columns (`values()` paths) each reads and how it is written from them.
_ROW_FIELDS: dict[str, tuple[tuple[str, ...], Callable]] = {
    "id": ((), itemgetter("pk")),
    "participant_id": ((), itemgetter("participant_id")),
    "organisation": (("organisation__name",), itemgetter("organisation__name")),
    "updated_at": (("updated_at",), itemgetter("updated_at")),  # written by case_rows (_DATETIME_FIELDS)
    "case_code": (("participant__case_code",), itemgetter("participant__case_code")),
    "lead": ((), itemgetter("lead_object")),
    **{
        name: ((f"participant__{name}",), itemgetter(f"participant__{name}"))
        for name in ("given_name_latin", "family_name_latin", "given_name_arabic", "family_name_arabic")
    },
    "city": (("participant__city__code",), itemgetter("participant__city__code")),
    "languages": (("participant__languages",), lambda row: list(row["participant__languages"])),
    "date_of_birth": (("participant__date_of_birth",), lambda row: _date(row["participant__date_of_birth"])),
    **{
        name: ((f"participant__{name}",), itemgetter(f"participant__{name}"))
        for name in ("national_id", "phone", "email", "address")
    },
    "stage": (("stage",), itemgetter("stage")),
    "stage_changed_at": (("stage_changed_at",), itemgetter("stage_changed_at")),
    "referral_source": (("referral_source",), itemgetter("referral_source")),
    "referral_date": (("referral_date",), lambda row: _date(row["referral_date"])),
    "referring_organisation": (("referring_organisation",), itemgetter("referring_organisation")),
    "referral_reason": (("referral_reason",), itemgetter("referral_reason")),
}
# written as DRF's DateTimeField writes them, in the current time zone asked for once per response
# (DRF asks for it per value: 100 values of the list took 0.8 ms instead of 0.2)
_DATETIME_FIELDS = ("updated_at", "stage_changed_at")


def _datetime(value, zone) -> str | None:
    """`serializers.DateTimeField().to_representation` (ISO 8601, `Z` for UTC) in `zone`."""
    if not value:
        return None
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


# what every row reads besides its fields' columns: its keys, its lead, how the viewer sees it
_ROW_KEYS = ("pk", "participant_id", "lead_object")
_VIEWER_KEYS = ("viewer_kind", "viewer_is_lead")


def _allowed_row_fields(groups) -> tuple[str, ...]:
    names = set(ALWAYS)
    for group in groups:
        names.update(API_GROUP_FIELDS.get(group, ()))
    return tuple(name for name in _ROW_FIELDS if name in names)


def case_list_columns(user) -> tuple[str, ...]:
    """The columns the API list reads for this user: those of the fields some case of theirs may show
    (`access.groups_visible_in_lists`); the rest is neither fetched nor decrypted."""
    names = _allowed_row_fields(access.groups_visible_in_lists(user))
    return tuple(column for name in names for column in _ROW_FIELDS[name][0])


def case_list_values(cases, user):
    """The list's queryset (`selectors.case_list`) as plain values: the columns of `case_list_columns`,
    the row's keys and lead, and the viewer annotations of the access policy. Values, not models:
    building 4 model instances per row was half of the API list's Python time. Encrypted columns
    come out decrypted (their field's `from_db_value`), as on a model."""
    viewer = tuple(key for key in _VIEWER_KEYS if key in cases.query.annotations)
    return cases.values(*_ROW_KEYS, *viewer, *case_list_columns(user))


def case_rows(rows, user) -> list[dict]:
    """The case list's rows (from `case_list_values`), exactly as `CaseSerializer` writes them, without
    DRF's per-field machinery.

    DRF spent ~70% of the API case list's time walking 20 fields for 50 rows; this builds the same
    dicts directly, reading only the fields the row shows (the list loads no others: case_list_columns).
    `tests/casemgmt/test_case_api.py` holds both equal for every role and field group.
    """
    fields_by_kind: dict[tuple, tuple] = {}
    zone = timezone.get_current_timezone()
    out = []
    for row in rows:
        key = (row.get("viewer_kind"), row.get("viewer_is_lead", False))
        fields = fields_by_kind.get(key)
        if fields is None:
            seen_as = SimpleNamespace(pk=row["pk"], viewer_kind=key[0], viewer_is_lead=key[1])
            names = _allowed_row_fields(access.visible_groups(user, seen_as))
            fields = fields_by_kind[key] = tuple((name, _ROW_FIELDS[name][1]) for name in names)
        written = {name: write(row) for name, write in fields}
        for name in _DATETIME_FIELDS:
            if name in written:
                written[name] = _datetime(written[name], zone)
        out.append(written)
    return out


class CaseCreateSerializer(CaseSerializer):
    given_name_latin = serializers.CharField(source="participant.given_name_latin", max_length=100)
    family_name_latin = serializers.CharField(source="participant.family_name_latin", max_length=100)
    city = serializers.SlugRelatedField(source="participant.city", slug_field="code", queryset=City.objects.all())
    referral_source = serializers.ChoiceField(choices=ReferralSource.choices)
    referral_date = serializers.DateField()


class TransitionSerializer(serializers.Serializer):
    to_stage = serializers.ChoiceField(choices=Stage.choices)
    reason = serializers.CharField(max_length=2000)


class ReopenSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class OutcomeInSerializer(serializers.Serializer):
    education = serializers.CharField(required=False, allow_blank=True)
    employment = serializers.CharField(required=False, allow_blank=True)
    housing = serializers.CharField(required=False, allow_blank=True)
    family = serializers.CharField(required=False, allow_blank=True)
    legal_status = serializers.CharField(required=False, allow_blank=True)
    notes = serializers.CharField(required=False, allow_blank=True)


class ExitSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=ExitReason.choices)
    exited_on = serializers.DateField()
    outcome = OutcomeInSerializer(required=False, default=dict)


class TimelineEventSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    kind = serializers.CharField()
    title = serializers.CharField()
    detail = serializers.CharField()


class TimelinePageSerializer(serializers.Serializer):
    """One page of the timeline (page numbers, not cursors: the events come from several tables)."""

    results = TimelineEventSerializer(many=True)
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)


class TransferRequestSerializer(serializers.Serializer):
    to_organisation = serializers.PrimaryKeyRelatedField(queryset=Organisation.objects.filter(kind="ngo"))
    consent = serializers.IntegerField(min_value=1)
    reason = serializers.CharField(max_length=2000)


class TransferSerializer(serializers.ModelSerializer):
    class Meta:
        model = CaseTransfer
        fields = [
            "id",
            "case",
            "case_code",
            "from_organisation",
            "to_organisation",
            "reason",
            "status",
            "requested_at",
            "decided_at",
            "decision_reason",
        ]
        read_only_fields = fields

    def to_representation(self, transfer):
        data = super().to_representation(transfer)
        user = self.context["request"].user
        if (
            transfer.status != CaseTransfer.Status.ACCEPTED
            and transfer.from_organisation_id != user.membership.organisation_id
        ):
            # until it takes the case over, the receiving NGO learns the case code, nothing of the file
            return {k: v for k, v in data.items() if k in RECEIVER_SEES_BEFORE_ACCEPTING}
        return data


RECEIVER_SEES_BEFORE_ACCEPTING = {
    "id",
    "case_code",
    "from_organisation",
    "to_organisation",
    "status",
    "requested_at",
    "decided_at",
    "decision_reason",
}


class DecisionSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class TransferViewSet(SafeWritesMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Transfers the caller's organisation sent or received (managers). The receiver sees the case code
    only until it accepts."""

    serializer_class = TransferSerializer
    queryset = CaseTransfer.objects.none()
    conditional_actions = frozenset({"accept", "refuse"})
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return access.transfers_visible_to(self.request.user)

    def _decide(self, request, *, accept: bool):
        transfer = self.get_object()
        if not access.can_decide_transfer(request.user, transfer):
            raise NotFound
        serializer = DecisionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        transfer = casefile_services.transfer_decide(
            transfer=transfer, by=request.user, accept=accept, reason=serializer.validated_data.get("reason", "")
        )
        return Response(TransferSerializer(transfer, context={"request": request}).data)

    @extend_schema(request=DecisionSerializer, responses=TransferSerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        """Take the case over: it keeps its code and history; assign a lead next."""
        return self._decide(request, accept=True)

    @extend_schema(request=DecisionSerializer, responses=TransferSerializer)
    @action(detail=True, methods=["post"])
    def refuse(self, request, pk=None):
        """Refuse, with a reason."""
        return self._decide(request, accept=False)


class CaseFilterSerializer(serializers.Serializer):
    search = serializers.CharField(required=False, allow_blank=True, max_length=100)
    stage = serializers.ChoiceField(choices=Stage.choices, required=False)
    city = serializers.SlugRelatedField(slug_field="code", queryset=City.objects.all(), required=False)
    referral_source = serializers.ChoiceField(choices=ReferralSource.choices, required=False)
    lead = serializers.IntegerField(required=False, min_value=1)
    risk_band = serializers.ChoiceField(choices=["low", "medium", "high"], required=False)
    overdue = serializers.BooleanField(required=False, default=False)


class TeamMemberSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="user.get_full_name", read_only=True)
    user = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True))
    role = serializers.ChoiceField(choices=TeamRole.choices)

    class Meta:
        model = CaseTeamMember
        fields = ["id", "user", "name", "role", "is_lead", "added_at"]
        read_only_fields = ["id", "name", "added_at"]


def _split_changes(validated: dict) -> dict:
    """Flatten {"participant": {...}, ...} into the service's field names."""
    changes = dict(validated.pop("participant", {}))
    changes.update(validated)
    return changes


def _editable_api_fields(user, case) -> set[str]:
    return {name for group in access.editable_groups(user, case) for name in API_GROUP_FIELDS[group]}


FILTER_PARAMETERS = [
    OpenApiParameter(
        "search", str, description="Case code or part of a name, in either script; or an exact national ID"
    ),
    OpenApiParameter("stage", str, enum=Stage.values),
    OpenApiParameter("city", str, description="City code, e.g. TNG"),
    OpenApiParameter("referral_source", str, enum=ReferralSource.values),
    OpenApiParameter("lead", int, description="User id of the lead caseworker"),
    OpenApiParameter("risk_band", str, enum=["low", "medium", "high"], description="Band of the latest assessment"),
    OpenApiParameter("overdue", bool, description="Only cases with a follow-up past its due date"),
]


class CaseViewSet(
    SafeWritesMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Cases visible to the caller. Field sets follow the caller's role on each case."""

    etag_related = ("participant",)
    conditional_actions = frozenset({"transition", "reopen", "exit", "close"})
    unconditional_actions = frozenset({"team_remove"})  # a team row has no representation (no ETag) of its own

    serializer_class = CaseSerializer
    queryset = Case.objects.none()  # typed path parameters for the schema; rows come from get_queryset

    def get_queryset(self):
        params = {}
        if self.action == "list":
            filters = CaseFilterSerializer(data=self.request.query_params)
            filters.is_valid(raise_exception=True)
            params = filters.validated_data
            allowed = access.allowed_list_filters(self.request.user)
            for name in ("referral_source", "risk_band"):
                if name in params and name not in allowed:
                    raise serializers.ValidationError({name: [_("You may not filter by this field.")]})
            if "referral_source" in params and "referral_source" not in allowed:
                raise serializers.ValidationError({"referral_source": [_("You may not filter by this field.")]})
        return selectors.case_list(
            user=self.request.user,
            query=params.get("search", ""),
            stage=params.get("stage", ""),
            city=params["city"].code if params.get("city") else "",
            referral_source=params.get("referral_source", ""),
            lead=params.get("lead"),
            risk_band=params.get("risk_band", ""),
            overdue=params.get("overdue", False),
            columns=case_list_columns(self.request.user) if self.action == "list" else None,
            # the list writes the lead from one JSON subquery (case_rows), the other actions from three
            lead_columns=("object",) if self.action == "list" else ("id", "name", "email"),
        )

    def get_serializer_class(self):
        return CaseCreateSerializer if self.action == "create" else CaseSerializer

    @extend_schema(parameters=FILTER_PARAMETERS)
    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(case_list_values(self.get_queryset(), request.user))
        return self.get_paginated_response(case_rows(page, request.user))

    def retrieve(self, request, *args, **kwargs):
        case = self.get_object()
        log_read(request, case, view="api-case-detail")
        return Response(self.get_serializer(case).data)

    def create(self, request, *args, **kwargs):
        if not access.can_open_case(request.user):
            raise NotFound
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        participant = data.pop("participant")
        case = services.case_open(
            by=request.user,
            organisation=request.user.membership.organisation,
            participant=participant,
            lead=request.user if request.user.role == "caseworker" else None,
            **data,
        )
        response = self._fresh(case, view="api-case-create")
        response.status_code = status.HTTP_201_CREATED
        return response

    @extend_schema(request=CaseSerializer, responses=CaseSerializer)
    def partial_update(self, request, *args, **kwargs):
        case = self.get_object()
        editable = _editable_api_fields(request.user, case)
        if not editable:
            raise NotFound
        if not isinstance(request.data, dict):
            raise serializers.ValidationError({"non_field_errors": [_("Send a JSON object.")]})
        forbidden = set(request.data) - editable
        if forbidden:
            raise serializers.ValidationError({name: [_("You may not change this field.")] for name in forbidden})
        serializer = CaseSerializer(case, data=request.data, partial=True, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        services.case_profile_update(
            case=case, by=request.user, changes=_split_changes(dict(serializer.validated_data))
        )
        return self._fresh(case, view="api-case-update")

    def _fresh(self, case, *, view: str) -> Response:
        """The case as it is now, re-read through the policy with its annotations; a read, so logged."""
        case = self.get_queryset().get(pk=case.pk)
        log_read(self.request, case, view=view)
        return Response(CaseSerializer(case, context=self.get_serializer_context()).data)

    def _stage_action(self, request, serializer_class, apply) -> Response:
        case = self.get_object()
        if not access.can_move_stage(request.user, case):
            raise NotFound
        serializer = serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        apply(case=case, by=request.user, **serializer.validated_data)
        return self._fresh(case, view=f"api-case-{self.action}")

    @extend_schema(request=TransitionSerializer, responses=CaseSerializer)
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        """Move the case one step along the lifecycle (lead or manager)."""
        return self._stage_action(request, TransitionSerializer, services.case_move_stage)

    @extend_schema(request=ReopenSerializer, responses=CaseSerializer)
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        """Re-open an exited or closed case (lead or manager)."""
        return self._stage_action(request, ReopenSerializer, services.case_reopen)

    @extend_schema(request=ExitSerializer, responses=CaseSerializer)
    @action(detail=True, methods=["post"])
    def exit(self, request, pk=None):
        """Record the exit with its outcome snapshot; follow-ups fall due at 6, 12 and 24 months."""
        return self._stage_action(request, ExitSerializer, casefile_services.case_exit)

    @extend_schema(request=ReopenSerializer, responses=CaseSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        """Close an exited case (after its follow-ups, or earlier by a manager); it becomes read-only."""
        return self._stage_action(request, ReopenSerializer, casefile_services.case_close)

    @extend_schema(request=TransferRequestSerializer, responses={201: TransferSerializer})
    @action(detail=True, methods=["post"])
    def transfer(self, request, pk=None):
        """Ask another NGO to take the case over (lead or manager), with the participant's consent."""
        case = self.get_object()
        if not access.can_request_transfer(request.user, case):
            raise NotFound
        serializer = TransferRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        consent = (
            access.records_visible_to(request.user, "consent")
            .filter(pk=serializer.validated_data["consent"], case=case)
            .first()
        )
        if consent is None:
            raise serializers.ValidationError({"consent": [_("No such consent on this case.")]})
        transfer = casefile_services.transfer_request(
            case=case,
            by=request.user,
            to_organisation=serializer.validated_data["to_organisation"],
            consent=consent,
            reason=serializer.validated_data["reason"],
        )
        return Response(TransferSerializer(transfer, context={"request": request}).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[OpenApiParameter("page", int, description="Page number, newest first")],
        responses=TimelinePageSerializer,
    )
    @action(detail=True, methods=["get"], pagination_class=None)
    def timeline(self, request, pk=None):
        """Everything that happened on the case, newest first, filtered by what the caller may see."""
        case = self.get_object()
        page = request.query_params.get("page", "1")
        if not page.isdecimal() or not 1 <= int(page) <= 10_000:
            raise serializers.ValidationError({"page": [_("A page number from 1.")]})
        page, size = int(page), 50
        events = timeline.case_timeline(request.user, case, offset=(page - 1) * size, limit=size + 1)
        log_read(request, case, view="api-case-timeline")
        base = request.build_absolute_uri(request.path)
        return Response(
            {
                "results": TimelineEventSerializer(events[:size], many=True).data,
                "next": f"{base}?page={page + 1}" if len(events) > size else None,
                "previous": f"{base}?page={page - 1}" if page > 1 else None,
            }
        )

    @extend_schema(responses=TeamMemberSerializer(many=True), methods=["GET"])
    @extend_schema(request=TeamMemberSerializer, responses={201: TeamMemberSerializer}, methods=["POST"])
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def team(self, request, pk=None):
        """The case team; the lead or a manager adds members."""
        case = self.get_object()
        if G.TEAM not in access.visible_groups(request.user, case):
            raise NotFound
        if request.method == "GET":
            return Response(TeamMemberSerializer(selectors.case_team(case), many=True).data)
        if not access.can_manage_team(request.user, case):
            raise NotFound
        serializer = TeamMemberSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if access.team_candidate_in_role(request.user, case, data["user"].pk, data["role"]) is None:
            raise serializers.ValidationError({"user": [_("Not a valid choice for this case team.")]})
        if data.get("is_lead"):
            member = services.team_set_lead(case=case, by=request.user, user=data["user"])
        else:
            member = services.team_member_add(case=case, by=request.user, user=data["user"], role=data["role"])
        return Response(TeamMemberSerializer(member).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["delete"], url_path=r"team/(?P<member_id>\d+)")
    def team_remove(self, request, pk=None, member_id=None):
        case = self.get_object()
        if not access.can_manage_team(request.user, case):
            raise NotFound
        member = get_object_or_404(CaseTeamMember.objects.select_related("case"), pk=member_id, case=case)
        services.team_member_remove(member=member, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


PARTICIPANT_FIELDS = (
    "case_code",
    *API_GROUP_FIELDS[G.NAMES],
    *API_GROUP_FIELDS[G.LANGUAGES],
    *API_GROUP_FIELDS[G.IDENTITY],
    *API_GROUP_FIELDS[G.CONTACT],
)


class ParticipantSerializer(CaseSerializer):
    """The participant part of a case, with the same field rules."""

    id = serializers.IntegerField(source="participant_id", read_only=True)
    case_id = serializers.IntegerField(source="pk", read_only=True)

    def get_fields(self):
        # only the participant's fields: the schema and the answer list the same keys
        keep = {"id", "case_id", *PARTICIPANT_FIELDS}
        return {name: field for name, field in super().get_fields().items() if name in keep}

    def to_representation(self, case):
        data = super().to_representation(case)
        data["id"], data["case_id"] = case.participant_id, case.pk
        return {k: v for k, v in data.items() if k in {"id", "case_id", *PARTICIPANT_FIELDS}}


class ParticipantViewSet(SafeWritesMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Participants of the cases visible to the caller; edits go through PATCH /cases/{id}/."""

    lookup_value_regex = r"\d+"
    serializer_class = ParticipantSerializer
    etag_from_content = True  # its `pk` names a participant, its rows are cases: the tag of what is shown
    queryset = Case.objects.none()

    def get_queryset(self):
        return selectors.case_list(user=self.request.user)

    def get_object(self):
        return access.get_case_of_participant_for_user(self.request.user, int(self.kwargs["pk"]), self.get_queryset())

    def retrieve(self, request, *args, **kwargs):
        case = self.get_object()
        log_read(request, case, view="api-participant-detail")
        return Response(self.get_serializer(case).data)
