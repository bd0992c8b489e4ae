"""The scan after the suite (scripts/logscan.py) fails on the marker and on a run that never planted it."""

from __future__ import annotations

import logging
import sys

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
from logscan import PLANTED, main, scan

from casemgmt.logs import PersonalDataFilter, PersonalDataFormatter


def test_the_scan_finds_the_marker_in_any_case_and_names_file_and_line(tmp_path, capsys):
    (tmp_path / "gw0-1.log").write_text("ok line\nERROR something about qxdeadbeef7 here\n")
    (tmp_path / "celery-2.log").write_text("clean\n")
    (tmp_path / PLANTED).write_text("Qxdeadbeef")
    assert scan(tmp_path, "Qxdeadbeef") == ["gw0-1.log:2: ERROR something about qxdeadbeef7 here"]
    assert main([str(tmp_path), "Qxdeadbeef", "--require-planted"]) == 1
    assert "gw0-1.log:2" in capsys.readouterr().out


def test_a_full_run_without_the_planted_marker_fails(tmp_path):
    (tmp_path / "gw0-1.log").write_text("clean\n")
    assert main([str(tmp_path), "Qxdeadbeef"]) == 0
    assert main([str(tmp_path), "Qxdeadbeef", "--require-planted"]) == 1


def test_the_formatter_keeps_the_stack_and_the_type_but_not_the_message():
    secret = "Qx" + "secret"  # the traceback shows source lines: code, where the value is not written out
    try:
        try:
            raise KeyError(f"{secret} national id")
        except KeyError as inner:
            raise ValueError(f"{secret} name") from inner
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed: %s", (ValueError(secret),), sys.exc_info())
    assert PersonalDataFilter().filter(record)
    text = PersonalDataFormatter("%(message)s").format(record)
    assert "Qxsecret" not in text
    assert "builtins.KeyError (message withheld" in text
    assert "builtins.ValueError (message withheld" in text
    assert "test_logscan.py" in text  # where it failed
    assert text.startswith("failed: builtins.ValueError (message withheld")


def test_query_strings_of_request_lines_are_cut():
    record = logging.LogRecord(
        "django.server", logging.INFO, __file__, 1, '"%s" %s %s', ("GET /cases/?q=Qxname HTTP/1.1", "200", "5"), None
    )
    PersonalDataFilter().filter(record)
    assert record.getMessage() == '"GET /cases/?… HTTP/1.1" 200 5'
