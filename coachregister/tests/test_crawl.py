"""No link that leads to a 403 for the user who sees it (issue 14; art. 5.1).

For each role a signed-in client starts from its home page (the dashboard for staff, the
portal's home for the coachee), reads every ``<a href>`` (nothing else: forms are not
links), and follows every link on this site breadth first: fragments stripped, each
path+query once, at most `PAGE_LIMIT` pages per role. A redirect is followed to its target
and the target is checked. Any link that ends in a 4xx or 5xx answer, or that sends the
signed-in viewer to a sign-in page (staff sign-in, portal start), fails the test, listed as
(role, source page, link, status). The fix for a dead link is to show the link only to whom
may open it, never to open the page.

The practice is the demo one (`coachregister demo`), with on top: a third party with a
trajectory in scope, amended sessions (their earlier versions), one of them of a coachee
whose processing is restricted (a second coach, its author, is crawled too), a decided and
an open data request, a disclosure waiting for the coachee, an acknowledged complaint, an
incident and a legal hold.

Not followed, by URL name (`django.urls.resolve`), each for its reason:

- ``accounts:logout``, ``rights:portal_leave``: they end the session the crawl runs in (and
  are POST-only forms, never links).
- ``set_language``: a POST form in the footer; it changes the session's language.
- Downloads whose every GET writes an audit event (art. 5.5) and renders a file, not a page:
  ``audit:event_csv``, ``retention:records_csv``, ``rights:portal_json``, ``rights:letter``,
  ``rights:portal_letter``, ``complaints:letter``, ``complaints:portal_letter``,
  ``coachees:vcard``. Their access per
  role is proven in test_role_matrix.py. The other downloads (PDFs that write no audit
  event) are followed like pages.
- Links to other sites (another scheme or host) and ``mailto:``/``tel:``: not this
  application's pages.
"""

from __future__ import annotations

import io
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone

from coachregister.accounts.models import (
    ConfidentialityAcceptance,
    ConfidentialityStatement,
    Role,
    ThirdPartyScope,
    User,
)
from coachregister.conftest import sign_in

pytestmark = [pytest.mark.django_db, pytest.mark.article("5.1")]

PAGE_LIMIT = 400
NOT_FOLLOWED = frozenset({
    "accounts:logout",
    "rights:portal_leave",
    "set_language",
    "audit:event_csv",
    "retention:records_csv",
    "rights:portal_json",
    "rights:letter",
    "complaints:letter",
    "complaints:portal_letter",
    "rights:portal_letter",
    "coachees:vcard",
})
REDIRECTS = (301, 302, 303, 307, 308)
# A link that sends a signed-in viewer to sign in again is as dead as a 403.
SIGNED_OUT_AT = frozenset({"accounts:login", "rights:portal_start"})

OWNER, ADMIN, COACH, RESTRICTED_COACH, THIRD_PARTY, AUDITOR, COACHEE = (
    "owner", "administrator", "coach", "coach_of_restricted", "third_party", "auditor",
    "coachee_in_portal")
ROLES = (OWNER, ADMIN, COACH, RESTRICTED_COACH, THIRD_PARTY, AUDITOR, COACHEE)
# Pages each role must at least reach, so that a crawl stopped at its first page (a broken
# sign-in, a home page without links) cannot pass.
AT_LEAST = {OWNER: 100, ADMIN: 100, COACH: 15, RESTRICTED_COACH: 15, THIRD_PARTY: 10,
            AUDITOR: 10, COACHEE: 6}


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href)


def links_on(html: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    return parser.hrefs


def same_site(page: str, href: str) -> str | None:
    """The link as path+query, or None for another site, a mail or telephone link."""
    parts = urlsplit(urljoin("http://testserver" + page, href.strip()))
    if parts.scheme not in ("http", "https") or parts.netloc != "testserver":
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def url_name(url: str) -> str | None:
    try:
        return resolve(urlsplit(url).path).view_name
    except Resolver404:
        return None


@dataclass
class Crawl:
    visited: list[str] = field(default_factory=list)
    dead: list[tuple[str, str, int]] = field(default_factory=list)  # source, link, status
    not_followed: set[str] = field(default_factory=set)


def crawl(client: Client, starts: tuple[str, ...], *, limit: int = PAGE_LIMIT,
          also_on_start: tuple[str, ...] = ()) -> Crawl:
    """Breadth first from `starts`; `also_on_start` adds links as if the first start page
    had them (the self-check below)."""
    result = Crawl()
    queue: deque[tuple[str, str]] = deque((start, "(start)") for start in starts)
    seen = set(starts)
    start = starts[0]
    while queue and len(result.visited) < limit:
        url, source = queue.popleft()
        response = client.get(url)
        final = url
        for _hop in range(10):
            if response.status_code not in REDIRECTS:
                break
            target = same_site(final, response["Location"])
            if target is None:
                break
            if url_name(target) in NOT_FOLLOWED:
                result.not_followed.add(target)
                break
            final = target
            response = client.get(final)
        result.visited.append(url)
        if response.status_code >= 400 or url_name(final) in SIGNED_OUT_AT:
            shown = url if final == url else f"{url} -> {final}"
            result.dead.append((source, shown, response.status_code))
            continue
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        hrefs = links_on(response.content.decode())
        if url == start:
            hrefs = [*also_on_start, *hrefs]
        for href in hrefs:
            link = same_site(final, href)
            if link is None or link in seen:
                continue
            seen.add(link)
            if url_name(link) in NOT_FOLLOWED:
                result.not_followed.add(link)
                continue
            queue.append((link, final))
    return result


# --- the practice --------------------------------------------------------------------------


@dataclass
class Practice:
    users: dict[str, User]
    coachee_pk: int


def build_practice() -> Practice:
    """The demo practice and what it lacks for links on every page."""
    from coachregister.audit.models import Engagement
    from coachregister.coachees.models import RestrictionGround
    from coachregister.complaints import services as complaints
    from coachregister.disclosures import services as disclosures
    from coachregister.disclosures.models import Disclosure, Recipient
    from coachregister.incidents.services import incident_register
    from coachregister.notes.models import CoachingSession
    from coachregister.notes.services import keywords_amend
    from coachregister.practice.models import ProcessingPurpose
    from coachregister.retention.services import hold_set
    from coachregister.rights import services as rights
    from coachregister.trajectories.models import Trajectory

    call_command("demo", stdout=io.StringIO())
    statement = ConfidentialityStatement.current()
    for user in User.objects.all():
        ConfidentialityAcceptance.objects.get_or_create(user=user, statement=statement)
    users = {
        OWNER: User.objects.get(role=Role.OWNER),
        ADMIN: User.objects.get(role=Role.ADMINISTRATOR),
        COACH: User.objects.get(username="coach.anna"),
        RESTRICTED_COACH: User.objects.get(username="coach.ben"),
        THIRD_PARTY: User.objects.get(role=Role.THIRD_PARTY),
        AUDITOR: User.objects.get(role=Role.AUDITOR),
    }
    owner = users[OWNER]
    coachee = Disclosure.objects.get().coachee  # the demo's open trajectory with everything
    trajectory = coachee.trajectories.get()
    ThirdPartyScope.objects.create(user=users[THIRD_PARTY], trajectory=trajectory)
    engagement = Engagement.objects.get(auditor=users[AUDITOR])
    assert engagement.sample, "the demo's engagement samples dossiers"
    # Amendments after the lock: the dossiers show "earlier versions", here and for a
    # coachee whose processing is restricted below (where the versions stay closed).
    restricted = Trajectory.objects.get(coach=users[RESTRICTED_COACH], status="active")
    for amended in (trajectory, restricted):
        session = CoachingSession.objects.get(trajectory=amended)
        CoachingSession.objects.filter(pk=session.pk).update(
            created_at=timezone.now() - timedelta(days=30))
        session.refresh_from_db()
        keywords_amend(actor=amended.coach, request=None, session=session,
                       keywords="werkdruk, grenzen stellen", reason="Aanvulling na overleg.")
    restriction = rights.request_register(
        actor=owner, request=None, coachee=restricted.coachee, kind="restriction",
        channel="letter", verification="identiteitsbewijs gezien",
        restriction_ground=RestrictionGround.ACCURACY)
    rights.request_decide(actor=owner, request=None, data_request=restriction,
                          decision="granted")
    data_request = rights.request_register(
        actor=owner, request=None, coachee=coachee, kind="erasure", channel="letter",
        verification="identiteitsbewijs gezien")
    rights.request_decide(actor=owner, request=None, data_request=data_request,
                          decision="refused", justification="Gerechtvaardigd belang.")
    rights.request_register(  # still open: on the dashboard and the list of requests
        actor=owner, request=None, coachee=coachee, kind="access", channel="letter",
        verification="identiteitsbewijs gezien")
    disclosures.proposal_prepare(  # waiting for the coachee in the portal
        actor=owner, request=None, coachee=coachee, recipient=Recipient.objects.get(),
        processing_purpose=ProcessingPurpose.objects.get(name="Afstemming re-integratie"),
        categories=["contact"], basis="consent")
    complaint = complaints.complaint_file(
        actor=owner, request=None, coachee=coachee, topic="regulation", channel="letter",
        text="Mijn verzoek bleef liggen.")
    complaints.complaint_acknowledge(actor=owner, request=None, complaint=complaint)
    incident_register(actor=owner, request=None, summary="Laptop kwijt in de trein.",
                      aware_at=timezone.now() - timedelta(hours=2), reported_by="staff")
    hold_set(actor=owner, request=None, coachee=coachee, reason="Geschil over de facturatie",
             until=timezone.localdate() + timedelta(days=30))
    return Practice(users=users, coachee_pk=coachee.pk)


@pytest.fixture(scope="module")
def practice_world(django_db_setup: None, django_db_blocker: Any) -> Iterator[Practice]:
    """Built once for the module inside a transaction that is rolled back at the end."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_practice()
        transaction.set_rollback(True)


def client_for_role(world: Practice, role: str) -> tuple[Client, tuple[str, ...]]:
    from coachregister.rights import portal

    client = Client(REMOTE_ADDR=f"127.0.0.{20 + ROLES.index(role)}")
    if role == COACHEE:
        session = client.session
        session[portal.SESSION_COACHEE] = world.coachee_pk
        session.save()
        return client, (reverse("rights:portal_home"),)
    sign_in(client, world.users[role])
    return client, (reverse("accounts:dashboard"),)


# --- the tests -----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_no_dead_links(practice_world: Practice, role: str) -> None:
    client, starts = client_for_role(practice_world, role)
    result = crawl(client, starts)
    assert not result.dead, f"{len(result.dead)} dead link(s) for {role}:\n" + "\n".join(
        f"  ({role}, {source}, {link}, {status})" for source, link, status in result.dead)
    assert len(result.visited) >= AT_LEAST[role], (
        f"{role} reached only {len(result.visited)} pages: {result.visited}")
    assert len(result.visited) < PAGE_LIMIT, f"{role}: the crawl hit its limit of {PAGE_LIMIT}"


def test_the_crawl_reports_a_refused_link(practice_world: Practice) -> None:
    """Self-check: a link the coach may not open (the user list) shows up as dead."""
    client, starts = client_for_role(practice_world, COACH)
    home, users = starts[0], reverse("accounts:user_list")
    result = crawl(client, starts, limit=3, also_on_start=(users, "#top", "mailto:a@b.example"))
    assert (home, users, 403) in result.dead
    assert len(result.dead) == 1
