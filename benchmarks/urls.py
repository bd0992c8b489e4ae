"""The app's URLs plus a benchmark-only admin changelist, which the app itself never routes."""

from django.contrib import admin
from django.http import HttpResponse
from django.urls import path

from casemgmt.models import Case
from casemgmt.urls import urlpatterns as app_urlpatterns

bench_admin = admin.AdminSite(name="bench_admin")


@admin.register(Case, site=bench_admin)
class CaseAdmin(admin.ModelAdmin):
    """What a small program would use instead: a changelist over the same table, same search."""

    list_display = ["code", "given_name", "family_name", "city", "stage", "updated_at"]
    list_select_related = ["participant__city"]
    search_fields = [
        "participant__case_code",
        "participant__given_name_latin",
        "participant__family_name_latin",
        "participant__given_name_arabic",
        "participant__family_name_arabic",
    ]
    list_per_page = 25
    ordering = ["-updated_at"]
    raw_id_fields = ["participant", "organisation", "referring_organisation"]  # no 100,000-option selects

    @admin.display(description="code")
    def code(self, case):
        return case.participant.case_code

    @admin.display(description="given name")
    def given_name(self, case):
        return case.participant.given_name_latin

    @admin.display(description="family name")
    def family_name(self, case):
        return case.participant.family_name_latin

    @admin.display(description="city")
    def city(self, case):
        return case.participant.city.name


def empty(request):
    """The fixed cost of any page: middleware, session, user and membership, no case data."""
    return HttpResponse("ok")


urlpatterns = [path("bench-admin/", bench_admin.urls), path("bench-empty/", empty), *app_urlpatterns]
