"""Safe writes for every API view: ETag / If-Match (RFC 9110 §8.8.3, §13.1.1; 428 from RFC 6585) and
`Idempotency-Key` on POST (`casemgmt.api.idempotency`).

- Every unsafe request (POST, PUT, PATCH, DELETE) runs in one transaction; an answer of 400 or more rolls
  it back, so a failed request leaves nothing behind (its idempotency key included).
- A single resource's GET answers with an `ETag`: an HMAC of the resource's *stored state* (every column
  of its row, plus the rows named in `etag_related`, e.g. a case's participant), keyed with the secret
  key so the tag reveals nothing of columns the caller does not see. It is strong (no `W/`), because
  If-Match compares strongly: it changes with every stored change of the resource. Values the
  representation derives from *other* resources (a case's lead contact, an opportunity's free places)
  are not part of it. Writes answer with the new tag.
- Conditional writes are PUT, PATCH, DELETE and the detail POST actions listed in `conditional_actions`
  (a step that changes the addressed resource itself: a stage move, a workflow decision, logging a
  session). With `If-Match`, the addressed row is locked (`SELECT … FOR UPDATE`) *before* it is read
  through the access policy, and the tag is compared under that lock in the write's transaction: of
  two concurrent writers with the same tag, the second waits, then sees the first one's change and gets
  412. Without `If-Match`, a partner client (a request authenticated by an OAuth2 access token) gets
  428; staff sessions may omit it (their pages have no ETags). Scope comes first: a row the caller may
  not read answers 404 whatever the headers.
"""

from __future__ import annotations

import json

from django.db import transaction
from django.utils.crypto import salted_hmac
from django.utils.http import parse_etags
from rest_framework.permissions import SAFE_METHODS

from . import idempotency
from .problems import PreconditionFailed, PreconditionRequired

WRITE_METHODS = frozenset({"PUT", "PATCH", "DELETE"})


def is_partner_client(request) -> bool:
    from oauth2_provider.models import get_access_token_model

    return isinstance(getattr(request, "auth", None), get_access_token_model())


def _row_state(row) -> list:
    if row is None:
        return [None]
    if row.get_deferred_fields():  # a partial read (`only()`): hash the whole stored row
        row = type(row)._base_manager.get(pk=row.pk)
    return [row._meta.label, [[f.attname, f.value_from_object(row)] for f in row._meta.concrete_fields]]


def _related(obj, name: str):
    try:
        return getattr(obj, name)
    except obj._meta.get_field(name).related_model.DoesNotExist:
        return None


def state_etag(obj, related: tuple[str, ...] = ()) -> str:
    """The strong ETag of a stored resource: its row and its `related` one-to-one rows."""
    state = [_row_state(obj), *(_row_state(_related(obj, name)) for name in related)]
    payload = json.dumps(state, sort_keys=True, separators=(",", ":"), default=str)
    return f'"{salted_hmac("casemgmt.api.etag", payload, algorithm="sha256").hexdigest()[:40]}"'


def content_etag(data) -> str:
    """The strong ETag of a computed resource (no row of its own): its representation."""
    payload = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return f'"{salted_hmac("casemgmt.api.etag", payload, algorithm="sha256").hexdigest()[:40]}"'


def if_match_passes(header: str, current: str) -> bool:
    """Strong comparison (RFC 9110 §13.1.1): a weak tag never matches; `*` matches an existing resource."""
    tags = parse_etags(header)
    return "*" in tags or any(tag == current for tag in tags if not tag.startswith("W/"))


class SafeWritesMixin:
    """Apply to every API view (first base). See the module docstring for the rules."""

    # one-to-one rows that belong to the resource (their columns count in its ETag)
    etag_related: tuple[str, ...] = ()
    # detail POST actions that change the addressed resource itself: they take If-Match
    conditional_actions: frozenset[str] = frozenset()
    # detail writes that have no representation (no GET) of their own, so no tag to send
    unconditional_actions: frozenset[str] = frozenset()
    # a view without a row of its own (`me`, a report) whose GET still carries an ETag of its content
    etag_from_content: bool = False

    _claim = None
    _etag_row = None

    def is_conditional(self, method: str | None = None) -> bool:
        method = (method or self.request.method).upper()
        action = getattr(self, "action", None)
        if method in WRITE_METHODS:
            return action not in self.unconditional_actions
        return method == "POST" and action in self.conditional_actions

    def dispatch(self, request, *args, **kwargs):
        if request.method in SAFE_METHODS:
            return super().dispatch(request, *args, **kwargs)
        with transaction.atomic():
            response = super().dispatch(request, *args, **kwargs)
            if response.status_code >= 400:
                transaction.set_rollback(True)
            elif self._claim is not None:
                idempotency.remember(self._claim, response)
        return response

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # authentication, permissions, throttles first
        if request.method == "POST":
            self._claim = idempotency.begin(request)

    def handle_exception(self, exc):
        if isinstance(exc, idempotency.Replay):
            return exc.response()
        return super().handle_exception(exc)

    def get_object(self):
        conditional = self.request.method not in SAFE_METHODS and self.is_conditional()
        header = self.request.headers.get("If-Match")
        if conditional and header is not None:
            self._lock_addressed_row()
        obj = super().get_object()  # through the access policy: out of scope is 404, headers or not
        if conditional:
            if header is None and is_partner_client(self.request):
                raise PreconditionRequired
            if header is not None and not if_match_passes(header, state_etag(obj, self.etag_related)):
                raise PreconditionFailed
            self._etag_row = obj
        elif self.request.method in ("GET", "HEAD") and getattr(self, "action", None) == "retrieve":
            self._etag_row = obj
            self._etag = state_etag(obj, self.etag_related)
        return obj

    def _lock_addressed_row(self) -> None:
        """Lock the row the URL names before the policy reads it, so what we compare is what we write
        over. A row the caller may not see is locked for the length of a 404 and nothing is read."""
        lookup = self.lookup_url_kwarg or self.lookup_field
        value = self.kwargs.get(lookup)
        model = self.get_queryset().model
        if value is not None and str(value).isdecimal():
            list(model._base_manager.select_for_update().filter(**{self.lookup_field: value}).values_list("pk"))

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if response.status_code >= 300 or response.has_header("ETag"):
            return response
        if request.method in ("GET", "HEAD"):
            etag = getattr(self, "_etag", None)
            single = getattr(self, "action", "retrieve") == "retrieve"  # APIViews have no action
            if etag is None and self.etag_from_content and single and response.data is not None:
                etag = content_etag(response.data)
            if etag is not None:
                response["ETag"] = etag
        elif self._etag_row is not None and response.status_code != 204:
            row = self._etag_row
            fresh = type(row)._base_manager.filter(pk=row.pk).first()  # the state this write leaves
            if fresh is not None:
                response["ETag"] = state_etag(fresh, self.etag_related)
        return response
