"""The filter forms' select renders like Django's own, escapes labels and marks the chosen option."""

from django import forms
from django.test.html import parse_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from accounts.forms import FastSelect


def test_fast_select_renders_like_django():
    choices = [("", "All"), ("a", "A & <b>"), (3, "Three")]
    ours = FastSelect(attrs={"class": "form-select"}, choices=choices).render("f", "3", attrs={"id": "id_f"})
    theirs = forms.Select(attrs={"class": "form-select"}, choices=choices).render("f", "3", attrs={"id": "id_f"})
    assert parse_html(ours) == parse_html(theirs)
    assert '<option value="3" selected>Three</option>' in ours
    assert "A &amp; &lt;b&gt;" in ours


def test_fast_select_escapes_as_django_does():
    """Quotes in values, lazy labels, and safe strings (not escaped twice), byte for byte as Django's."""
    choices = [("", gettext_lazy("Any lead")), ('x"y', "O'Brien & Sons"), ("s", mark_safe("<b>safe</b>")), (7, 7)]
    ours = FastSelect(choices=choices).render("f", 'x"y')
    theirs = forms.Select(choices=choices).render("f", 'x"y')
    assert parse_html(ours) == parse_html(theirs)
    assert 'value="x&quot;y" selected' in ours
    assert "O&#x27;Brien &amp; Sons" in ours
    assert "<b>safe</b>" in ours
