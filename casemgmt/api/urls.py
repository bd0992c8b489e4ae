from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from . import boundary, casefile, cases, followups, views, webhooks

router = SimpleRouter()
router.include_format_suffixes = False
router.register("users", views.OrganisationUserViewSet, basename="api-user")
router.register("cases", cases.CaseViewSet, basename="api-case")
router.register("participants", cases.ParticipantViewSet, basename="api-participant")
router.register("transfers", cases.TransferViewSet, basename="api-transfer")
router.register("referrals", casefile.ReferralViewSet, basename="api-referral")
router.register("assessment-templates", casefile.AssessmentTemplateViewSet, basename="api-assessment-template")
router.register("assessments", casefile.AssessmentViewSet, basename="api-assessment")
router.register("goals", casefile.GoalViewSet, basename="api-goal")
router.register("attachments", casefile.AttachmentViewSet, basename="api-attachment")
router.register("post-exit-outcomes", casefile.OutcomeViewSet, basename="api-outcome")
router.register("follow-ups", followups.FollowUpViewSet, basename="api-follow-up")
router.register("shared-cases", boundary.SharedCaseViewSet, basename="api-shared-case")
router.register("authority-referrals", boundary.AuthorityReferralViewSet, basename="api-authority-referral")
router.register("information-requests", boundary.InformationRequestViewSet, basename="api-information-request")
router.register("webhook-subscriptions", webhooks.WebhookSubscriptionViewSet, basename="api-webhook-subscription")
router.register("exceptional-disclosures", boundary.ExceptionalDisclosureViewSet, basename="api-exceptional-disclosure")
for _key, _path in [
    ("note", "notes"),
    ("legal_event", "legal-events"),
    ("relapse_event", "relapse-events"),
    ("safety_flag", "safety-flags"),
    ("conflict_history", "conflict-history"),
    ("consent", "consents"),
    ("service_referral", "service-referrals"),
    ("mandate", "legal-mandates"),
]:
    router.register(_path, casefile.record_viewset(_key), basename=f"api-{_path}")

urlpatterns = [
    path("me/", views.MeView.as_view(), name="api-me"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script from this URL (?script): no inline script (CSP).
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api-schema", template_name="api/swagger_ui.html"),
        name="api-docs",
    ),
    path("", include(router.urls)),
]
