"""The case core: participants, cases, the case team, stage changes and the access log."""

from __future__ import annotations

import pghistory
import pgtrigger
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models import Func, OuterRef, Subquery, Value
from django.db.models.functions import Concat
from django.utils.translation import gettext_lazy as _

from accounts.models import City, Organisation

from .crypto import EncryptedCharField, national_id_hash
from .urlcache import pk_url

LANGUAGES = [
    ("ar", _("Arabic (Darija)")),
    ("ber", _("Tamazight")),
    ("fr", _("French")),
    ("es", _("Spanish")),
    ("en", _("English")),
    ("nl", _("Dutch")),
    ("de", _("German")),
]


class CaseCodeSequence(models.Model):
    """Yearly case-code counter per city; incremented atomically by `next_case_code`."""

    city = models.ForeignKey(City, on_delete=models.PROTECT)
    year = models.PositiveSmallIntegerField()
    last_value = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["city", "year"], name="case_code_sequence_city_year")]

    def __str__(self) -> str:
        return f"{self.city_id}/{self.year}: {self.last_value}"


class ParticipantQuerySet(models.QuerySet):
    # national_id_hash follows national_id on every write path, the bulk ones included (save() too)

    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        for obj in objs:
            obj.national_id_hash = national_id_hash(obj.national_id)
        return super().bulk_create(objs, *args, **kwargs)

    def bulk_update(self, objs, fields, *args, **kwargs):
        objs = list(objs)
        if "national_id" in fields:
            for obj in objs:
                obj.national_id_hash = national_id_hash(obj.national_id)
            fields = [*fields, "national_id_hash"]
        return super().bulk_update(objs, fields, *args, **kwargs)

    def update(self, **kwargs):
        if "national_id" in kwargs and "national_id_hash" not in kwargs:
            kwargs["national_id_hash"] = national_id_hash(kwargs["national_id"])
        return super().update(**kwargs)


# search_text is derived by the database, national_id_hash from the ID: history keeps the values themselves
@pghistory.track(exclude=["search_text", "national_id_hash"])
class Participant(models.Model):
    """The person in the program. Names exist in Arabic and Latin script."""

    case_code = models.CharField(_("case code"), max_length=16, unique=True, editable=False)
    given_name_latin = models.CharField(_("given name (Latin script)"), max_length=100)
    family_name_latin = models.CharField(_("family name (Latin script)"), max_length=100)
    given_name_arabic = models.CharField(_("given name (Arabic script)"), max_length=100, blank=True)
    family_name_arabic = models.CharField(_("family name (Arabic script)"), max_length=100, blank=True)
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True)
    national_id = EncryptedCharField(_("national ID"), max_length=20, blank=True)  # AES-GCM (crypto.py)
    # HMAC of the normalised ID (crypto.national_id_hash): the only way to search by national ID
    national_id_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    city = models.ForeignKey(City, verbose_name=_("city"), on_delete=models.PROTECT)
    languages = ArrayField(
        models.CharField(max_length=3, choices=LANGUAGES), verbose_name=_("languages"), default=list, blank=True
    )
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    address = models.TextField(_("address"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Case code and names in both scripts, normalised by the database (migration 0005), for search.
    search_text = models.GeneratedField(
        expression=Func(
            Concat(
                "case_code",
                Value(" "),
                "given_name_latin",
                Value(" "),
                "family_name_latin",
                Value(" "),
                "given_name_arabic",
                Value(" "),
                "family_name_arabic",
                output_field=models.TextField(),
            ),
            function="casemgmt_normalize",
            output_field=models.TextField(),
        ),
        output_field=models.TextField(),
        db_persist=True,
    )

    objects = ParticipantQuerySet.as_manager()

    class Meta:
        verbose_name = _("participant")
        verbose_name_plural = _("participants")
        indexes = [
            GinIndex(OpClass("search_text", name="gin_trgm_ops"), name="participant_search_trgm"),
            # the reports' caseload by city and city filter read participants for their city only: an
            # index-only scan instead of the wide (encrypted) rows
            models.Index(fields=["city", "id"], name="participant_city_id"),
        ]

    def __str__(self) -> str:
        return self.case_code

    def save(self, *args, **kwargs) -> None:
        # derived from the ID, like search_text from the names: every save keeps it in step
        self.national_id_hash = national_id_hash(self.national_id)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "national_id" in update_fields:
            kwargs["update_fields"] = {*update_fields, "national_id_hash"}
        super().save(*args, **kwargs)

    @property
    def name_latin(self) -> str:
        return f"{self.given_name_latin} {self.family_name_latin}".strip()

    @property
    def language_labels(self) -> list[str]:
        labels = dict(LANGUAGES)
        return [str(labels.get(code, code)) for code in self.languages]

    @property
    def name_arabic(self) -> str:
        return f"{self.given_name_arabic} {self.family_name_arabic}".strip()


def choice_label(choices: type[models.Choices], value) -> str:
    """The translated label of `value` among `choices`; the value itself when it is not one of them
    (as Django's get_FOO_display)."""
    try:
        return str(choices(value).label)
    except ValueError:
        return value


class Stage(models.TextChoices):
    REFERRAL = "referral", _("Referral")
    SCREENING = "screening", _("Screening")
    ASSESSMENT = "assessment", _("Assessment")
    ACTIVE = "active", _("Active")
    REVIEW = "review", _("Review")
    EXITED = "exited", _("Exited")
    CLOSED = "closed", _("Closed")
    DECLINED = "declined", _("Declined")


# The lifecycle of the handbook (section 2). Re-opening an exited or closed case is a
# separate service (`case_reopen`) because its target depends on the last assessment.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    Stage.REFERRAL: (Stage.SCREENING,),
    Stage.SCREENING: (Stage.ASSESSMENT, Stage.DECLINED),
    Stage.ASSESSMENT: (Stage.ACTIVE,),
    Stage.ACTIVE: (Stage.REVIEW, Stage.EXITED),
    Stage.REVIEW: (Stage.ACTIVE, Stage.EXITED),
    Stage.EXITED: (Stage.CLOSED,),
    Stage.CLOSED: (),
    Stage.DECLINED: (),
}
REOPENABLE = (Stage.EXITED, Stage.CLOSED)


class ReferralSource(models.TextChoices):
    PRISON_RELEASE = "prison_release", _("Prison or probation release")
    COURT_ORDER = "court_order", _("Court order")
    AUTHORITY = "authority", _("Authority")
    FAMILY = "family", _("Family")
    SELF = "self", _("Self-referral")
    NGO = "ngo", _("NGO")
    RELIGIOUS_ORG = "religious_org", _("Religious organisation")


class Eligibility(models.TextChoices):
    ACCEPT = "accept", _("Accept")
    REFER_ELSEWHERE = "refer_elsewhere", _("Refer elsewhere")
    DECLINE = "decline", _("Decline")


class LegalStatus(models.TextChoices):
    NONE = "none", _("None")
    IN_CUSTODY = "in_custody", _("In custody")
    AWAITING_TRIAL = "awaiting_trial", _("Awaiting trial")
    SENTENCED = "sentenced", _("Sentenced")
    PROBATION = "probation", _("On probation or parole")


class ExitReason(models.TextChoices):
    GOALS_MET = "goals_met", _("Goals met")
    WITHDREW = "withdrew", _("Withdrew")
    MOVED = "moved", _("Moved away")
    REOFFENDED = "reoffended", _("Re-offended")
    DIED = "died", _("Died")
    PROGRAM_ENDED = "program_ended", _("Program ended")


class CaseQuerySet(models.QuerySet):
    def open(self) -> CaseQuerySet:
        return self.exclude(stage__in=[Stage.CLOSED, Stage.DECLINED])

    def with_list_relations(self) -> CaseQuerySet:
        return self.select_related("participant__city", "organisation")

    def with_pending_transfer(self) -> CaseQuerySet:
        """Each case with `pending_transfer_to`: the receiving organisation's name of its pending transfer
        (one at most, a unique constraint), or None; for the case page, in the case's own query."""
        pending = CaseTransfer.objects.filter(case=OuterRef("pk"), status=CaseTransfer.Status.PENDING)
        return self.annotate(pending_transfer_to=Subquery(pending.values("to_organisation__name")[:1]))


@pghistory.track()
class Case(models.Model):
    participant = models.OneToOneField(
        Participant, verbose_name=_("participant"), on_delete=models.PROTECT, related_name="case"
    )
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.PROTECT, related_name="cases"
    )
    stage = models.CharField(_("stage"), max_length=12, choices=Stage.choices, default=Stage.REFERRAL)
    stage_changed_at = models.DateTimeField(_("in this stage since"))
    referral_source = models.CharField(_("referral source"), max_length=16, choices=ReferralSource.choices)
    referral_date = models.DateField(_("referral date"))
    referring_organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("referring organisation"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="referred_cases",
    )
    referral_reason = models.TextField(_("reason for referral"), blank=True)
    # Screening
    first_contact_date = models.DateField(_("first contact"), null=True, blank=True)
    eligibility = models.CharField(_("eligibility decision"), max_length=16, choices=Eligibility.choices, blank=True)
    eligibility_reason = models.TextField(_("reason for the decision"), blank=True)
    # Legal status (current); dated events are LegalEvent rows
    legal_status = models.CharField(
        _("legal status"), max_length=16, choices=LegalStatus.choices, default=LegalStatus.NONE
    )
    sentence_ends_on = models.DateField(_("sentence ends on"), null=True, blank=True)
    legal_conditions = models.TextField(_("probation or parole conditions"), blank=True)
    # Exit and closure
    exit_reason = models.CharField(_("exit reason"), max_length=16, choices=ExitReason.choices, blank=True)
    exited_on = models.DateField(_("exited on"), null=True, blank=True)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    # The case's assessments summed up (first and latest by assessed_on, then id), kept by
    # casefile_services.assessment_record in the same UPDATE that touches updated_at (assessments are
    # append-only; deleting the case deletes them too) and backfilled by migration 0021. The reports
    # group the caseload by band and compare first and latest without a look-up per case.
    # (database defaults too: bulk COPY of new cases, as seed_scale does, need not name them)
    assessment_count = models.PositiveIntegerField(default=0, db_default=0, editable=False)
    first_assessed_on = models.DateField(null=True, blank=True, editable=False)
    first_risk_band = models.CharField(max_length=6, blank=True, default="", db_default="", editable=False)
    latest_assessed_on = models.DateField(null=True, blank=True, editable=False)
    latest_risk_band = models.CharField(max_length=6, blank=True, default="", db_default="", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CaseQuerySet.as_manager()

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        indexes = [
            models.Index(fields=["organisation", "-updated_at"]),
            # the reports join every fact table to its case for the organisation: an index-only probe
            # instead of a hash of the whole case table (relapse events 54 -> 6 ms at 100k cases)
            models.Index(fields=["organisation", "id"], name="case_organisation_id_idx"),
            # the organisation's cases by stage, the band included: the reports' caseload by band is
            # index-only (it replaces the plain (organisation, stage) index); and the cases
            # whose latest assessment falls in a period (risk movement)
            models.Index(fields=["organisation", "stage"], include=["latest_risk_band"], name="case_org_stage_band"),
            models.Index(
                fields=["organisation", "latest_assessed_on"],
                include=["first_risk_band", "latest_risk_band", "assessment_count"],
                condition=models.Q(assessment_count__gte=2),
                name="case_org_reassessed",
            ),
        ]

    def __str__(self) -> str:
        return self.participant.case_code

    def get_absolute_url(self) -> str:
        return pk_url("case-detail")(self.pk)  # reversed once per URLconf and language (urlcache)

    # Django's get_FOO_display hashes every choice's lazy label, translating each of them, to look one
    # up: 17 translations per row of the case list. The enum finds the label and translates that one.
    def get_stage_display(self) -> str:
        return choice_label(Stage, self.stage)

    def get_referral_source_display(self) -> str:
        return choice_label(ReferralSource, self.referral_source)

    @property
    def is_read_only(self) -> bool:
        return self.stage == Stage.CLOSED

    def allowed_transitions(self) -> tuple[str, ...]:
        return TRANSITIONS[self.stage]

    def can_move_to(self, stage: str) -> bool:
        return stage in TRANSITIONS[self.stage]


class TeamRole(models.TextChoices):
    CASEWORKER = "caseworker", _("Caseworker")
    PLACEMENT_OFFICER = "placement_officer", _("Placement officer")
    COUNSELLOR = "counsellor", _("Counsellor")
    MENTOR = "mentor", _("Mentor")


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class CaseTeamMember(models.Model):
    """Membership of a case team: the basis of access to a case's content."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="team")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="case_teams")
    role = models.CharField(_("role on the case"), max_length=20, choices=TeamRole.choices)
    is_lead = models.BooleanField(_("lead"), default=False)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("team member")
        verbose_name_plural = _("team members")
        constraints = [
            models.UniqueConstraint(fields=["case", "user"], name="team_member_once_per_case"),
            models.UniqueConstraint(fields=["case"], condition=models.Q(is_lead=True), name="one_lead_per_case"),
            models.CheckConstraint(
                condition=models.Q(is_lead=False) | models.Q(role="caseworker"), name="lead_is_a_caseworker"
            ),
        ]
        indexes = [models.Index(fields=["user", "case"])]

    def __str__(self) -> str:
        return f"{self.user} on {self.case_id} ({self.role}{', lead' if self.is_lead else ''})"


@pghistory.track()
class StageChange(models.Model):
    """Every stage move, re-opening included: recorded, never overwritten."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.CharField(max_length=12, choices=Stage.choices, blank=True)
    to_stage = models.CharField(max_length=12, choices=Stage.choices)
    reason = models.TextField(_("reason"))
    is_reopening = models.BooleanField(default=False)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField()

    class Meta:
        ordering = ["-changed_at", "-pk"]
        indexes = [models.Index(fields=["case", "-changed_at"])]
        triggers = [pgtrigger.Protect(name="stage_change_append_only", operation=pgtrigger.Update | pgtrigger.Delete)]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.from_stage} → {self.to_stage}"


class AccessLog(models.Model):
    """Who read which case, and which parts of it. Ids and field groups only, no personal data.

    Append-only in the database: a trigger refuses updates and deletes.
    """

    class Channel(models.TextChoices):
        UI = "ui", _("Web page")
        API = "api", _("API")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, null=True, related_name="+")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="access_logs")
    channel = models.CharField(max_length=3, choices=Channel.choices)
    view = models.CharField(max_length=60)
    shown = ArrayField(models.CharField(max_length=30), default=list)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["case", "-at"])]
        triggers = [pgtrigger.Protect(name="access_log_append_only", operation=pgtrigger.Update | pgtrigger.Delete)]

    def __str__(self) -> str:
        return f"{self.user_id} read {self.case_id} ({self.view})"


@pghistory.track()
class CaseTransfer(models.Model):
    """A case moving to another NGO with the participant's consent. The sending organisation keeps
    this row after the move; the case itself (same code, same history) belongs to the receiver."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        ACCEPTED = "accepted", _("Accepted")
        REFUSED = "refused", _("Refused")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="transfers")
    case_code = models.CharField(_("case code"), max_length=16)  # what the receiver sees before accepting
    from_organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    to_organisation = models.ForeignKey(
        Organisation, verbose_name=_("receiving organisation"), on_delete=models.PROTECT, related_name="+"
    )
    consent = models.ForeignKey("casemgmt.Consent", on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(_("reason"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(_("reason for the decision"), blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=models.Q(status="pending"), name="one_pending_transfer_per_case"
            )
        ]

    def __str__(self) -> str:
        return f"{self.case_code}: {self.from_organisation_id} → {self.to_organisation_id} ({self.status})"


class SavedSearch(models.Model):
    """A user's named case-list search (the query string of the list page)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_searches")
    name = models.CharField(_("name"), max_length=80)
    querystring = models.CharField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="saved_search_name_per_user")]

    def __str__(self) -> str:
        return self.name


from .api.idempotency import IdempotencyKey  # noqa: E402,F401  issue 13: Idempotency-Key on POST
from .boundary_models import *  # noqa: E402,F403  the authority boundary (issue 10)
from .casefile import *  # noqa: E402,F403  the case-file models live in casefile.py
from .dpo_models import *  # noqa: E402,F403  data-subject export and retention (issue 10)
from .followup_models import *  # noqa: E402,F403  follow-ups and notifications (issue 9)
from .webhook_models import *  # noqa: E402,F403  webhooks to partner systems (issue 14)
