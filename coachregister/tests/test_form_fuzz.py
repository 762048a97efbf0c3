"""Hostile input never breaks a page (art. 6: the register stays available; a crafted
address or form must not end in a server error).

For every URL pattern and every role that may open it (the roles come from the
authorization matrix, tests/test_role_matrix.py), the page is fetched, the names of its form
fields are read from the HTML (input, select, textarea; not the CSRF token), and Hypothesis
sends GET query strings and POST bodies (to each form's own action) with hostile values for
those names: empty, huge, unicode, NUL bytes, dates at the ends of the calendar, negative and
huge numbers, repeated keys, ids that are not numbers. Every answer must be below 500.

Public pages are fuzzed anonymously, the portal as the coachee signed in to it. Each example
runs in a savepoint that is rolled back, so a form that happens to be valid carries out
nothing the next example would see; forms with no field but the CSRF token (sign out, publish
the statement, withdraw a consent, ...) have nothing to fuzz and are reached by the matrix.
The examples are derandomized: the same inputs on every run, so a CI run never turns red
because Hypothesis happened to find something new that day.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.db import transaction
from django.test import Client
from django.urls import Resolver404, resolve, reverse
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from coachregister.tests.test_role_matrix import (  # noqa: F401 (the fixture)
    ANON,
    COACH,
    OK,
    ROLES,
    TABLE,
    TP_EXPIRED,
    World,
    clients_for,
    world,
)

pytestmark = [pytest.mark.django_db, pytest.mark.article("6")]

EXAMPLES = 5  # per form and role; the whole file stays within about two minutes on SQLite
FUZZ = settings(
    derandomize=True,
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


# --- reading the forms ---------------------------------------------------------------------


@dataclass
class Form:
    method: str
    action: str
    names: list[str] = field(default_factory=list)
    options: dict[str, list[str]] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)


class _Forms(HTMLParser):
    def __init__(self, page: str) -> None:
        super().__init__()
        self.page = page
        self.forms: list[Form] = []
        self.loose = Form("get", page)  # fields outside any form
        self.current: Form | None = None
        self.select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        target = self.current or self.loose
        if tag == "form":
            self.current = Form(a.get("method", "get").lower(), a.get("action") or self.page)
        elif tag in ("input", "select", "textarea") and a.get("name"):
            name = a["name"]
            if name == "csrfmiddlewaretoken" or a.get("type") in ("submit", "button"):
                return
            if name not in target.names:
                target.names.append(name)
                target.types[name] = a.get("type", tag) if tag == "input" else tag
            if a.get("value"):
                target.options.setdefault(name, []).append(a["value"])
            if tag == "select":
                self.select = name
        elif tag == "option" and self.select:
            target.options.setdefault(self.select, []).append(a.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self.current is not None:
            self.forms.append(self.current)
            self.current = None
        elif tag == "select":
            self.select = None


def forms_of(html: str, page: str) -> list[Form]:
    parser = _Forms(page)
    parser.feed(html)
    found = [f for f in parser.forms if f.names]
    if parser.loose.names:
        found.append(parser.loose)
    # The page itself also gets every name as a query string.
    every = Form("get", page)
    for form in found:
        every.names += [n for n in form.names if n not in every.names]
        every.types = {**form.types, **every.types}
        for name, values in form.options.items():
            every.options.setdefault(name, []).extend(values)
    return [every, *found] if every.names else found


# --- hostile values ------------------------------------------------------------------------

TEXT = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=40)
HOSTILE = st.one_of(
    st.just(""),
    TEXT,
    st.just("\x00"),
    TEXT.map(lambda s: f"{s}\x00{s}"),
    st.sampled_from(["A" * 20_000, "9" * 400, "ü" * 5_000, "<script>x</script>", "' OR 1=1 --",
                     "%00", "../../etc/passwd", "\u202e\ufeff", "😀" * 50]),
    st.sampled_from(["0001-01-01", "9999-12-31", "0000-00-00", "2026-02-30", "99999-01-01",
                     "-0001-01-01", "0001-01-01T00:00", "9999-12-31T23:59", "1-1-1",
                     "2026-13-01", "31-12-9999"]),
    st.integers(min_value=-(2**80), max_value=2**80).map(str),
    st.sampled_from(["-1", "0", "1", "2147483648", str(2**63), str(-(2**63) - 1), "1e309", "NaN",
                     "inf", "1.5", "0x10", " 1 ", "١٢"]),
)


DATES = ("date", "datetime-local")


def _numeric(form: Form, name: str) -> bool:
    values = [v for v in form.options.get(name, []) if v]
    return form.types.get(name) in ("number", "hidden", "checkbox") or bool(
        values and all(v.isdigit() for v in values)
    )


def battery(form: Form) -> list[dict[str, Any]]:
    """Fixed examples that always run: one hostile field at a time among plausible others (an
    invalid neighbour would hide a broken field behind a form error), then all at once."""
    plausible = {"date": "2026-01-05", "datetime-local": "2026-01-05T10:00", "number": "1",
                 "email": "iemand@voorbeeld.example", "text": "Werkdruk", "textarea": "Werkdruk"}
    base = {
        n: next((v for v in form.options.get(n, []) if v), plausible.get(form.types.get(n), ""))
        for n in form.names
    }
    examples = []
    for name in form.names:
        if form.types.get(name) in DATES or "date" in name or name.endswith(("_on", "_from",
                                                                             "_until")):
            hostile = ["0001-01-01", "9999-12-31", "0001-01-01T00:00", "9999-12-31T23:59"]
        elif _numeric(form, name):
            hostile = [str(2**70), "-1", "abc", ["1", "x"]]
        else:
            hostile = ["A" * 20_000]
        examples += [{**base, name: value} for value in hostile]
    examples += [{n: "\x00" for n in form.names}, {n: ["", "\x00", "-1"] for n in form.names}]
    return examples


def payload(form: Form) -> st.SearchStrategy[dict[str, Any]]:
    def one(name: str) -> st.SearchStrategy[Any]:
        choices = form.options.get(name)
        value = st.one_of(st.sampled_from(choices), HOSTILE) if choices else HOSTILE
        return st.one_of(st.none(), value, st.lists(value, min_size=2, max_size=3))

    return st.fixed_dictionaries({name: one(name) for name in form.names}).map(
        lambda d: {k: v for k, v in d.items() if v is not None}
    )


# --- the test ------------------------------------------------------------------------------


OWN_ACCOUNT = {"accounts:two_factor_enrol", "accounts:reauth", "accounts:password_change",
               "accounts:account", "accounts:confidentiality", "accounts:dashboard"}
"""Pages about one's own account, the same form for every role: fuzzed as one role, since each
request there costs a password hash or a QR code."""


def fuzz_roles(name: str) -> list[str]:
    """Who may open the page (its own object): public pages anonymously only."""
    get = TABLE[name].get
    roles = [r for r in ROLES if get[r][0] == OK and r != TP_EXPIRED]
    if ANON in roles:
        return [ANON]
    return [COACH] if name in OWN_ACCOUNT else roles


def _same_site(action: str) -> str | None:
    parts = urlsplit(action)
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return None
    try:
        resolve(parts.path)
    except Resolver404:
        return None
    return parts.path


def _fuzz(client: Client, form: Form, check: Callable[[Any], None]) -> None:
    send = client.post if form.method == "post" else client.get

    @FUZZ
    @given(data=payload(form))
    def run(data: dict[str, Any]) -> None:
        with transaction.atomic():
            response = send(form.action, data)
            transaction.set_rollback(True)
        check(response)

    for fixed in battery(form):
        run = example(data=fixed)(run)
    run()


def _open_invitation(w: World, client: Client) -> None:
    """The intake form needs an invitation in the session, as after entering a code."""
    from coachregister.coachees.views import SESSION_INVITATION
    from coachregister.trajectories import services
    from coachregister.trajectories.models import Invitation

    trajectory, _token, _code = services.trajectory_open(
        actor=w.users["owner"], request=None, client=_client(w), coach=w.users["coach"]
    )
    session = client.session
    session[SESSION_INVITATION] = Invitation.objects.get(trajectory=trajectory).pk
    session.save()


def _client(w: World) -> Any:
    from coachregister.trajectories.models import ClientOrganisation

    return ClientOrganisation.objects.get(pk=w.own["client"])


SEEN: set[tuple[str, str, str, tuple[str, ...]]] = set()
"""(role, method, view, field names) already fuzzed in this run: the forms of the page
layout (the language switch) are fuzzed once per role, not on every page."""
FUZZED = [name for name in sorted(TABLE) if fuzz_roles(name)]


@pytest.mark.parametrize("name", FUZZED)
def test_hostile_input_never_breaks_a_page(name: str, world: World) -> None:  # noqa: F811
    row = TABLE[name]
    clients = clients_for(world)
    url = reverse(name, kwargs=row.kwargs(world, world.own) if row.kwargs else None)
    for role in fuzz_roles(name):
        client = clients[role]
        if name == "coachees:intake_form":
            _open_invitation(world, client)
        page = client.get(url)
        assert page.status_code < 500
        html = page.content.decode("utf-8", "replace") if page.status_code == 200 else ""

        def check(response: Any, role: str = role) -> None:
            assert response.status_code < 500, (role, response.status_code)

        for form in forms_of(html, url):
            action = _same_site(form.action)
            key = (role, form.method, resolve(action).view_name if action else "",
                   tuple(form.names))
            if action is None or key in SEEN:
                continue
            SEEN.add(key)
            form.action = action
            _fuzz(client, form, check)
