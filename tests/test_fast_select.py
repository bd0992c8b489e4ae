"""The filter forms' select renders like Django's own, escapes labels and marks the chosen option."""

from django import forms
from django.test.html import parse_html

from accounts.forms import FastSelect


def test_fast_select_renders_like_django():
    choices = [("", "All"), ("a", "A & <b>"), (3, "Three")]
    ours = FastSelect(attrs={"class": "form-select"}, choices=choices).render("f", "3", attrs={"id": "id_f"})
    theirs = forms.Select(attrs={"class": "form-select"}, choices=choices).render("f", "3", attrs={"id": "id_f"})
    assert parse_html(ours) == parse_html(theirs)
    assert '<option value="3" selected>Three</option>' in ours
    assert "A &amp; &lt;b&gt;" in ours
