"""Mentoring endpoints: /mentors/, /mentor-assignments/, /mentoring-sessions/.

Same conventions as the core API: querysets from the access module (out of scope: 404), cursor
pagination, problem details, explicit serializer fields. Confidential notes appear in one serializer
only, used for the session's own mentor.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from casemgmt import access
from casemgmt.access import G
from casemgmt.api.casefile import case_in_scope
from casemgmt.api.conditional import SafeWritesMixin
from casemgmt.api.params import query_choice, query_int
from casemgmt.reads import log_read, log_reads

from .. import mentoring_access as ma
from .. import mentoring_selectors as selectors
from .. import mentoring_services as services
from ..models import MentorAssignment, MentoringSession, MentorProfile
from ..models.mentoring import Gender, PlaceType, SessionStatus, Topic

GROUPS = frozenset({G.MENTORING})


# --- Mentors --------------------------------------------------------------------------------


class MentorSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="user.get_full_name", read_only=True)
    cities = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)

    class Meta:
        model = MentorProfile
        fields = ["id", "user", "name", "kind", "gender", "languages", "cities", "capacity", "qualifications"]


class SupervisedMentorSerializer(MentorSerializer):
    class Meta(MentorSerializer.Meta):
        fields = [*MentorSerializer.Meta.fields, "training", "vetting_status", "vetted_on", "vetting_expires_on"]


class MatchSerializer(serializers.Serializer):
    mentor = MentorSerializer(source="profile")
    score = serializers.IntegerField()
    free_places = serializers.IntegerField(source="free")
    reasons = serializers.ListField(child=serializers.CharField())
    warnings = serializers.ListField(child=serializers.CharField())
    can_propose = serializers.BooleanField()


class MentorViewSet(SafeWritesMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Caseworkers and managers: vetted mentors (for matching). Supervisors: the mentors they supervise,
    with vetting. A mentor: their own profile."""

    queryset = MentorProfile.objects.none()
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no caller
            return MentorProfile.objects.none()
        return ma.mentors_visible_to(self.request.user).select_related("user").prefetch_related("cities")

    def get_serializer_class(self):
        if getattr(self, "swagger_fake_view", False):
            return SupervisedMentorSerializer
        return SupervisedMentorSerializer if ma.can_see_vetting(self.request.user) else MentorSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("case", int, required=True, description="The case to match"),
            OpenApiParameter("gender", str, enum=[g for g, _label in Gender.choices], description="Asked-for gender"),
        ],
        responses=MatchSerializer(many=True),
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    def match(self, request):
        """Mentors ranked for a case (city, shared languages, free places, gender), with the reasons."""
        case_id = query_int(request, "case")
        if case_id is None:
            raise serializers.ValidationError({"case": [_("Name the case to match.")]})
        case = case_in_scope(request, case_id)
        if not ma.can_propose(request.user, case):
            raise NotFound
        gender = request.query_params.get("gender", "")
        if gender not in ("", *Gender.values):
            raise serializers.ValidationError({"gender": [_("Female, male or empty.")]})
        matches = selectors.rank_mentors(user=request.user, case=case, gender=gender)
        log_read(request, case, view="api-mentor-match", groups=frozenset({G.CODE, G.NAMES, G.LANGUAGES}))
        return Response(MatchSerializer(matches, many=True).data)


# --- Assignments ----------------------------------------------------------------------------


class AssignmentSerializer(serializers.ModelSerializer):
    """The caseworker's and manager's view: the whole assignment."""

    case_code = serializers.CharField(source="case.participant.case_code", read_only=True)

    class Meta:
        model = MentorAssignment
        fields = [
            "id",
            "case",
            "case_code",
            "mentor",
            "status",
            "gender_preference",
            "proposal_note",
            "proposed_by",
            "proposed_at",
            "decided_at",
            "decision_reason",
            "responded_at",
            "response_reason",
            "started_on",
            "ended_on",
            "end_reason",
        ]
        read_only_fields = fields


class MentorSideAssignmentSerializer(serializers.ModelSerializer):
    """The mentor's view: what they need to accept (case code, city, languages, gender asked for)."""

    case_code = serializers.CharField(source="case.participant.case_code", read_only=True)
    city = serializers.CharField(source="case.participant.city.name", read_only=True)
    languages = serializers.ListField(source="case.participant.languages", read_only=True)

    class Meta:
        model = MentorAssignment
        fields = [
            "id",
            "case",
            "case_code",
            "city",
            "languages",
            "gender_preference",
            "status",
            "started_on",
            "ended_on",
        ]
        read_only_fields = fields


class ProposeSerializer(serializers.Serializer):
    case = serializers.IntegerField(min_value=1)
    mentor = serializers.IntegerField(min_value=1, help_text="The mentor's user id (see /mentors/match/)")
    gender_preference = serializers.ChoiceField(choices=Gender.choices, required=False, default="")
    proposal_note = serializers.CharField(required=False, default="", allow_blank=True, max_length=2000)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, default="", allow_blank=True, max_length=2000)


def _assignment_action(name: str):
    """One POST action of the workflow; DRF maps the method by the function's name, set first."""

    def act(self, request, pk=None):
        assignment = self.get_object()
        if not ma.may_take_step(request.user, assignment, name):
            raise serializers.ValidationError({"status": [_("This step is not yours to take, or no longer possible.")]})
        body = ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        assignment = services.ASSIGNMENT_STEPS[name](assignment, request.user, body.validated_data["reason"])
        return Response(self.get_serializer(assignment).data)

    act.__name__ = name
    act.__doc__ = {
        "approve": "The manager approves a proposal; the mentor is asked next.",
        "reject": "The manager rejects a proposal (reason required).",
        "accept": "The mentor accepts; the assignment starts and the mentor joins the case team.",
        "decline": "The mentor declines (reason required).",
        "end": "The lead, a manager or the mentor ends an active assignment (reason required).",
    }[name]
    return extend_schema(request=ReasonSerializer, responses=AssignmentSerializer)(
        action(detail=True, methods=["post"], url_path=name, url_name=name)(act)
    )


class MentorAssignmentViewSet(
    SafeWritesMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Assignments of the caller's cases (caseworkers on the team, managers), or the caller's own as a
    mentor from the manager's approval on. POST proposes a mentor for a case."""

    queryset = MentorAssignment.objects.none()
    conditional_actions = frozenset({"approve", "reject", "accept", "decline", "end"})
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no caller
            return MentorAssignment.objects.none()
        rows = ma.assignments_visible_to(self.request.user).select_related("case__participant__city")
        if self.action == "list":
            case_id = query_int(self.request, "case")
            if case_id is not None:
                rows = rows.filter(case_id=case_id)
            wanted = query_choice(self.request, "status", MentorAssignment.Status.values)
            if wanted is not None:
                rows = rows.filter(status=wanted)
        return rows

    def get_serializer_class(self):
        if self.action == "create":
            return ProposeSerializer
        if getattr(self, "swagger_fake_view", False):
            return AssignmentSerializer
        return AssignmentSerializer if ma.is_case_staff(self.request.user) else MentorSideAssignmentSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("case", int, description="Only this case"),
            OpenApiParameter("status", str, enum=list(MentorAssignment.Status.values)),
        ]
    )
    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        log_reads(request, [a.case_id for a in page], view="api-mentor-assignment-list", groups=GROUPS)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(request=ProposeSerializer, responses={201: AssignmentSerializer})
    def create(self, request, *args, **kwargs):
        body = ProposeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        case = case_in_scope(request, body.validated_data["case"])
        if not ma.can_propose(request.user, case):
            raise NotFound
        # Only mentors the caller may propose (vetted, unexpired): any other id reads the same.
        profile = ma.mentors_visible_to(request.user).filter(user_id=body.validated_data["mentor"]).first()
        if profile is None:
            raise serializers.ValidationError({"mentor": [_("No such mentor among the vetted mentors.")]})
        assignment = services.mentor_propose(
            case=case,
            by=request.user,
            mentor=profile.user,
            gender_preference=body.validated_data["gender_preference"],
            note=body.validated_data["proposal_note"],
        )
        return Response(AssignmentSerializer(assignment).data, status=status.HTTP_201_CREATED)

    approve = _assignment_action("approve")
    reject = _assignment_action("reject")
    accept = _assignment_action("accept")
    decline = _assignment_action("decline")
    end = _assignment_action("end")


# --- Sessions -------------------------------------------------------------------------------


class SessionSerializer(serializers.ModelSerializer):
    """What caseworkers and managers read: everything but the confidential notes."""

    topics = serializers.ListField(child=serializers.ChoiceField(choices=Topic.choices), required=False)

    class Meta:
        model = MentoringSession
        fields = [
            "id",
            "case",
            "assignment",
            "mentor",
            *MentoringSession.SHAREABLE_FIELDS,
            "logged_at",
        ]
        read_only_fields = fields


class OwnSessionSerializer(SessionSerializer):
    """The session's own mentor: with their confidential notes."""

    confidential_notes = serializers.SerializerMethodField()

    class Meta(SessionSerializer.Meta):
        fields = [*SessionSerializer.Meta.fields, "confidential_notes"]
        read_only_fields = fields

    def get_confidential_notes(self, session) -> str:
        notes = self.context.get("notes", {})
        return notes.get(session.pk, "")


class SessionPlanSerializer(serializers.Serializer):
    assignment = serializers.IntegerField(min_value=1)
    starts_at = serializers.DateTimeField()
    place_type = serializers.ChoiceField(choices=PlaceType.choices)


class SessionLogSerializer(serializers.Serializer):
    starts_at = serializers.DateTimeField(required=False)
    place_type = serializers.ChoiceField(choices=PlaceType.choices, required=False)
    status = serializers.ChoiceField(choices=[c for c in SessionStatus.choices if c[0] != SessionStatus.PLANNED])
    duration_minutes = serializers.IntegerField(required=False, allow_null=True, min_value=5, max_value=600)
    topics = serializers.ListField(child=serializers.ChoiceField(choices=Topic.choices), required=False)
    goal = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, help_text="An ideology goal of the case"
    )
    progress_rating = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=5)
    summary = serializers.CharField(required=False, allow_blank=True, max_length=4000)
    confidential_notes = serializers.CharField(required=False, allow_blank=True, max_length=8000, default="")


class MentoringSessionViewSet(
    SafeWritesMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Sessions of the caller's cases (caseworkers, managers) or their own (mentors).

    POST plans a session (the mentor of an active assignment); `log` records how it went."""

    queryset = MentoringSession.objects.none()
    conditional_actions = frozenset({"log"})
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no caller
            return MentoringSession.objects.none()
        rows = ma.sessions_visible_to(self.request.user)
        if self.action == "list":
            case_id = query_int(self.request, "case")
            if case_id is not None:
                rows = rows.filter(case_id=case_id)
            wanted = query_choice(self.request, "status", SessionStatus.values)
            if wanted is not None:
                rows = rows.filter(status=wanted)
        return rows

    def get_serializer_class(self):
        if getattr(self, "swagger_fake_view", False):
            return SessionSerializer
        return OwnSessionSerializer if self.request.user.role == "mentor" else SessionSerializer

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["notes"] = getattr(self, "_notes", {})
        return context

    def _load_notes(self, sessions) -> None:
        """The caller's own confidential notes for these sessions, in one query (mentors only)."""
        user = self.request.user
        own = [s.pk for s in sessions if s.mentor_id == user.pk]
        self._notes = {}
        if own and user.role == "mentor":
            from ..models import MentoringConfidentialNote

            self._notes = dict(
                MentoringConfidentialNote.objects.filter(session_id__in=own, session__mentor=user).values_list(
                    "session_id", "text"
                )
            )

    @extend_schema(
        parameters=[
            OpenApiParameter("case", int, description="Only this case"),
            OpenApiParameter("status", str, enum=list(SessionStatus.values)),
        ]
    )
    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        self._load_notes(page)
        log_reads(request, [s.case_id for s in page], view="api-mentoring-session-list", groups=GROUPS)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        session = self.get_object()
        self._load_notes([session])
        log_read(request, session.case, view="api-mentoring-session-detail", groups=GROUPS)
        return Response(self.get_serializer(session).data)

    @extend_schema(request=SessionPlanSerializer, responses={201: OwnSessionSerializer})
    def create(self, request, *args, **kwargs):
        body = SessionPlanSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        assignment = self._my_assignment(body.validated_data["assignment"])
        session = services.session_plan(
            assignment=assignment,
            by=request.user,
            starts_at=body.validated_data["starts_at"],
            place_type=body.validated_data["place_type"],
        )
        self._notes = {}
        return Response(self.get_serializer(session).data, status=status.HTTP_201_CREATED)

    def _my_assignment(self, pk: int) -> MentorAssignment:
        assignment = ma.assignments_visible_to(self.request.user).filter(pk=pk).select_related("case").first()
        if assignment is None or assignment.mentor_id != self.request.user.pk or assignment.status != "active":
            raise serializers.ValidationError({"assignment": [_("Not an active assignment of yours.")]})
        case = access.cases_visible_to(self.request.user).filter(pk=assignment.case_id).first()
        if case is None or not ma.can_write_session(self.request.user, None, case):
            raise serializers.ValidationError({"assignment": [_("Not an active assignment of yours.")]})
        return assignment

    @extend_schema(request=SessionLogSerializer, responses=OwnSessionSerializer)
    @action(detail=True, methods=["post"])
    def log(self, request, pk=None):
        """Record how a session went (the session's own mentor, on an active assignment)."""
        session = self.get_object()
        case = access.cases_visible_to(request.user).filter(pk=session.case_id).first()
        if case is None or not ma.can_write_session(request.user, session, case):
            raise NotFound
        body = SessionLogSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        notes = data.pop("confidential_notes")
        if data.get("goal") is not None:
            # resolved within the case, so another case's goal and a missing one answer alike
            goal = access.case_records_visible_to(request.user, case, "goal").filter(domain="ideology", pk=data["goal"])
            data["goal"] = goal.first()
            if data["goal"] is None:
                raise serializers.ValidationError({"goal": [_("Choose one of this case's ideology goals.")]})
        session = services.session_log(by=request.user, data=data, confidential_notes=notes, session=session)
        self._load_notes([session])
        return Response(self.get_serializer(session).data)


def register(router) -> None:
    """Add this module's viewsets to the API router."""
    router.register("mentors", MentorViewSet, basename="api-mentor")
    router.register("mentor-assignments", MentorAssignmentViewSet, basename="api-mentor-assignment")
    router.register("mentoring-sessions", MentoringSessionViewSet, basename="api-mentoring-session")
