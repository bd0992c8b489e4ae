"""Logging that carries no personal data (issue 11): ids and case codes only.

Our own log lines name ids and case codes, never a model's text (see ARCHITECTURE.md, "Headers,
CSP and logs"). What we do not write ourselves is where personal data slips in:

- exception messages: PostgreSQL's "Key (national_id)=(...) already exists", a ValueError quoting
  its input, Celery's "Task ... raised unexpected: ValueError('...')". Tracebacks keep the stack
  (file, line, function, source line: code, not data) and the exception's type; the message is
  withheld. The same for an exception passed as a log argument.
- query strings in request lines (runserver's `django.server`): a search for a name or a national
  ID travels in the URL. The path is kept, the query replaced.

The filter and the formatter are installed on every handler of settings.LOGGING, which the web
processes, the Celery worker (casemgmt/celery.py) and the commands all use.
"""

from __future__ import annotations

import logging
import re
import traceback

WITHHELD = "(message withheld: may hold personal data)"
_QUERY = re.compile(r"(\S)\?[^\s\"]*")


def _exception_text(exc: BaseException) -> str:
    # The SQLSTATE says which constraint kind failed without the values (psycopg errors carry it).
    sqlstate = getattr(getattr(exc, "__cause__", None), "sqlstate", None) or getattr(exc, "sqlstate", None)
    code = f" [SQLSTATE {sqlstate}]" if sqlstate else ""
    return f"{type(exc).__module__}.{type(exc).__qualname__}{code} {WITHHELD}"


def _scrub(value):
    if isinstance(value, BaseException):
        return _exception_text(value)
    if isinstance(value, str) and "?" in value:
        return _QUERY.sub(r"\1?…", value)
    return value


# Celery's task records (received, failed, retried) are formatted from a dict that holds the task's
# arguments, the exception's repr (a string by then) and the traceback's text.
_CELERY_WITHHELD = {"args", "kwargs", "traceback"}
_REPR_TYPE = re.compile(r"[\w.]+")


def _scrub_mapping(mapping: dict) -> dict:
    out = {}
    for key, value in mapping.items():
        if key in _CELERY_WITHHELD:
            out[key] = "…"
        elif key == "exc" and isinstance(value, str):
            kind = _REPR_TYPE.match(value)
            out[key] = f"{kind.group(0) if kind else 'exception'} {WITHHELD}"
        else:
            out[key] = _scrub(value)
    return out


class PersonalDataFilter(logging.Filter):
    """Replaces exceptions among a record's arguments by their type, Celery's task arguments and
    exception texts by '…' and the type, and query strings by '?…'."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, BaseException):
            record.msg = _exception_text(record.msg)
        if isinstance(record.args, dict):
            record.args = _scrub_mapping(record.args)
        elif isinstance(record.args, tuple):
            record.args = tuple(_scrub(value) for value in record.args)
        if isinstance(getattr(record, "data", None), dict):
            record.data = _scrub_mapping(record.data)
        return True


class PersonalDataFormatter(logging.Formatter):
    """A traceback with the stack and the exception types of the chain, without their messages."""

    def formatException(self, ei) -> str:
        _type, exc, _tb = ei
        if exc is None:
            return super().formatException(ei)
        lines: list[str] = []
        seen: set[int] = set()
        chain: list[BaseException] = []
        while exc is not None and id(exc) not in seen:
            seen.add(id(exc))
            chain.append(exc)
            exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
        for position, current in enumerate(reversed(chain)):
            if position:
                lines.append("\nThe above exception led to:\n")
            lines.append("Traceback (most recent call last):\n")
            lines.extend(traceback.format_list(traceback.extract_tb(current.__traceback__)))
            lines.append(_exception_text(current) + "\n")
        return "".join(lines).rstrip("\n")

    def formatStack(self, stack_info: str) -> str:
        return stack_info
