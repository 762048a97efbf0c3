"""The intake page, the portal, the request pages and the decision letter state the promises
the settings enforce, read from one context value (`promises`, practice.promises.current()),
never typed into the template (Werkwijze: what the coachee reads is what the register does).

A table says, per template, which promises it must state and how it is reached with its real
context (the view through the test client, the letter through the service that writes it).
For each template: every promise's value is found in the text as a reader sees it; each
setting is changed and the text follows; and a meta-test takes each promise out of the
template's source (its `{{ promises.<key> }}`, its `{% if promises.<key> %}` block, its
`x=promises.<key>` argument) and shows that the checker then reports that promise missing, so
the checker could not pass a template that hard-codes a promise.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.http import HttpRequest
from django.template import Context, Engine, RequestContext, engines
from django.template.loader import get_template, render_to_string
from django.test import Client
from django.urls import reverse
from django.utils.formats import localize
from django.utils.html import strip_tags
from django.utils.translation import override

from coachregister.accounts.models import User
from coachregister.coachees.services import consent_texts
from coachregister.disclosures.models import Purpose as ConsentPurpose
from coachregister.lib import deadlines
from coachregister.practice import promises
from coachregister.practice.models import ProcessingPurpose
from coachregister.practice.services import practice_update, purpose_add, purpose_retire
from coachregister.retention.services import policy_set
from coachregister.rights import portal
from coachregister.rights import services as rights
from coachregister.rights.inquiry_views import INQUIRY_PREFIX
from coachregister.rights.models import DataRequest, Kind
from coachregister.testing import factories
from coachregister.trajectories import services as trajectories

pytestmark = [pytest.mark.django_db, pytest.mark.article("Werkwijze")]


# --- the checker ---------------------------------------------------------------------------

# How a number is shown to readers: the value, then its unit (English source or Dutch).
UNITS = {
    "answer_weeks": r"weeks?|weken",
    "retention_years": r"years?|jaar|jaren",
    "extension_months": r"months?|maanden|maand",
}
# Yes/no promises state one of two sentences, each marked with the value it states.
BOOLEANS = {"extension_allowed", "coach_mail_includes_contact_details"}


def reader_text(page: str) -> str:
    """The page's own text as a reader sees it, without the regulation shown inside it (its
    promises are the regulation's, proven in practice/tests/test_regulation.py)."""
    page = re.sub(r'<div class="statement"[^>]*>.*?</div>', "", page, flags=re.S)
    return " ".join(html.unescape(strip_tags(page)).replace("\xa0", " ").split())


def stated(page: str, key: str, value: Any) -> bool:
    """Whether the page states this promise with this value, as a reader sees it."""
    if key in BOOLEANS:
        return f'data-promise="{key}:{"yes" if value else "no"}"' in page
    text = reader_text(page)
    if key == "further_copy_fee":
        amounts = re.findall(r"€\s*(\d[\d.,]*\d|\d)", text)
        if not value:  # no fee: the page names no amount for a further copy
            return not amounts
        return localize(value) in amounts
    return re.search(rf"(?<![\d.,]){value}\s+(?:{UNITS[key]})\b", text) is not None


def missing(page: str, values: dict[str, Any], keys: tuple[str, ...]) -> list[str]:
    """The promises of `keys` that the page does not state with the value in `values`."""
    return [key for key in keys if not stated(page, key, values[key])]


# --- taking a promise out of a template's source -------------------------------------------

_TAG = re.compile(r"{%\s*(if|endif)\b[^%]*%}")


def without_promise(source: str, key: str) -> str:
    """The source with every use of `promises.<key>` taken out: its if-blocks (with their
    else branches), its `{{ }}` output, and its arguments to blocktranslate (then 0)."""
    opening = re.compile(r"{%\s*if\s+promises\." + key + r"\b[^%]*%}")
    while match := opening.search(source):
        depth, end = 1, None
        for tag in _TAG.finditer(source, match.end()):
            depth += 1 if tag.group(1) == "if" else -1
            if depth == 0:
                end = tag.end()
                break
        assert end is not None, "an if without its endif"
        source = source[: match.start()] + source[end:]
    source = re.sub(r"{{\s*promises\." + key + r"\b[^}]*}}", "", source)
    return re.sub(r"(\w+)=promises\." + key + r"\b", r"\1=0", source)


# --- the table -----------------------------------------------------------------------------


@dataclass
class Rendered:
    """A page as sent, with the context and request it was rendered with."""

    page: str
    context: dict[str, Any]
    request: HttpRequest | None
    language: str


@dataclass
class Entry:
    template: str
    keys: tuple[str, ...]
    render: Callable[[World], Rendered]


@dataclass
class World:
    owner: User
    coach: User
    browser: Callable[[User], Client]
    tmp_path: Path


def _view(client: Client, url: str, template: str, data: dict[str, str] | None = None
          ) -> Rendered:
    response = client.post(url, data) if data is not None else client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    names = [t.name for t in response.templates]
    # The context of the view's own template, as the view gave it (texts the view renders
    # before it, such as the consent sentences, come first in the list).
    flat = response.context[names.index(template)].flatten()
    return Rendered(response.content.decode(), flat, response.wsgi_request,
                    response.wsgi_request.LANGUAGE_CODE)


def intake(w: World) -> Rendered:
    factories.regulation()
    _trajectory, _token, code = trajectories.trajectory_open(
        actor=w.owner, request=None, client=factories.client(w.owner), coach=w.coach)
    client = Client()
    client.post(reverse("coachees:intake_start"), {"code": code})
    return _view(client, reverse("coachees:intake_form"), "coachees/intake_form.html")


def _coachee(w: World) -> Any:
    existing = getattr(w, "_coachee", None)
    if existing is None:
        existing = factories.trajectory(w.owner, w.coach).coachee
        w._coachee = existing  # type: ignore[attr-defined]
    return existing


def portal_home(w: World) -> Rendered:
    client = Client()
    session = client.session
    session[portal.SESSION_COACHEE] = _coachee(w).pk
    session.save()
    return _view(client, reverse("rights:portal_home"), "rights/portal_home.html")


def portal_start(w: World) -> Rendered:
    return _view(Client(), reverse("rights:portal_start"), "rights/portal_start.html")


def inquiry_sent(w: World) -> Rendered:
    return _view(Client(), reverse("rights:portal_inquiry"), "rights/inquiry_sent.html",
                 {f"{INQUIRY_PREFIX}-name": "Iemand Anders",
                  f"{INQUIRY_PREFIX}-email": "iemand@voorbeeld.example",
                  f"{INQUIRY_PREFIX}-question": "Verwerkt u gegevens over mij?"})


def request_list(w: World) -> Rendered:
    return _view(w.browser(w.owner), reverse("rights:list"), "rights/request_list.html")


def _request(w: World) -> DataRequest:
    existing = getattr(w, "_request", None)
    if existing is None:
        existing = rights.request_register(
            actor=w.owner, request=None, coachee=_coachee(w), kind=Kind.ACCESS,
            channel="email", verification="reply from the email on file")
        w._request = existing  # type: ignore[attr-defined]
    return existing


def request_detail(w: World) -> Rendered:
    return _view(w.browser(w.owner), reverse("rights:detail", args=[_request(w).pk]),
                 "rights/request_detail.html")


def letter(w: World) -> Rendered:
    """The access answer as the service writes it: the context handed to the PDF renderer
    is captured, and the letter is rendered from it as the renderer does."""
    import coachregister.lib.pdf as pdf

    captured: dict[str, Any] = {}
    original = pdf.render_pdf

    def capture(template: str, context: dict[str, Any], language: str = "nl") -> bytes:
        captured.update(template=template, context=context, language=language)
        return b"%PDF-1.4 captured"

    pdf.render_pdf = capture  # type: ignore[assignment]
    try:
        coachee = _coachee(w)
        data_request = rights.request_register(
            actor=w.owner, request=None, coachee=coachee, kind=Kind.ACCESS, channel="email",
            verification="reply from the email on file")
        rights.request_decide(actor=w.owner, request=None, data_request=data_request,
                              decision="granted")
    finally:
        pdf.render_pdf = original  # type: ignore[assignment]
    assert captured["template"] == "rights/letter_decision.html"
    with override(captured["language"]):
        page = render_to_string(captured["template"], captured["context"])
    return Rendered(page, captured["context"], None, captured["language"])


TABLE = [
    Entry("coachees/intake_form.html", ("retention_years", "answer_weeks"), intake),
    Entry("coachees/includes/who_sees.html", ("coach_mail_includes_contact_details",), intake),
    Entry("rights/portal_home.html",
          ("answer_weeks", "extension_allowed", "extension_months", "further_copy_fee"),
          portal_home),
    Entry("rights/includes/inquiry_form.html", ("answer_weeks",), portal_start),
    Entry("rights/inquiry_sent.html", ("answer_weeks",), inquiry_sent),
    Entry("rights/request_list.html", ("answer_weeks",), request_list),
    Entry("rights/request_detail.html", ("answer_weeks", "extension_months"), request_detail),
    Entry("rights/letter_decision.html", ("retention_years", "further_copy_fee"), letter),
]
PAIRS = [(e, key) for e in TABLE for key in e.keys]


def _id(value: object) -> str:
    return value.template if isinstance(value, Entry) else str(value)


@pytest.fixture
def world(owner: User, coach: User, client_for: Callable[[User], Client], tmp_path: Path
          ) -> World:
    # A fee and an allowed extension, so that every promise has something to state.
    practice_update(actor=owner, request=None, further_copy_fee=Decimal("7.50"),
                    extension_allowed=True)
    return World(owner, coach, client_for, tmp_path)


# --- changing each setting -----------------------------------------------------------------


def _extension_months(monkeypatch: pytest.MonkeyPatch, months: int) -> None:
    values = promises._values
    monkeypatch.setattr(promises, "_values",
                        lambda *a: {**values(*a), "extension_months": months})


CHANGES: dict[str, Callable[[World, pytest.MonkeyPatch], None]] = {
    "retention_years": lambda w, mp: policy_set(actor=w.owner, request=None, years=5),
    # A constant of lib.deadlines, which the deadlines are computed from.
    "answer_weeks": lambda w, mp: mp.setattr(deadlines, "ANSWER_WEEKS", 6),
    # A constant of practice.promises (the GDPR's ceiling), changed where it is read.
    "extension_months": lambda w, mp: _extension_months(mp, 2),
    "extension_allowed": lambda w, mp: practice_update(actor=w.owner, request=None,
                                                       extension_allowed=False),
    "further_copy_fee": lambda w, mp: practice_update(actor=w.owner, request=None,
                                                      further_copy_fee=Decimal("12.25")),
    "coach_mail_includes_contact_details": lambda w, mp: practice_update(
        actor=w.owner, request=None, coach_mail_includes_contact_details=not promises.current()[
            "coach_mail_includes_contact_details"]),
}


# --- the tests -----------------------------------------------------------------------------


@pytest.mark.parametrize("entry", TABLE, ids=_id)
def test_each_template_states_its_promises(entry: Entry, world: World) -> None:
    rendered = entry.render(world)
    with override(rendered.language):
        assert missing(rendered.page, promises.current(), entry.keys) == []
    assert rendered.context["promises"] == promises.current()  # the one context value


@pytest.mark.parametrize(("entry", "key"), PAIRS, ids=_id)
def test_the_text_follows_each_setting(entry: Entry, key: str, world: World,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    before = promises.current()
    CHANGES[key](world, monkeypatch)
    after = promises.current()
    assert after[key] != before[key]
    rendered = entry.render(world)
    with override(rendered.language):
        assert missing(rendered.page, after, (key,)) == []
        assert missing(rendered.page, before, (key,)) == [key]


def _with_includes(name: str) -> dict[str, str]:
    """The template's source and the sources of the templates it includes, by name."""
    found: dict[str, str] = {}
    todo = [name]
    while todo:
        current = todo.pop()
        if current in found:
            continue
        found[current] = get_template(current).template.source
        todo += re.findall(r"""{%\s*include\s+["']([^"']+)["']""", found[current])
    return found


def _render_sources(sources: dict[str, str], name: str, rendered: Rendered) -> str:
    """Render `name` with these sources in place of the stored ones (includes too), with
    the context the page or letter was rendered with."""
    default = engines["django"].engine
    engine = Engine(
        dirs=default.dirs, app_dirs=False, context_processors=default.context_processors,
        libraries=default.libraries, builtins=default.builtins,
        loaders=[("django.template.loaders.locmem.Loader", sources), *default.loaders],
    )
    template = engine.get_template(name)
    if rendered.request is None:
        return template.render(Context(rendered.context))
    return template.render(RequestContext(rendered.request, rendered.context))


@pytest.mark.parametrize(("entry", "key"), PAIRS, ids=_id)
def test_the_checker_notices_a_promise_taken_out(entry: Entry, key: str, world: World
                                                 ) -> None:
    rendered = entry.render(world)
    sources = _with_includes(entry.template)
    edited = {name: without_promise(source, key) for name, source in sources.items()}
    assert edited[entry.template] != sources[entry.template]  # the template states it itself
    with override(rendered.language):
        again = _render_sources(sources, entry.template, rendered)
        assert missing(again, promises.current(), (key,)) == []
        taken_out = _render_sources(edited, entry.template, rendered)
        assert missing(taken_out, promises.current(), (key,)) == [key]


def test_the_intake_names_the_purposes_from_the_list(world: World) -> None:
    added = purpose_add(actor=world.owner, request=None, name="Afstemming re-integratie",
                        basis="consent")

    def purposes_named() -> tuple[str, str]:  # the page's own list, not the regulation text shown on it
        rendered = intake(world)
        part = re.search(r'data-testid="purposes">(.*?)</p>', rendered.page, re.S)
        assert part is not None
        with override(rendered.language):
            return reader_text(part.group(1)), str(ProcessingPurpose.coaching().label)

    named, coaching = purposes_named()
    assert coaching in named and "Afstemming re-integratie" in named
    purpose_retire(actor=world.owner, request=None, purpose=added)
    named, coaching = purposes_named()
    assert coaching in named and "Afstemming re-integratie" not in named


def test_the_consent_names_the_built_in_purpose_by_its_label(world: World,
                                                             monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    with override("nl"):
        label = str(ProcessingPurpose.coaching().label)
    text = consent_texts()[ConsentPurpose.REGULATION]
    assert label in text
    monkeypatch.setattr(ProcessingPurpose, "label", property(lambda self: "ander doel"))
    assert "ander doel" in consent_texts()[ConsentPurpose.REGULATION]


def test_the_letter_as_pdf_states_the_retention_in_force(world: World, tmp_path: Path) -> None:
    import subprocess

    policy_set(actor=world.owner, request=None, years=5)
    coachee = _coachee(world)
    data_request = rights.request_register(
        actor=world.owner, request=None, coachee=coachee, kind=Kind.ACCESS, channel="email",
        verification="reply from the email on file")
    rights.request_decide(actor=world.owner, request=None, data_request=data_request,
                          decision="granted")
    path = tmp_path / "letter.pdf"
    path.write_bytes(rights.letter_pdf(data_request.letters.get()))
    text = " ".join(subprocess.run(["pdftotext", str(path), "-"], capture_output=True,
                                   text=True, check=True).stdout.split())
    assert stated(text, "retention_years", 5)
    assert not stated(text, "retention_years", 7)
