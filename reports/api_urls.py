from django.urls import path

from . import api

urlpatterns = [path("reports/summary/", api.ReportSummaryView.as_view(), name="api-reports-summary")]
