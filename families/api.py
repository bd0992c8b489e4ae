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

from accounts.models import Role, User
from casemgmt import access
from casemgmt.access import G
from casemgmt.api.casefile import case_in_scope
from casemgmt.api.conditional import SafeWritesMixin
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
    ReferralStatus,
    SessionKind,
    SessionStatus,
    SupportReferral,
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


class HouseholdViewSet(SafeWritesMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
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
    engagements = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        write_only=True,
        required=False,
        default=list,
        help_text="Open engagements of the caller on this case the relative joins at once.",
    )

    class Meta(FamilyMemberSerializer.Meta):
        fields = [
            *FamilyMemberSerializer.Meta.fields,
            "case",
            "relation",
            "lives_with_participant",
            "existing_member",
            "engagements",
        ]
        extra_kwargs = {"given_name": {"required": False}, "family_name": {"required": False}}

    def validate(self, attrs):
        if "existing_member" not in attrs:
            for name in ("given_name", "family_name"):
                if not attrs.get(name):
                    raise serializers.ValidationError({name: [_("This field is required.")]})
        return attrs


class FamilyMemberUpdateSerializer(FamilyMemberSerializer):
    """What a counsellor changes on a relative: not the own-consent dates (the caseworkers')."""

    class Meta(FamilyMemberSerializer.Meta):
        fields = [name for name in FamilyMemberSerializer.Meta.fields if not name.startswith("own_consent_")]
        read_only_fields = ["id"]


class OwnConsentSerializer(serializers.Serializer):
    own_consent_given_on = serializers.DateField(allow_null=True)
    own_consent_expires_on = serializers.DateField(allow_null=True, required=False, default=None)
    own_consent_withdrawn_on = serializers.DateField(allow_null=True, required=False, default=None)


class FamilyMemberViewSet(
    SafeWritesMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Relatives whose details the caller may read (`?case=` for one household). POST adds one to a
    case's household and PATCH edits one: a counsellor holding an open engagement on the case
    (caseworkers and managers read, and record a relative's own consent with `own-consent`)."""

    http_method_names = ["get", "post", "patch", "head", "options"]

    queryset = FamilyMember.objects.none()
    conditional_actions = frozenset({"own_consent"})
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
        if self.action == "create":
            return NewFamilyMemberSerializer
        if self.action == "partial_update":
            return FamilyMemberUpdateSerializer
        if self.action == "own_consent":
            return OwnConsentSerializer
        return FamilyMemberSerializer

    def _case_where(self, member, allowed):
        """A case of the caller where they read this relative and `allowed(user, case)` holds."""
        user = self.request.user
        for link in fa.links_visible_to(user).filter(member=member).select_related("case").order_by("pk"):
            case = access.cases_visible_to(user).filter(pk=link.case_id).first()
            if case is not None and allowed(user, case):
                return case
        raise NotFound  # read but not written, like the core's record endpoints

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
        wanted = data.pop("engagements")
        member = None
        if existing is not None:
            if not fa.can_link_members(request.user, case):
                raise serializers.ValidationError(
                    {"existing_member": [_("Linking a known relative needs the participant's family-contact consent.")]}
                )
            member = fa.linkable_members(request.user, case).filter(pk=existing).first()
            if member is None:
                raise serializers.ValidationError({"existing_member": [_("No such relative.")]})
        engagements = list(fa.my_open_engagements(request.user).filter(case=case, pk__in=wanted).select_related("case"))
        if len(engagements) != len(set(wanted)):
            raise serializers.ValidationError({"engagements": [_("Not an open engagement of yours on this case.")]})
        link = services.member_add(
            case=case,
            by=request.user,
            relation=data.pop("relation"),
            lives_with_participant=data.pop("lives_with_participant"),
            data=None if member else data,
            member=member,
            engagements=engagements,
        )
        readable = fa.members_visible_to(request.user).filter(pk=link.member_id).exists()
        # a relative recorded before a basis exists is not shown back: only its id
        body = FamilyMemberSerializer(link.member).data if readable else {"id": link.member_id}
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(request=FamilyMemberUpdateSerializer, responses=FamilyMemberSerializer)
    def partial_update(self, request, *args, **kwargs):
        """Correct a relative's details (a counsellor of a case where they read them)."""
        member = self.get_object()
        self._case_where(member, lambda user, case: fa.can_edit_member(user, member, case))
        body = FamilyMemberUpdateSerializer(member, data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        member = services.member_update(member=member, by=request.user, data=dict(body.validated_data))
        return Response(FamilyMemberSerializer(member).data)

    @extend_schema(request=OwnConsentSerializer, responses=FamilyMemberSerializer)
    @action(detail=True, methods=["post"], url_path="own-consent")
    def own_consent(self, request, pk=None):
        """Record the relative's own consent to counselling contact (caseworkers on the team, managers)."""
        member = self.get_object()
        case = self._case_where(member, fa.can_record_own_consent)
        body = OwnConsentSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        member = services.member_own_consent_update(
            member=member,
            case=case,
            by=request.user,
            given_on=body.validated_data["own_consent_given_on"],
            expires_on=body.validated_data["own_consent_expires_on"],
            withdrawn_on=body.validated_data["own_consent_withdrawn_on"],
        )
        return Response(FamilyMemberSerializer(member).data)


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
    members = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, default=list)
    counsellors = serializers.ListField(child=serializers.IntegerField(min_value=1), allow_empty=False)
    step_plan = serializers.CharField(required=False, default="", allow_blank=True, max_length=4000)
    started_on = serializers.DateField(required=False, allow_null=True, default=None)


class EngagementEndSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, default="", allow_blank=True, max_length=2000)


class EngagementMembersSerializer(serializers.Serializer):
    members = serializers.ListField(child=serializers.IntegerField(min_value=1), allow_empty=False)


class EngagementCounsellorsSerializer(serializers.Serializer):
    add = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, default=list)
    remove = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, default=list)


class EngagementViewSet(SafeWritesMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Engagements of the caller's cases (caseworkers on the team, managers) or their own (counsellors).
    POST opens one (the lead, a caseworker on the team, a manager); `end` ends it."""

    queryset = Engagement.objects.none()
    conditional_actions = frozenset({"end"})
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

    def _answer(self, engagement):
        engagement = Engagement.objects.prefetch_related("members", "assignments").get(pk=engagement.pk)
        return Response(EngagementSerializer(engagement, context=self._context([engagement])).data)

    @extend_schema(request=EngagementMembersSerializer, responses=EngagementSerializer)
    @action(detail=True, methods=["post"])
    def members(self, request, pk=None):
        """Add relatives of the household the caller reads to the engagement (its counsellors)."""
        engagement = self.get_object()
        case = access.get_case_for_user(request.user, engagement.case_id)
        if not fa.can_write_sessions(request.user, engagement, case):
            raise NotFound
        body = EngagementMembersSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        wanted = set(body.validated_data["members"])
        readable = fa.links_visible_to(request.user).filter(case=case).values("member_id")
        members = list(FamilyMember.objects.filter(pk__in=wanted).filter(pk__in=readable))
        if len(members) != len(wanted):  # a hidden relative reads like a missing one
            raise serializers.ValidationError({"members": [_("Choose members of this participant's household.")]})
        services.engagement_members_add(engagement=engagement, by=request.user, members=members)
        return self._answer(engagement)

    @extend_schema(request=EngagementCounsellorsSerializer, responses=EngagementSerializer)
    @action(detail=True, methods=["post"])
    def counsellors(self, request, pk=None):
        """Add or remove counsellors of an open engagement (the lead, the manager); one stays."""
        engagement = self.get_object()
        case = access.get_case_for_user(request.user, engagement.case_id)
        if not fa.can_change_counsellors(request.user, engagement, case):
            raise NotFound
        body = EngagementCounsellorsSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        add_ids, remove_ids = set(body.validated_data["add"]), set(body.validated_data["remove"])
        add = list(fa.counsellor_candidates(case).filter(pk__in=add_ids))
        if len(add) != len(add_ids):
            raise serializers.ValidationError({"add": [_("Counsellors come from the case's organisation.")]})
        remove = list(User.objects.filter(pk__in=remove_ids, family_engagements__engagement=engagement))
        if len(remove) != len(remove_ids):
            raise serializers.ValidationError({"remove": [_("This counsellor does not hold the engagement.")]})
        services.engagement_counsellors_change(engagement=engagement, by=request.user, add=add, remove=remove)
        return self._answer(engagement)


# --- Sessions -------------------------------------------------------------------------------


class CounsellingSessionSerializer(serializers.ModelSerializer):
    """What caseworkers and managers read: no confidential notes; attendees the caller may read."""

    attendees = serializers.SerializerMethodField()
    group_title = serializers.CharField(source="group_session.title", read_only=True, default=None, allow_null=True)

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


class CounsellingSessionViewSet(
    SafeWritesMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Sessions of the caller's cases (caseworkers, managers) or of their own engagements (counsellors).

    POST plans a session (a counsellor of the open engagement); `log` records how it went."""

    queryset = CounsellingSession.objects.none()
    conditional_actions = frozenset({"log"})
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


# --- Support referrals ----------------------------------------------------------------------


class SupportReferralSerializer(serializers.ModelSerializer):
    class Meta:
        model = SupportReferral
        fields = ["id", "case", "engagement", "service", "provider", "referred_on", "status", "outcome"]
        read_only_fields = fields


class SupportReferralUpdateSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ReferralStatus.choices, required=False)
    outcome = serializers.CharField(required=False, allow_blank=True, max_length=4000)


class SupportReferralViewSet(
    SafeWritesMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Referrals of family members to outside services: the caller's cases (caseworkers on the team,
    managers) or their own engagements (counsellors). PATCH records status and outcome (the counsellors
    of the open engagement; the status moves forward only)."""

    queryset = SupportReferral.objects.none()
    serializer_class = SupportReferralSerializer
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "patch", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no caller
            return SupportReferral.objects.none()
        rows = fa.referrals_visible_to(self.request.user).order_by("-referred_on", "-pk")
        if self.action == "list":
            case_id = query_int(self.request, "case")
            if case_id is not None:
                rows = rows.filter(case_id=case_id)
            engagement_id = query_int(self.request, "engagement")
            if engagement_id is not None:
                rows = rows.filter(engagement_id=engagement_id)
            wanted = query_choice(self.request, "status", ReferralStatus.values)
            if wanted is not None:
                rows = rows.filter(status=wanted)
        return rows

    @extend_schema(
        parameters=[
            OpenApiParameter("case", int, description="Only this case"),
            OpenApiParameter("engagement", int, description="Only this engagement"),
            OpenApiParameter("status", str, enum=list(ReferralStatus.values)),
        ]
    )
    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        log_reads(request, [r.case_id for r in page], view="api-support-referral-list", groups=GROUPS)
        return self.get_paginated_response(SupportReferralSerializer(page, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        referral = self.get_object()
        log_read(request, referral.case, view="api-support-referral-detail", groups=GROUPS)
        return Response(SupportReferralSerializer(referral).data)

    @extend_schema(request=SupportReferralUpdateSerializer, responses=SupportReferralSerializer)
    def partial_update(self, request, *args, **kwargs):
        referral = self.get_object()
        case = access.get_case_for_user(request.user, referral.case_id)
        if not fa.can_update_referral(request.user, referral, case):
            raise NotFound  # read but not written, like the core's record endpoints
        body = SupportReferralUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        referral = services.referral_update(
            referral=referral,
            by=request.user,
            status=body.validated_data.get("status", referral.status),
            outcome=body.validated_data.get("outcome", referral.outcome),
        )
        return Response(SupportReferralSerializer(referral).data)


def register(router) -> None:
    """Add this module's viewsets to the API router."""
    router.register("households", HouseholdViewSet, basename="api-household")
    router.register("family-members", FamilyMemberViewSet, basename="api-family-member")
    router.register("engagements", EngagementViewSet, basename="api-engagement")
    router.register("counselling-sessions", CounsellingSessionViewSet, basename="api-counselling-session")
    router.register("support-referrals", SupportReferralViewSet, basename="api-support-referral")
