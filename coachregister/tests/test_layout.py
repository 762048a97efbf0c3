"""Issue 14, screens a reader can use: one date format per kind of place, phone numbers as a
Dutch reader dials them, a distinct title on every public page, and the demo's mail folder
that only development honours (art. 6: files with portal links never in production)."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from django.template import Context, Template
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone, translation

from coachregister.accounts.models import User
from coachregister.checks import no_mail_folder
from coachregister.conftest import sign_in
from coachregister.lib.display import phone_display
from coachregister.rights.portal import SESSION_COACHEE
from coachregister.testing import factories
from coachregister.testing.server import server_env
from coachregister.trajectories.services import trajectory_open

WINTER = dt.datetime(2026, 11, 27, 7, 51, tzinfo=dt.UTC)  # 08:51 in Amsterdam
SUMMER = dt.datetime(2026, 7, 3, 6, 5, tzinfo=dt.UTC)  # 08:05 in Amsterdam


def render(source: str, **context: object) -> str:
    return Template(source).render(Context(context))


@pytest.mark.article("7.1")
def test_dates_in_tables_are_day_month_year_in_local_time() -> None:
    with translation.override("nl"):
        assert render("{{ when|tabledate }}", when=WINTER) == "27-11-2026 08:51"
        assert render("{{ when|tabledate }}", when=SUMMER) == "03-07-2026 08:05"
        assert render("{{ day|tabledate }}", day=dt.date(2026, 3, 1)) == "01-03-2026"
        assert render("{{ when|tabledate:'date' }}", when=WINTER) == "27-11-2026"
        assert render("{{ nothing|tabledate }}", nothing=None) == ""


@pytest.mark.article("7.1")
def test_dates_in_text_are_written_out_in_the_page_language() -> None:
    with translation.override("nl"):
        assert render("{{ when|longdate }}", when=WINTER) == "27 november 2026, 08:51"
        assert render("{{ when|longdate:'date' }}", when=WINTER) == "27 november 2026"
        assert render("{{ day|longdate }}", day=dt.date(2026, 3, 1)) == "1 maart 2026"
    with translation.override("en"):
        assert render("{{ day|longdate }}", day=dt.date(2026, 3, 1)) == "1 March 2026"
    # Just before midnight UTC is already the next day in Amsterdam.
    late = dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.UTC)
    with translation.override("nl"), timezone.override("Europe/Amsterdam"):
        assert render("{{ when|longdate:'date' }}", when=late) == "1 januari 2027"


@pytest.mark.article("3.1")
def test_phone_numbers_are_shown_as_dialled() -> None:
    assert phone_display("+31612345678") == "06 12345678"
    assert phone_display("0201234567") == "020 123 4567"
    assert phone_display("+4930123456") == "+49 30 123456"
    assert phone_display("not a number") == "not a number"
    assert phone_display("") == ""
    assert render("{{ number|phone }}", number="+31612345678") == "06 12345678"


def public_pages() -> list[str]:
    """Every URL without arguments that an anonymous visitor can open (200, HTML)."""
    names: list[str] = []

    def walk(patterns: list, prefix: str) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, f"{prefix}{entry.namespace}:" if entry.namespace
                     else prefix)
            elif isinstance(entry, URLPattern) and entry.name and not entry.pattern.converters \
                    and "(?P<" not in str(entry.pattern):
                names.append(prefix + entry.name)

    walk(get_resolver().url_patterns, "")
    return names


def title_of(response: object) -> str:
    found = re.search(r"<title>(.*?)</title>", response.content.decode(), re.S)  # type: ignore[attr-defined]
    assert found, response
    return " ".join(found.group(1).split())


def public_titles(make_user: Callable[..., User]) -> dict[str, str]:
    """The title of every page a visitor without a staff account meets: the public pages
    without arguments, the intake behind an invitation, the portal behind its link, and the
    error pages on the way."""
    titles: dict[str, str] = {}
    client = Client()
    for name in public_pages():
        response = client.get(reverse(name))
        if response.status_code == 200 and "text/html" in response.get("Content-Type", ""):
            titles[name] = title_of(response)
    owner = make_user(role="owner", username="eigenaar")
    coach = make_user(role="coach", username="coach")
    _opened, token, _code = trajectory_open(actor=owner, request=None,
                                            client=factories.client(owner), coach=coach)
    lived = factories.trajectory(owner, coach)
    portal = Client()
    session = portal.session
    session[SESSION_COACHEE] = lived.coachee.pk
    session.save()
    visits = {
        "coachees:intake_form": (Client(), reverse("coachees:intake_link", args=[token])),
        "rights:portal_enter (used link)": (Client(), reverse("rights:portal_enter",
                                                              args=["x" * 40])),
        "rights:portal_home": (portal, reverse("rights:portal_home")),
        "404": (Client(), "/no-such-page/"),
    }
    for name, (visitor, url) in visits.items():
        titles[name] = title_of(visitor.get(url, follow=True))
    return titles


def same_titles(titles: dict[str, str]) -> dict[str, set[str]]:
    by_title: dict[str, set[str]] = {}
    for name, title in titles.items():
        assert title and not title.startswith("·"), (name, title)
        by_title.setdefault(title, set()).add(name)
    return {title: names for title, names in by_title.items() if len(names) > 1}


@pytest.mark.django_db
@pytest.mark.article("Werkwijze")
def test_public_pages_have_their_own_titles(practice: object,
                                            make_user: Callable[..., User]) -> None:
    titles = public_titles(make_user)
    for expected in ("accounts:login", "coachees:intake_start", "rights:portal_start",
                     "practice:regulation_public", "coachees:intake_form",
                     "rights:portal_home", "404"):
        assert expected in titles, sorted(titles)
    assert same_titles(titles) == {}


@pytest.mark.article("6")
def test_mail_folder_is_refused_outside_development(tmp_path: Path) -> None:
    with override_settings(COACHREGISTER_MAIL_DIR=str(tmp_path), ENV="production"):
        assert [m.id for m in no_mail_folder()] == ["coachregister.E006"]
    with override_settings(COACHREGISTER_MAIL_DIR=str(tmp_path), ENV="development"):
        assert no_mail_folder() == []
    with override_settings(COACHREGISTER_MAIL_DIR="", ENV="production"):
        assert no_mail_folder() == []


def manage(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "coachregister", *args], env=env, check=check,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.article("6")
def test_demo_mail_lands_in_the_folder_and_production_refuses_it(tmp_path: Path) -> None:
    mail_dir = tmp_path / "mail"
    env = server_env(tmp_path / "var", {"COACHREGISTER_MAIL_DIR": str(mail_dir)})
    refused = manage(env, "check", check=False)
    assert refused.returncode != 0 and "coachregister.E006" in refused.stderr
    env["COACHREGISTER_ENV"] = "development"
    manage(env, "migrate", "--no-input", "-v", "0")
    manage(env, "shell", "-c", (
        "from coachregister.outbox.services import message_enqueue\n"
        "message_enqueue(kind='test', to='zoe@voorbeeld.example', subject='Proef',"
        " body='Uw link: http://127.0.0.1:8000/portal/enter/abc/')"))
    manage(env, "worker", "--once")
    [mail] = list(mail_dir.iterdir())
    text = mail.read_text()
    assert "zoe@voorbeeld.example" in text and "/portal/enter/abc/" in text


@pytest.mark.django_db
@pytest.mark.article("3.1")
def test_the_coach_reads_the_phone_number_as_dialled(make_user: Callable[..., User]) -> None:
    owner, coach = make_user(role="owner"), make_user(role="coach")
    trajectory = factories.trajectory(owner, coach)  # phone stored as +31612345678
    client = sign_in(Client(), coach)
    html = client.get(reverse("coachees:contact", args=[trajectory.coachee.pseudonym])
                      ).content.decode()
    shown = re.search(r'data-testid="contact-phone">([^<]*)<', html)
    assert shown and shown.group(1) == "06 12345678"
    assert 'href="tel:+31612345678"' in html  # the link still dials in full
