"""Arabic name search (issue 15): harakat, superscript alef and tatweel ignored, letter variants folded,
on both sides (the stored column and the query), and never past the viewer's scope."""

import pytest
from django.db import connection

from casemgmt import services
from casemgmt.models import Case, Participant
from casemgmt.selectors import case_list
from tests.factories import CaseFactory, northern_case

# Invented names; each stored form carries the variant it tests. The factory's own Arabic names
# (تجربة اليزيدي) are on every other case, so no query below may match them.
STORED = {
    "hamza_below": ("إِسْمَاعِيل", "الوَزّانِي"),  # إ and harakat
    "maqsura": ("مُصْطَفَى", "البَرْكانِي"),  # ى
    "hamza_waw": ("رؤوف", "الطنجاوي"),  # ؤ
    "hamza_ya": ("هانئ", "القائد"),  # ئ
    "marbuta": ("أسامة", "بن حمزة"),  # ة and أ
    "madda": ("آمال", "الودغيري"),  # آ
    "wasla": ("ٱبتسام", "الفاسي"),  # ٱ
    "tatweel": ("عـــادل", "المكـناسي"),  # U+0640
    "superscript_alef": ("عبد الرحمٰن", "الشفشاوني"),  # U+0670
}


@pytest.fixture
def people(demo):
    created = {}
    for n, (key, (given, family)) in enumerate(STORED.items()):
        case = northern_case(demo, n=200 + n)
        services.case_profile_update(
            case=case, by=demo["caseworker"], changes={"given_name_arabic": given, "family_name_arabic": family}
        )
        created[key] = case.pk
    return created


def _found(user, query) -> set[int]:
    return set(case_list(user=user, query=query).values_list("pk", flat=True))


@pytest.mark.parametrize(
    ("query", "who"),
    [
        # stored with diacritics or a variant, typed plain
        ("اسماعيل", "hamza_below"),
        ("الوزاني", "hamza_below"),
        ("مصطفي", "maqsura"),
        ("رووف", "hamza_waw"),
        ("القايد", "hamza_ya"),
        ("هاني", "hamza_ya"),
        ("اسامه", "marbuta"),
        ("بن حمزه", "marbuta"),
        ("امال", "madda"),
        ("ابتسام", "wasla"),
        ("عادل", "tatweel"),
        ("المكناسي", "tatweel"),
        ("الرحمن", "superscript_alef"),
        # typed with the variant or diacritics, as stored or not
        ("إسماعيل", "hamza_below"),
        ("مُصطفى", "maqsura"),
        ("مصطفى", "maqsura"),
        ("رؤوف", "hamza_waw"),
        ("القائد", "hamza_ya"),
        ("أسامة", "marbuta"),
        ("إسامة", "marbuta"),  # any alef variant finds any other
        ("آمال", "madda"),
        ("ٱمال", "madda"),
        ("ابتسـام", "wasla"),  # a tatweel the name does not have
        ("عَادِل", "tatweel"),
        ("الرحمٰن", "superscript_alef"),
        ("الرَّحْمَٰن", "superscript_alef"),
        ("\u0627\u0654" + "سامة", "marbuta"),  # decomposed: a bare alef (U+0627), then hamza above (U+0654)
    ],
)
def test_arabic_name_search_folds_both_sides(demo, people, query, who):
    assert _found(demo["caseworker"], query) == {people[who]}


@pytest.mark.parametrize("mark", [chr(c) for c in range(0x064B, 0x0660)] + ["\u0670", "\u0640"])
def test_every_haraka_and_the_tatweel_are_ignored(demo, people, mark):
    # the mark after the first letter of the query, whichever it is (U+064B to U+065F, U+0670, U+0640)
    assert _found(demo["caseworker"], "ع" + mark + "ادل") == {people["tatweel"]}


def test_the_query_and_the_stored_column_use_one_function(demo, people):
    with connection.cursor() as cursor:
        cursor.execute("SELECT casemgmt_normalize(%s)", ["أإآٱ ىئؤة \u064b\u065f\u0670\u0640 ÉLÈVE"])
        (normalised,) = cursor.fetchone()
    assert normalised == "\u0627" * 4 + " ييوه  eleve"  # four alefs (U+0627), as escapes for the linter
    stored = Participant.objects.get(case__pk=people["tatweel"]).search_text
    assert "عادل المكناسي" in stored


def test_arabic_search_never_returns_out_of_scope_cases(demo, people):
    other_org = demo["caseworker2"].membership.organisation
    other = CaseFactory(organisation=other_org, by=demo["caseworker2"], lead=demo["caseworker2"], n=300)
    services.case_profile_update(
        case=other, by=demo["caseworker2"], changes={"given_name_arabic": "مُصْطَفَى", "family_name_arabic": "البركاني"}
    )
    assert _found(demo["caseworker"], "مصطفي البركاني") == {people["maqsura"]}
    assert _found(demo["caseworker2"], "مصطفي البركاني") == {other.pk}
    assert _found(demo["colleague"], "مصطفي") == set()  # same NGO, not on the team
    assert _found(demo["authority"], "مصطفي") == set()  # nothing shared with it
    # the manager sees the organisation's cases, not the other NGO's
    assert _found(demo["manager"], "مصطفى") == {people["maqsura"]}


def test_case_list_page_finds_an_arabic_name_typed_without_hamza(client, demo, people):
    client.force_login(demo["caseworker"])
    response = client.get("/cases/", {"q": "اسامه"})
    assert [c.pk for c, _ in response.context["rows"]] == [people["marbuta"]]


def test_the_migration_rewrites_stored_rows(as_owner, demo):
    """Going back to 0005's function keeps U+0670 in the stored column; 0020 recomputes every row."""
    from django.db.migrations.executor import MigrationExecutor

    case = northern_case(demo, n=400)
    services.case_profile_update(case=case, by=demo["caseworker"], changes={"given_name_arabic": "رحمٰن"})
    executor = MigrationExecutor(connection)
    try:
        executor.migrate([("casemgmt", "0019_webhooks")])
        assert "\u0670" in Participant.objects.get(case=case).search_text
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    stored = Participant.objects.get(case=case).search_text
    assert "\u0670" not in stored
    assert "رحمن" in stored
    assert Case.objects.filter(pk=case.pk, participant__search_text__contains="رحمن").exists()


def test_the_seed_names_carry_arabic_script_and_its_variants():
    """seed_demo and seed_scale draw names from casemgmt.demo: each has an Arabic-script form, and the
    lists hold letters the search folds (so demo searches show it)."""
    import re

    from casemgmt.demo import FAMILY, GIVEN

    arabic = re.compile(r"^[\u0600-\u06ff\u0750-\u077f ]+$")  # Arabic and its supplement (ݣ)
    assert all(arabic.match(ar) for _latin, ar in GIVEN + FAMILY)
    letters = "".join(ar for _latin, ar in GIVEN + FAMILY)
    assert {"أ", "إ", "آ", "ة", "ى"} <= set(letters)
