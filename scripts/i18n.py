"""The translation catalogues (issue 15).

Usage: .venv/bin/python scripts/i18n.py update|compile|check

  update   extract every marked string into locale/{fr,ar}/LC_MESSAGES/django.po (makemessages, the same
           flags as the completeness test), keeping what is translated; new strings arrive empty
  compile  build the .mo files next to the .po files (committed, so a fresh machine needs nothing)
  check    what the test checks: no untranslated, fuzzy or obsolete entry, placeholders kept, .mo current
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LANGUAGES = ("fr", "ar")
MAKEMESSAGES = [
    "makemessages",
    *("-l", "fr", "-l", "ar"),
    "--no-location",
    "--no-obsolete",
    *("-i", ".venv/*", "-i", "tests/*", "-i", "benchmarks/*", "-i", "staticfiles/*", "-i", ".data/*"),
    *("-i", "test-results/*", "-i", "docs/*", "-i", "scripts/*"),
]
PLACEHOLDER = re.compile(r"%\([a-zA-Z_0-9]+\)[sdif]|%[sdif]|\{[a-zA-Z_0-9]*\}")


def po_path(lang: str, root: Path = ROOT) -> Path:
    return root / "locale" / lang / "LC_MESSAGES" / "django.po"


def manage(root: Path, *args: str) -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "casemgmt.settings"}
    subprocess.run([sys.executable, "manage.py", *args], cwd=root, env=env, check=True)  # nosec B603


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text or ""))


def problems(lang: str, root: Path = ROOT) -> list[str]:
    """Untranslated, fuzzy or obsolete entries, lost placeholders, a stale .mo: one line each."""
    import polib

    po = polib.pofile(str(po_path(lang, root)))
    found = []
    for e in po:
        where = f"{lang}: {e.msgid[:70]!r}"
        if e.obsolete:
            found.append(f"{where}: obsolete")
        elif "fuzzy" in e.flags:
            found.append(f"{where}: fuzzy")
        elif not e.translated():
            found.append(f"{where}: untranslated")
        elif e.msgid_plural:
            allowed = set(placeholders(e.msgid)) | set(placeholders(e.msgid_plural))
            for n, text in e.msgstr_plural.items():
                if not set(placeholders(text)) <= allowed:
                    found.append(f"{where}: plural form {n} has placeholders {placeholders(text)}")
        elif placeholders(e.msgstr) != placeholders(e.msgid):
            found.append(f"{where}: placeholders {placeholders(e.msgstr)} instead of {placeholders(e.msgid)}")
    mo = po_path(lang, root).with_suffix(".mo")
    if not mo.exists():
        found.append(f"{lang}: {mo.relative_to(root)} missing (scripts/i18n.py compile)")
    else:
        compiled = {(e.msgctxt, e.msgid): (e.msgstr, dict(e.msgstr_plural)) for e in polib.mofile(str(mo)) if e.msgid}
        source = {
            (e.msgctxt, e.msgid): (e.msgstr, {int(k): v for k, v in e.msgstr_plural.items()})
            for e in po.translated_entries()
        }
        compiled = {k: (s, {int(n): v for n, v in p.items()}) for k, (s, p) in compiled.items()}
        if compiled != source:
            found.append(f"{lang}: {mo.relative_to(root)} is older than the .po (scripts/i18n.py compile)")
    return found


def compile_catalogues(root: Path = ROOT) -> None:
    import polib

    for lang in LANGUAGES:
        po = polib.pofile(str(po_path(lang, root)))
        po.save_as_mofile(str(po_path(lang, root).with_suffix(".mo")))
        print(f"{lang}: {len(po.translated_entries())} entries compiled")


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "check"
    if command == "update":
        manage(ROOT, *MAKEMESSAGES)
        import polib

        for lang in LANGUAGES:
            po = polib.pofile(str(po_path(lang)))
            print(f"{lang}: {len(po.untranslated_entries())} untranslated, {len(po.fuzzy_entries())} fuzzy")
        return 0
    if command == "compile":
        compile_catalogues()
        return 0
    if command == "check":
        found = [p for lang in LANGUAGES for p in problems(lang)]
        print("\n".join(found) or "catalogues complete")
        return 1 if found else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
