"""Every URL pattern, visited anonymously: only the pages meant to be public answer.

Views are closed by default (AccessPolicyMiddleware); a view opens itself with `@public`.
This test lists the public ones by name, so adding an open view fails it until the list (and
the review that comes with changing it) says so.
"""

from __future__ import annotations

import re
import types
from collections.abc import Iterator

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, path

from coachregister.accounts.access import public

pytestmark = [pytest.mark.django_db, pytest.mark.article("5.1")]

MEANT_TO_BE_PUBLIC = {
    "accounts:login",
    "accounts:login_verify",
    "set_language",
    "coachees:intake_start",
    "coachees:intake_link",
    "coachees:intake_form",
    "coachees:intake_done",
    # The coachee portal: no staff account; a link to the email on file opens a session for
    # that coachee only (rights/portal_views.py, `portal_required`).
    "rights:portal_start",
    "rights:portal_enter",
    "rights:portal_home",
    "rights:portal_json",
    "rights:portal_letter",
    "rights:portal_withdraw",
    "rights:portal_leave",
    "rights:portal_keywords_withdraw",
    # Art. 7.1: anyone may ask whether their data is processed (rights/inquiry_views.py).
    "rights:portal_inquiry",
    # Art. 9.2: the coachee's preview of a prepared disclosure (`portal_required`).
    "disclosures:portal_proposal",
    # Art. 4.1d, 11: the coachee files a complaint and reads its letters (`portal_required`).
    "complaints:portal",
    "complaints:portal_letter",
    # Werkwijze: the privacy regulation in force, for coachees and clients alike.
    "practice:regulation_public",
}
# Without a pending password step or a real token these answer "sign in" or "not found".
ANSWER_ONLY_WITH_STATE = {"accounts:login_verify", "coachees:intake_link"}

_SAMPLE = {"int": "1", "slug": "x", "str": "x", "path": "x/y", "uuid": "00000000-0000-0000-0000-000000000000"}


def _walk(patterns: list, prefix: str = "", namespace: str = "") -> Iterator[tuple[str, str]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            route = prefix + str(entry.pattern)
            url = "/" + re.sub(r"<(?:(\w+):)?\w+>", lambda m: _SAMPLE[m.group(1) or "str"], route)
            yield f"{namespace}{entry.name}", url


def anonymously_reachable(urlconf: str | types.ModuleType | None = None) -> dict[str, int]:
    """View name -> status, for every pattern that did not send the visitor to sign in."""
    client = Client()
    reachable = {}
    for name, url in _walk(get_resolver(urlconf).url_patterns):
        for method in (client.get, client.post):
            response = method(url, **({"urlconf": urlconf} if urlconf else {}))
            to_login = response.status_code == 302 and response["Location"].startswith("/login/")
            if not to_login and response.status_code not in (404, 405):
                reachable[name] = response.status_code
    return reachable


def test_only_the_intended_pages_are_public(practice: object) -> None:
    assert set(anonymously_reachable()) == MEANT_TO_BE_PUBLIC - ANSWER_ONLY_WITH_STATE
    names = {name for name, _url in _walk(get_resolver().url_patterns)}
    assert names >= MEANT_TO_BE_PUBLIC


def _unmarked(request: HttpRequest) -> HttpResponse:
    return HttpResponse("personal data")


def _marked(request: HttpRequest) -> HttpResponse:
    return HttpResponse("open")


extra_urls = types.ModuleType("extra_urls")
extra_urls.urlpatterns = [  # type: ignore[attr-defined]
    path("forgotten/", _unmarked, name="forgotten"),
    path("opened/", public(_marked), name="opened"),
    *get_resolver().url_patterns,
]


def test_a_view_added_without_marking_is_closed_and_a_public_one_is_caught(
    practice: object, settings: object
) -> None:
    import sys

    sys.modules["extra_urls"] = extra_urls
    settings.ROOT_URLCONF = "extra_urls"  # type: ignore[attr-defined]
    reachable = anonymously_reachable("extra_urls")
    assert "forgotten" not in reachable  # closed by default
    assert set(reachable) - MEANT_TO_BE_PUBLIC == {"opened"}  # the walk names the new one
