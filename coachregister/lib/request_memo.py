"""A memo that lives exactly as long as one request (issue 15: less per request).

Some rows are read by several parts of every page: the practice settings (the sign-in
policy, the page header, the two-step labels) and whether the user accepted the current
confidentiality statement (the access gate). `RequestMemoMiddleware` opens an empty memo when
a request starts and drops it in `finally` when the request ends, so such a value is read
from the database at most once per request and never outlives it.

It is deliberately not a per-process cache: another gunicorn worker (or thread) would not
see a change, and the practice settings decide who may sign in with a password alone. Each
request reads the database afresh.

Outside a request (the worker, management commands, tests that call services directly)
there is no memo: `current()` is None and every read goes to the database, as before.

Whoever changes a memoised value calls `forget(key)` right after the write (the
PracticeSettings save, publishing or accepting the confidentiality statement), so the rest
of the same request reads the new value from the database. The memo lives in a ContextVar,
which is local to the thread (gunicorn's gthread workers) and to an asyncio task.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.http import HttpRequest, HttpResponse

_memo: ContextVar[dict[str, Any] | None] = ContextVar("coachregister_request_memo", default=None)


def current() -> dict[str, Any] | None:
    """The memo of the request being handled, or None outside a request."""
    return _memo.get()


def forget(*keys: str) -> None:
    """Drop `keys` from the current request's memo (nothing happens outside a request)."""
    memo = _memo.get()
    if memo is not None:
        for key in keys:
            memo.pop(key, None)


def forget_prefix(prefix: str) -> None:
    """Drop every key that starts with `prefix` (for values kept per user)."""
    memo = _memo.get()
    if memo is not None:
        for key in [k for k in memo if k.startswith(prefix)]:
            del memo[key]


class RequestMemoMiddleware:
    """First in the stack: an empty memo for each request, reset when it ends (also when the
    view raises), so nothing is carried to the next request on the same thread."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _memo.set({})
        try:
            return self.get_response(request)
        finally:
            _memo.reset(token)
