"""Family endpoints: /households/, /family-members/, /engagements/, /counselling-sessions/.

Same conventions as the core API: querysets from the access module (out of scope: 404), cursor
pagination, problem details, explicit serializer fields. Confidential notes appear in one serializer
only, used for the counsellors of the session's own engagement.
"""

from __future__ import annotations

from django.db.models import Count, Prefetch
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from accounts.models import Role
from casemgmt import access
from casemgmt.access import G
from casemgmt.api.casefile import case_in_scope
from casemgmt.api.params import query_choice, query_int
from casemgmt.reads import log_read, log_reads

from . import access as fa
from . import services
from .models import (
    LOGGED_SESSION_STATUSES,
    PLANNABLE_SESSION_KINDS,
    CounsellingSession,
    Engagement,
    EngagementKind,
    FamilyMember,
    Household,
    HouseholdMember,
    SessionKind,
    SessionStatus,
)

GROUPS = frozenset({G.FAMILY})


# --- Households and members -----------------------------------------------------------------


class LinkSerializer(serializers.ModelSerializer):
    class Meta:
        model = HouseholdMember
        fields = ["member", "relation", "lives_with_participant"]
        read_only_fields = fields


class HouseholdSerializer(serializers.ModelSerializer):
    """The household, its member count, and the links the caller may read (none without a basis)."""

    member_count = serializers.IntegerField(read_only=True)
    address = serializers.SerializerMethodField()
    situation = serializers.SerializerMethodField()
    members = serializers.SerializerMethodField()

    def get_address(self, household) -> str:
        """Blank for a counsellor without the participant's family-contact consent."""
        return household.address if household.case_id in self.context.get("details", ()) else ""

    def get_situation(self, household) -> str:
        return household.situation if household.case_id in self.context.get("details", ()) else ""

    class Meta:
        model = Household
        fields = ["id", "case", "address", "situation", "member_count", "members"]
        read_only_fields = fields

    @extend_schema_field(LinkSerializer(many=True))
    def get_members(self, household) -> list[dict]:
        links = self.context.get("links", {}).get(household.case_id, [])
        return LinkSerializer(links, many=True).data


class HouseholdViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Households of the caller's cases: caseworkers on the team, managers, counsellors holding an
    engagement (who see the member count, and the members only on a family-contact basis)."""

    queryset = Household.objects.none()
    serializer_class = HouseholdSerializer
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no caller
            return Household.objects.none()
        rows = fa.households_visible_to(self.request.user).annotate(member_count=Count("links")).order_by("pk")
        case_id = query_int(self.request, "case") if self.action == "list" else None
        return rows.filter(case_id=case_id) if case_id is not None else rows

    def _context(self, households) -> dict:
        links: dict[int, list] = {}
        rows = fa.links_visible_to(self.request.user).filter(case_id__in=[h.case_id for h in households])
        for link in rows.order_by("pk"):
            links.setdefault(link.case_id, []).append(link)
        details = fa.cases_with_household_details(self.request.user, [h.case_id for h in households])
        return {**self.get_serializer_context(), "links": links, "details": details}

    @extend_schema(parameters=[OpenApiParameter("case", int, description="Only this case")])
    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        log_reads(request, [h.case_id for h in page], view="api-household-list", groups=GROUPS)
        return self.get_paginated_response(HouseholdSerializer(page, many=True, context=self._context(page)).data)

    def retrieve(self, request, *args, **kwargs):
        household = self.get_object()
        log_read(request, household.case, view="api-household-detail", groups=GROUPS)
        return Response(HouseholdSerializer(household, context=self._context([household])).data)


class FamilyMemberSerializer(serializers.ModelSerializer):
    class Meta:
        model = FamilyMember
        fields = [
            "id",
            "given_name",
            "family_name",
            "name_arabic",
            "date_of_birth",
            "age",
            "is_minor",
            "phone",
            "contact_note",
            "language",
            "vulnerabilities",
            "vulnerability_note",
            "own_consent_given_on",
            "own_consent_expires_on",
            "own_consent_withdrawn_on",
        ]
        read_only_fields = ["id"]


class NewFamilyMemberSerializer(FamilyMemberSerializer):
    """A new relative, or (`existing_member`) one the caller already reads on another of the
    organisation's cases, linked to this household too (siblings)."""

    case = serializers.IntegerField(min_value=1, write_only=True)
    existing_member = serializers.IntegerField(min_value=1, write_only=True, required=False)
    relation = serializers.ChoiceField(choices=HouseholdMember._meta.get_field("relation").choices, write_only=True)
    lives_with_participant = serializers.BooleanField(default=False, write_only=True)

    class Meta(FamilyMemberSerializer.Meta):
        fields = [*FamilyMemberSerializer.Meta.fields, "case", "relation", "lives_with_participant", "existing_member"]
        extra_kwargs = {"given_name": {"required": False}, "family_name": {"required": False}}

    def validate(self, attrs):
        if "existing_member" not in attrs:
            for name in ("given_name", "family_name"):
                if not attrs.get(name):
                    raise serializers.ValidationError({name: [_("This field is required.")]})
        return attrs


class FamilyMemberViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Relatives whose details the caller may read (`?case=` for one household). POST adds one to a
    case's household (caseworkers on the team; a counsellor on the participant's consent)."""

    queryset = FamilyMember.objects.none()
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no caller
            return FamilyMember.objects.none()
        rows = fa.members_visible_to(self.request.user).order_by("pk")
        if self.action == "list":
            case_id = query_int(self.request, "case")
            if case_id is not None:
                rows = rows.filter(
                    pk__in=fa.links_visible_to(self.request.user).filter(case_id=case_id).values("member_id")
                )
        return rows

    def get_serializer_class(self):
        return NewFamilyMemberSerializer if self.action == "create" else FamilyMemberSerializer

    @extend_schema(parameters=[OpenApiParameter("case", int, description="Only this case's household")])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=NewFamilyMemberSerializer, responses={201: FamilyMemberSerializer})
    def create(self, request, *args, **kwargs):
        body = NewFamilyMemberSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        case = case_in_scope(request, data.pop("case"))
        if not fa.can_add_members(request.user, case):
            raise NotFound
        existing = data.pop("existing_member", None)
        member = None
        if existing is not None:
            member = fa.linkable_members(request.user, case).filter(pk=existing).first()
            if member is None:
                raise serializers.ValidationError({"existing_member": [_("No such relative.")]})
        link = services.member_add(
            case=case,
            by=request.user,
            relation=data.pop("relation"),
            lives_with_participant=data.pop("lives_with_participant"),
            data=None if member else data,
            member=member,
        )
        return Response(FamilyMemberSerializer(link.member).data, status=status.HTTP_201_CREATED)


# --- Engagements ----------------------------------------------------------------------------


class EngagementSerializer(serializers.ModelSerializer):
    members = serializers.SerializerMethodField()
    counsellors = serializers.SerializerMethodField()

    class Meta:
        model = Engagement
        fields = [
            "id",
            "case",
            "kind",
            "status",
            "members",
            "counsellors",
            "step_plan",
            "started_on",
            "ended_on",
            "end_reason",
        ]
        read_only_fields = fields

    def get_members(self, engagement) -> list[int]:
        """Only the members the caller may read (a counsellor without a basis: none)."""
        visible = self.context.get("visible_members", set())
        return [m.pk for m in engagement.members.all() if m.pk in visible]

    def get_counsellors(self, engagement) -> list[int]:
        return [a.counsellor_id for a in engagement.assignments.all()]


class NewEngagementSerializer(serializers.Serializer):
    case = serializers.IntegerField(min_value=1)
    kind = serializers.ChoiceField(choices=EngagementKind.choices)
    members = serializers.ListField(child=serializers.IntegerField(min_value=1), allow_empty=False)
    counsellors = serializers.ListField(child=serializers.IntegerField(min_value=1), allow_empty=False)
    step_plan = serializers.CharField(required=False, default="", allow_blank=True, max_length=4000)
    started_on = serializers.DateField(required=False, allow_null=True, default=None)


class EngagementEndSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, default="", allow_blank=True, max_length=2000)


class EngagementViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Engagements of the caller's cases (caseworkers on the team, managers) or their own (counsellors).
    POST opens one (the lead, a caseworker on the team, a manager); `end` ends it."""

    queryset = Engagement.objects.none()
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no caller
            return Engagement.objects.none()
        rows = fa.engagements_visible_to(self.request.user).prefetch_related("members", "assignments").order_by("pk")
        if self.action == "list":
            case_id = query_int(self.request, "case")
            if case_id is not None:
                rows = rows.filter(case_id=case_id)
        return rows

    def get_serializer_class(self):
        return NewEngagementSerializer if self.action == "create" else EngagementSerializer

    def _context(self, engagements) -> dict:
        """The members the caller may read on these engagements' cases (one query)."""
        links = fa.links_visible_to(self.request.user).filter(case_id__in={e.case_id for e in engagements})
        return {**self.get_serializer_context(), "visible_members": set(links.values_list("member_id", flat=True))}

    @extend_schema(parameters=[OpenApiParameter("case", int, description="Only this case")])
    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        log_reads(request, [e.case_id for e in page], view="api-engagement-list", groups=GROUPS)
        return self.get_paginated_response(EngagementSerializer(page, many=True, context=self._context(page)).data)

    def retrieve(self, request, *args, **kwargs):
        engagement = self.get_object()
        log_read(request, engagement.case, view="api-engagement-detail", groups=GROUPS)
        return Response(EngagementSerializer(engagement, context=self._context([engagement])).data)

    @extend_schema(request=NewEngagementSerializer, responses={201: EngagementSerializer})
    def create(self, request, *args, **kwargs):
        body = NewEngagementSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        case = case_in_scope(request, data["case"])
        if not fa.can_create_engagement(request.user, case):
            raise NotFound
        members = list(FamilyMember.objects.filter(pk__in=data["members"], links__case=case).distinct())
        if len(members) != len(set(data["members"])):
            raise serializers.ValidationError({"members": [_("Choose members of this participant's household.")]})
        counsellors = list(fa.counsellor_candidates(case).filter(pk__in=data["counsellors"]))
        if len(counsellors) != len(set(data["counsellors"])):
            raise serializers.ValidationError({"counsellors": [_("Counsellors come from the case's organisation.")]})
        engagement = services.engagement_create(
            case=case,
            by=request.user,
            kind=data["kind"],
            members=members,
            counsellors=counsellors,
            step_plan=data["step_plan"],
            started_on=data["started_on"],
        )
        engagement = self.get_queryset().get(pk=engagement.pk)
        return Response(
            EngagementSerializer(engagement, context=self._context([engagement])).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(request=EngagementEndSerializer, responses=EngagementSerializer)
    @action(detail=True, methods=["post"])
    def end(self, request, pk=None):
        """End an open engagement (reason required): planned sessions are cancelled and counsellors
        without another open engagement on the case leave its team."""
        engagement = self.get_object()
        case = access.get_case_for_user(request.user, engagement.case_id)
        if not fa.can_end_engagement(request.user, engagement, case):
            raise serializers.ValidationError({"status": [_("This step is not yours to take, or no longer possible.")]})
        body = EngagementEndSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        engagement = services.engagement_end(
            engagement=engagement, by=request.user, reason=body.validated_data["reason"]
        )
        engagement = Engagement.objects.prefetch_related("members", "assignments").get(pk=engagement.pk)
        return Response(EngagementSerializer(engagement, context=self._context([engagement])).data)


# --- Sessions -------------------------------------------------------------------------------


class CounsellingSessionSerializer(serializers.ModelSerializer):
    """What caseworkers and managers read: no confidential notes; attendees the caller may read."""

    attendees = serializers.SerializerMethodField()
    group_title = serializers.CharField(source="group_session.title", read_only=True, default=None)

    class Meta:
        model = CounsellingSession
        fields = [
            "id",
            "case",
            "engagement",
            "kind",
            "starts_at",
            "duration_minutes",
            "status",
            "attendees",
            "summary",
            "group_title",
            "logged_at",
        ]
        read_only_fields = fields

    def get_attendees(self, session) -> list[int]:
        visible = self.context.get("visible_members", set())
        return [m.pk for m in session.attendees.all() if m.pk in visible]


class OwnCounsellingSessionSerializer(CounsellingSessionSerializer):
    """The engagement's own counsellors: with the confidential notes."""

    confidential_notes = serializers.SerializerMethodField()

    class Meta(CounsellingSessionSerializer.Meta):
        fields = [*CounsellingSessionSerializer.Meta.fields, "confidential_notes"]
        read_only_fields = fields

    def get_confidential_notes(self, session) -> str:
        return self.context.get("notes", {}).get(session.pk, "")


class CounsellingSessionPlanSerializer(serializers.Serializer):
    engagement = serializers.IntegerField(min_value=1)
    starts_at = serializers.DateTimeField()
    kind = serializers.ChoiceField(choices=PLANNABLE_SESSION_KINDS)


class CounsellingSessionLogSerializer(serializers.Serializer):
    starts_at = serializers.DateTimeField(required=False)
    kind = serializers.ChoiceField(choices=SessionKind.choices, required=False)
    status = serializers.ChoiceField(choices=LOGGED_SESSION_STATUSES)
    duration_minutes = serializers.IntegerField(required=False, allow_null=True, min_value=5, max_value=600)
    attendees = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, default=None)
    summary = serializers.CharField(required=False, allow_blank=True, max_length=4000)
    confidential_notes = serializers.CharField(required=False, allow_blank=True, max_length=8000, default=None)


class CounsellingSessionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Sessions of the caller's cases (caseworkers, managers) or of their own engagements (counsellors).

    POST plans a session (a counsellor of the open engagement); `log` records how it went."""

    queryset = CounsellingSession.objects.none()
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no caller
            return CounsellingSession.objects.none()
        rows = (
            fa.sessions_visible_to(self.request.user)
            .select_related("group_session")
            .prefetch_related(Prefetch("attendees", queryset=FamilyMember.objects.only("pk")))
            .order_by("-starts_at", "-pk")
        )
        if self.action == "list":
            case_id = query_int(self.request, "case")
            if case_id is not None:
                rows = rows.filter(case_id=case_id)
            engagement_id = query_int(self.request, "engagement")
            if engagement_id is not None:
                rows = rows.filter(engagement_id=engagement_id)
            wanted = query_choice(self.request, "status", SessionStatus.values)
            if wanted is not None:
                rows = rows.filter(status=wanted)
        return rows

    def get_serializer_class(self):
        if getattr(self, "swagger_fake_view", False):
            return CounsellingSessionSerializer
        return (
            OwnCounsellingSessionSerializer
            if self.request.user.role == Role.COUNSELLOR
            else CounsellingSessionSerializer
        )

    def _context(self, sessions) -> dict:
        user = self.request.user
        links = fa.links_visible_to(user).filter(case_id__in={s.case_id for s in sessions})
        visible = set(links.values_list("member_id", flat=True))
        notes = fa.confidential_notes_for(user, [s.pk for s in sessions]) if user.role == Role.COUNSELLOR else {}
        return {**self.get_serializer_context(), "visible_members": visible, "notes": notes}

    def _serializer(self, sessions, many=False):
        rows = sessions if many else [sessions]
        return self.get_serializer_class()(sessions, many=many, context=self._context(rows))

    @extend_schema(
        parameters=[
            OpenApiParameter("case", int, description="Only this case"),
            OpenApiParameter("engagement", int, description="Only this engagement"),
            OpenApiParameter("status", str, enum=list(SessionStatus.values)),
        ]
    )
    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        log_reads(request, [s.case_id for s in page], view="api-counselling-session-list", groups=GROUPS)
        return self.get_paginated_response(self._serializer(page, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        session = self.get_object()
        log_read(request, session.case, view="api-counselling-session-detail", groups=GROUPS)
        return Response(self._serializer(session).data)

    def _my_engagement(self, pk: int) -> Engagement:
        engagement = fa.engagements_visible_to(self.request.user).filter(pk=pk).select_related("case").first()
        case = access.cases_visible_to(self.request.user).filter(pk=engagement.case_id).first() if engagement else None
        if case is None or not fa.can_write_sessions(self.request.user, engagement, case):
            raise serializers.ValidationError({"engagement": [_("Not an open engagement of yours.")]})
        return engagement

    @extend_schema(request=CounsellingSessionPlanSerializer, responses={201: OwnCounsellingSessionSerializer})
    def create(self, request, *args, **kwargs):
        body = CounsellingSessionPlanSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        engagement = self._my_engagement(body.validated_data["engagement"])
        session = services.session_plan(
            engagement=engagement,
            by=request.user,
            starts_at=body.validated_data["starts_at"],
            kind=body.validated_data["kind"],
        )
        return Response(self._serializer(self.get_queryset().get(pk=session.pk)).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=CounsellingSessionLogSerializer, responses=OwnCounsellingSessionSerializer)
    @action(detail=True, methods=["post"])
    def log(self, request, pk=None):
        """Record how a session went (a counsellor of its open engagement)."""
        session = self.get_object()
        case = access.cases_visible_to(request.user).filter(pk=session.case_id).first()
        if case is None or not fa.can_write_sessions(request.user, session.engagement, case):
            raise NotFound
        body = CounsellingSessionLogSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        notes, wanted = data.pop("confidential_notes"), data.pop("attendees")
        attendees = None
        if wanted is not None:
            # only relatives the caller may read: a hidden one reads like a missing one
            readable = fa.links_visible_to(request.user).filter(case_id=session.case_id).values("member_id")
            attendees = list(session.engagement.members.filter(pk__in=wanted).filter(pk__in=readable))
            if len(attendees) != len(set(wanted)):
                raise serializers.ValidationError({"attendees": [_("Attendees are members of this engagement.")]})
        services.session_log(by=request.user, data=data, attendees=attendees, confidential_notes=notes, session=session)
        return Response(self._serializer(self.get_queryset().get(pk=session.pk)).data)


def register(router) -> None:
    """Add this module's viewsets to the API router."""
    router.register("households", HouseholdViewSet, basename="api-household")
    router.register("family-members", FamilyMemberViewSet, basename="api-family-member")
    router.register("engagements", EngagementViewSet, basename="api-engagement")
    router.register("counselling-sessions", CounsellingSessionViewSet, basename="api-counselling-session")
