"""Asking for a portal link (art. 6, 7.1): the request only queues an encrypted look-up, the
same work for every address; the worker finds the coachee and sends the link once; a new link
makes the earlier unused ones invalid."""

from __future__ import annotations

import io
import re
import threading
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from coachregister.accounts.models import User
from coachregister.audit.models import Event, Outcome
from coachregister.coachees.tests.test_vault import dump_database
from coachregister.coachees.vault import Contact
from coachregister.keys import keyring
from coachregister.outbox.models import OutboxMessage
from coachregister.outbox.services import open_message
from coachregister.rights import portal
from coachregister.rights.models import PortalLink, PortalLookup
from coachregister.testing import factories
from coachregister.trajectories.models import Trajectory

if TYPE_CHECKING:
    from pytest_django.fixtures import Settings

START = reverse("rights:portal_start")
HOME = reverse("rights:portal_home")
ANNE = factories.ANNE.email
UNKNOWN = "niemand.bekend@voorbeeld.example"


@pytest.fixture
def trajectory(owner: User, coach: User) -> Trajectory:
    return factories.trajectory(owner, coach)


def link_paths() -> list[str]:
    """The portal links in the queued mails, oldest first, as paths."""
    paths = []
    for message in OutboxMessage.objects.filter(kind="portal_link").order_by("id"):
        _to, body = open_message(message)
        found = re.search(r"https?://[^/\s]+(/portal/enter/\S+/)", body)
        assert found is not None
        paths.append(found.group(1))
    return paths


def shape(sql: str) -> str:
    """A statement without its values: quoted strings, blobs (X'..', '\\x..'::bytea) and
    numbers are replaced by a fixed token, so two requests compare by what they do, not by
    the data."""
    sql = re.sub(r"[EX]?'(?:[^']|'')*'(?:::\w+)?", "?", sql)
    sql = re.sub(r'"s\d+_x\d+"', "savepoint", sql)
    return re.sub(r"\b\d+(?:\.\d+)?\b", "N", sql)


def statements_of_asking(email: str) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = Client().post(START, {"email": email})
    assert response.status_code == 200
    return [shape(query["sql"]) for query in captured.captured_queries]


@pytest.mark.django_db
@pytest.mark.article("6")
def test_known_and_unknown_addresses_run_the_same_statements(trajectory: Trajectory) -> None:
    """No side channel tells whether an address is in the register: the request runs the same
    SQL for both (and touches no coachee), and records an event of the same shape."""
    statements_of_asking("opwarmen@voorbeeld.example")  # first-use work (buckets, chain key)
    known = statements_of_asking(ANNE.upper())
    unknown = statements_of_asking(UNKNOWN)

    assert known == unknown
    assert sum("rights_portallookup" in sql and "INSERT" in sql for sql in known) == 1
    assert not any("coachees_coachee" in sql or "rights_portallink" in sql for sql in known)
    assert not OutboxMessage.objects.filter(kind="portal_link").exists()
    asked = [
        (e.action, e.actor_id, e.object_type, e.object_id, e.outcome, e.client_ip, e.detail)
        for e in Event.objects.filter(action="rights.portal.link_asked").order_by("seq")
    ]
    assert len(asked) == 3
    assert asked[1] == asked[2] == ("rights.portal.link_asked", None, "", "", "allowed", None, {})


@pytest.mark.django_db
@pytest.mark.article("6")
def test_a_new_link_makes_the_earlier_unused_one_invalid(trajectory: Trajectory) -> None:
    Client().post(START, {"email": ANNE})
    portal.lookups_process()
    Client().post(START, {"email": ANNE})
    portal.lookups_process()
    first, second = link_paths()

    assert Client().get(first).status_code == 410
    client = Client()
    assert client.get(second)["Location"] == HOME
    assert client.get(HOME).status_code == 200
    assert PortalLink.objects.filter(used_at__isnull=True, expires_at__gt=timezone.now()).count() == 0


@pytest.mark.django_db
@pytest.mark.article("7.1")
def test_the_worker_mails_a_known_address_once_and_an_unknown_one_never(
    trajectory: Trajectory,
) -> None:
    call_command("worker", "--once", stdout=io.StringIO())  # the coach's notice goes first
    mail.outbox.clear()
    Client().post(START, {"email": ANNE})
    Client().post(START, {"email": UNKNOWN})

    call_command("worker", "--once", stdout=io.StringIO())

    assert [message.to for message in mail.outbox] == [[ANNE]]
    assert "/portal/enter/" in mail.outbox[0].body
    assert not PortalLookup.objects.exists()
    sent = Event.objects.get(action="rights.portal.link_sent")
    assert (sent.object_type, sent.object_id) == ("coachee", trajectory.coachee.pseudonym)
    unknown = Event.objects.get(action="rights.portal.link_unknown")
    assert (unknown.outcome, unknown.object_id, unknown.client_ip) == (Outcome.DENIED, "", None)
    assert "@" not in str(unknown.detail) + str(sent.detail)

    call_command("worker", "--once", stdout=io.StringIO())  # nothing left to answer
    assert len(mail.outbox) == 1


@pytest.mark.django_db
@pytest.mark.article("6")
def test_stale_and_unreadable_lookups_are_deleted_unanswered(trajectory: Trajectory) -> None:
    """A look-up waits an hour at most; one that cannot be opened (its epoch gone) is dropped,
    and neither blocks the look-ups behind it."""
    portal.link_request(request=None, email=ANNE)
    with time_machine.travel(timezone.now() + portal.LOOKUP_MAX_AGE + timedelta(minutes=1)):
        portal.link_request(request=None, email=ANNE)
        portal.link_request(request=None, email=ANNE)
        PortalLookup.objects.filter(pk=PortalLookup.objects.latest("id").pk).update(
            key_id="e-destroyed"
        )
        portal.link_request(request=None, email=ANNE)

        assert portal.lookups_process() == 2  # the second and the fourth

    assert not PortalLookup.objects.exists()
    assert len(link_paths()) == 2
    assert Event.objects.filter(action="rights.portal.link_sent").count() == 2


@pytest.mark.django_db
@pytest.mark.article("6")
def test_lookups_move_to_a_new_epoch_and_keep_theirs_alive(
    settings: Settings, own_keys: object, trajectory: Trajectory
) -> None:
    portal.link_request(request=None, email=ANNE)
    first_epoch = PortalLookup.objects.get().key_id
    assert portal.epochs_in_use() == {first_epoch}
    later = timezone.now() + timedelta(days=settings.COACHREGISTER_EPOCH_DAYS)
    assert keyring.epoch_start_if_due(later) is not None

    assert portal.rekey() == 1
    assert portal.rekey() == 0
    assert portal.epochs_in_use() == {keyring.current_epoch().id} != {first_epoch}
    assert portal.lookups_process() == 1
    assert len(link_paths()) == 1
    assert portal.epochs_in_use() == set()


@pytest.mark.django_db
@pytest.mark.article("6")
def test_one_address_is_limited_from_any_client_address_known_or_not(
    trajectory: Trajectory,
) -> None:
    """Nobody floods a mailbox from many addresses, and the limit says nothing about the
    register: it counts a known and an unknown address alike."""
    for email in (ANNE, UNKNOWN):
        codes = [
            Client(REMOTE_ADDR=f"198.51.100.{n}").post(START, {"email": email}).status_code
            for n in range(1, 5)
        ]
        assert codes == [200, 200, 200, 429]
    assert PortalLookup.objects.count() == 6
    other = Client(REMOTE_ADDR="198.51.100.9").post(START, {"email": "ander@voorbeeld.example"})
    assert other.status_code == 200


@pytest.mark.django_db(transaction=True)
@pytest.mark.article("6")
def test_no_plaintext_address_in_the_raw_database_after_asking(
    tmp_path: Path, owner: User, coach: User
) -> None:
    factories.trajectory(owner, coach)
    Client().post(START, {"email": ANNE})
    Client().post(START, {"email": UNKNOWN})
    assert PortalLookup.objects.count() == 2

    raw = dump_database(tmp_path)
    assert b"rights.portal.link_asked" in raw  # the scan sees plaintext where it is
    for secret in (ANNE, "anne.devries", UNKNOWN, "niemand.bekend"):
        assert secret.encode() not in raw, secret


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.article("7.1")
def test_concurrent_workers_answer_each_lookup_exactly_once(owner: User, coach: User) -> None:
    people = [
        Contact("Coachee", name, f"coachee{n}@voorbeeld.example", f"+3161234560{n}")
        for n, name in enumerate(["Aalders", "Bos", "Claassen", "Dekker"])
    ]
    coachees = [factories.trajectory(owner, coach, contact=p).coachee for p in people]
    asked = [p.email for p in people] * 2 + [f"onbekend{n}@voorbeeld.example" for n in range(6)]
    for email in asked:
        portal.link_request(request=None, email=email)
    workers = 4
    start = threading.Barrier(workers)
    answered = [0] * workers
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            start.wait()
            answered[n] = portal.lookups_process()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sum(answered) == len(asked)
    assert not PortalLookup.objects.exists()
    mails = OutboxMessage.objects.filter(kind="portal_link")
    assert sorted(mails.values_list("coachee_pseudonym", flat=True)) == sorted(
        [c.pseudonym for c in coachees] * 2
    )
    assert Event.objects.filter(action="rights.portal.link_unknown").count() == 6
    now = timezone.now()
    for coachee in coachees:  # the second answer invalidated the first, whichever came first
        assert PortalLink.objects.filter(coachee=coachee).count() == 2
        assert (
            PortalLink.objects.filter(
                coachee=coachee, used_at__isnull=True, expires_at__gt=now
            ).count()
            == 1
        )
