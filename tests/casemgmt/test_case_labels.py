"""The case's own label and URL methods equal Django's generic ones, in every language."""

import pytest
from django.urls import reverse
from django.utils import translation

from casemgmt.models import Case, ReferralSource, Stage


@pytest.mark.parametrize("language", ["en", "fr", "ar"])
def test_labels_equal_djangos_display(language):
    stage, source = Case._meta.get_field("stage"), Case._meta.get_field("referral_source")
    with translation.override(language):
        for value in [*Stage.values, "no-such-stage"]:
            case = Case(stage=value, referral_source=ReferralSource.SELF)
            assert case.get_stage_display() == case._get_FIELD_display(stage)
        for value in [*ReferralSource.values, "no-such-source"]:
            case = Case(stage=Stage.ACTIVE, referral_source=value)
            assert case.get_referral_source_display() == case._get_FIELD_display(source)


def test_labels_are_translated():
    labels = {}
    for language in ("en", "fr", "ar"):
        with translation.override(language):
            labels[language] = Case(referral_source=ReferralSource.SELF).get_referral_source_display()
    assert len(set(labels.values())) == 3, labels


def test_url_equals_reverse():
    for pk in (1, 42, 987654321, 10**12):
        assert Case(pk=pk).get_absolute_url() == reverse("case-detail", args=[pk])
