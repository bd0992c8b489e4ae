"""The French and Arabic catalogues (issue 15): complete (no untranslated, fuzzy or obsolete entry, every
placeholder kept), compiled (.mo current with its .po, committed so a fresh machine needs nothing), holding
every string the code marks (a fresh extraction over the tracked files finds nothing new), and used."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.utils import translation

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import i18n  # noqa: E402


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_the_catalogue_is_complete_and_compiled(lang):
    assert i18n.problems(lang) == []


def test_the_check_fails_on_an_untranslated_fuzzy_or_stale_entry(tmp_path):
    """The check itself can fail: a copy of the French catalogue with one entry emptied, one fuzzy and one
    placeholder lost, compiled before the changes."""
    lang_dir = tmp_path / "locale" / "fr" / "LC_MESSAGES"
    lang_dir.mkdir(parents=True)
    shutil.copy(i18n.po_path("fr"), lang_dir / "django.po")
    shutil.copy(i18n.po_path("fr").with_suffix(".mo"), lang_dir / "django.mo")
    po = polib.pofile(str(lang_dir / "django.po"))
    plain = [e for e in po if not e.msgid_plural and not i18n.placeholders(e.msgid)]
    with_placeholder = next(e for e in po if not e.msgid_plural and i18n.placeholders(e.msgid))
    plain[0].msgstr = ""
    plain[1].flags.append("fuzzy")
    with_placeholder.msgstr = "sans rien"
    po.save()
    found = "\n".join(i18n.problems("fr", tmp_path))
    assert "untranslated" in found
    assert "fuzzy" in found
    assert "placeholders" in found
    assert "older than the .po" in found


@pytest.mark.slow
def test_the_catalogues_hold_every_marked_string(tmp_path):
    """makemessages over a copy of the tracked files (the same flags as `scripts/i18n.py update`) adds no
    entry: a string marked in code or templates but missing from the catalogues fails here."""
    tracked = (
        subprocess.run(
            ["git", "ls-files", "-z"],
            cwd=ROOT,
            capture_output=True,
            check=True,  # nosec B603 B607
        )
        .stdout.decode()
        .split("\0")
    )
    copy = tmp_path / "src"
    for name in filter(None, tracked):
        source = ROOT / name
        if source.is_file():
            target = copy / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    i18n.manage(copy, *i18n.MAKEMESSAGES)
    for lang in i18n.LANGUAGES:
        fresh = {(e.msgctxt, e.msgid) for e in polib.pofile(str(i18n.po_path(lang, copy)))}
        committed = {(e.msgctxt, e.msgid) for e in polib.pofile(str(i18n.po_path(lang)))}
        assert sorted(fresh - committed) == [], f"{lang}: run scripts/i18n.py update, translate, compile"
        assert sorted(committed - fresh) == [], f"{lang}: entries no longer in the code"


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_the_app_speaks_the_catalogue(lang):
    po = polib.pofile(str(i18n.po_path(lang)))
    entry = next(e for e in po if not e.msgid_plural and e.msgid == "Cases")
    with translation.override(lang):
        assert translation.gettext("Cases") == entry.msgstr != "Cases"
