"""Appending audit events (art. 6): chained, attributed, never carrying personal data."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory

from coachregister.accounts.models import User
from coachregister.audit import chain
from coachregister.audit.models import Event
from coachregister.audit.services import AuditDetailError, event_record, events_record

pytestmark = [pytest.mark.django_db, pytest.mark.article("6")]


def test_events_are_chained_in_sequence() -> None:
    events = [event_record(action=f"test.step.n{i}") for i in ("a", "b", "c")]
    assert [e.seq for e in events] == [1, 2, 3]
    assert events[0].prev_hash == chain.GENESIS
    assert events[1].prev_hash == events[0].hash and events[2].prev_hash == events[1].hash
    stored = list(Event.objects.order_by("seq").values(*chain.COLUMNS))
    assert all(row["key_id"] for row in stored)  # keyed links (HMAC under the chain key)
    assert all(chain.link(row["prev_hash"], row) == row["hash"] for row in stored)


def test_actor_role_and_address_come_from_the_request(coach: User) -> None:
    request = RequestFactory().get("/")
    request.user = coach
    request.client_ip = "192.0.2.7"
    event = event_record(action="test.view.opened", request=request, object_type="coachee",
                         object_id="C-AAAA-BBBB")
    assert (event.actor, event.actor_role, event.client_ip) == (coach, "coach", "192.0.2.7")


def test_anonymous_allowed_event_keeps_no_address() -> None:
    request = RequestFactory().post("/intake/form/")
    request.user = AnonymousUser()
    request.client_ip = "198.51.100.3"
    assert event_record(action="test.intake.done", request=request).client_ip is None
    refused = event_record(action="test.intake.refused", request=request, outcome="denied")
    assert refused.client_ip == "198.51.100.3"


@pytest.mark.parametrize("detail", [
    {"email": "anne@voorbeeld.example"},
    {"phone": "06 12345678"},
    {"phone": "+31612345678"},
    {"Name": "x"},
    {"nested": {"a": 1}},
    {"long": "x" * 201},
    {"digest": "06 12345678"},  # only a whole SHA-256 in hex passes as a digest
    {"digest": "0612345678" * 7},
    {"checksum": "0612345678" + "a" * 54},  # and only under that one key
])
def test_detail_that_could_carry_personal_data_is_refused(detail: dict) -> None:
    with pytest.raises(AuditDetailError):
        event_record(action="test.thing.done", detail=detail)
    assert not Event.objects.exists()


def test_a_digest_in_hex_is_no_phone_number() -> None:
    digest = "0612345678" + "a" * 54
    assert event_record(action="test.thing.done", detail={"digest": digest}).pk


@pytest.mark.parametrize("action", ["login", "Accounts.Login", "accounts login", "a.b c"])
def test_action_names_are_namespaced(action: str) -> None:
    with pytest.raises(ValueError):
        event_record(action=action)
    assert not Event.objects.exists()


@pytest.mark.parametrize("pseudonym", ["T-1234-5678", "C-0000-0000", "T-12AB-3456"])
def test_pseudonyms_are_never_mistaken_for_phone_numbers(pseudonym: str) -> None:
    assert event_record(action="test.thing.done", detail={"trajectory": pseudonym}).pk


def test_batch_append_continues_the_chain(owner: User) -> None:
    first = event_record(action="test.first.one")
    batch = events_record([{"action": "test.listed.one", "object_id": f"C-{i}"} for i in range(5)],
                          actor=owner)
    assert [e.seq for e in batch] == [first.seq + n for n in range(1, 6)]
    assert batch[0].prev_hash == first.hash
    assert chain.verify(chain.iter_rows()).ok
    assert events_record([]) == []


def test_inside_a_request_the_chain_key_is_read_once_and_an_event_costs_no_savepoint() -> None:
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from coachregister.lib import request_memo

    def appended(count: int) -> list[str]:
        with CaptureQueriesContext(connection) as queries, transaction.atomic():
            for n in range(count):
                event_record(action="test.page.read", object_id=str(n))
        return [q["sql"] for q in queries.captured_queries]

    def key_reads(queries: list[str]) -> int:
        """Queries that read the key's row alone (on PostgreSQL its id comes with the ids)."""
        return sum("keys_registerkey" in sql and "advisory" not in sql for sql in queries)

    event_record(action="test.key.made")  # the chain key exists
    outside = appended(3)
    postgres = connection.vendor == "postgresql"
    assert key_reads(outside) == (0 if postgres else 3)  # else each event reads it
    token = request_memo._memo.set({})  # what RequestMemoMiddleware does for a request
    try:
        inside = appended(3)
    finally:
        request_memo._memo.reset(token)
    assert key_reads(inside) == (0 if postgres else 1)
    # The only savepoint is the block's own (nested in the test's transaction).
    assert sum("SAVEPOINT" in sql.upper() for sql in inside + outside) == 4
    assert len(inside) == len(outside) - (0 if postgres else 2)
    # An event alone: on PostgreSQL the lock, ids and key in one query, the sealed head with
    # "does anything wait" in one, and the INSERT.
    if postgres:
        assert len(outside) == 2 + 3 * 3


def test_a_chain_key_made_in_a_step_that_rolled_back_is_not_remembered() -> None:
    """The chain key is made at migrate, or on first use: a request whose first event made
    it in a transaction that then rolled back must not go on signing with that lost key."""
    import contextlib

    from django.db import transaction

    from coachregister.audit.services import CHAIN_KEY
    from coachregister.audit.tests.test_truncation import verify
    from coachregister.keys.models import RegisterKey
    from coachregister.lib import request_memo

    RegisterKey.objects.filter(purpose=CHAIN_KEY).delete()
    token = request_memo._memo.set({})
    try:
        with contextlib.suppress(RuntimeError), transaction.atomic():
            lost = event_record(action="test.key.made").key_id
            raise RuntimeError
        event = event_record(action="test.page.read")
        again = event_record(action="test.page.read")
    finally:
        request_memo._memo.reset(token)
    assert not RegisterKey.objects.filter(key_id=lost).exists()
    assert RegisterKey.objects.filter(key_id=event.key_id).exists()
    assert again.key_id == event.key_id
    assert "OK:" in verify()
