"""A trail that cannot be cut short (issue 9, finding 3; art. 6).

Each attack first drops the append-only triggers, as someone with database rights could, and
then rewrites the table; `audit verify` must say so, with a non-zero exit. The anchors are
signed checkpoints in the evidence directory, outside the database.
"""

from __future__ import annotations

import hashlib
import io
import json
import secrets
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone
from django.utils.translation import override

from coachregister.accounts.models import Role, User
from coachregister.audit import anchors, chain, triggers
from coachregister.audit.models import Event
from coachregister.audit.services import event_record
from coachregister.outbox.models import OutboxMessage
from coachregister.outbox.services import message_enqueue, open_message

pytestmark = [pytest.mark.django_db, pytest.mark.article("6")]


def sql(statement: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])


def verify() -> str:
    out = io.StringIO()
    with override("en"):
        call_command("audit", "verify", stdout=out)
    return out.getvalue()


def broken() -> str:
    with pytest.raises(CommandError) as info:
        verify()
    assert info.value.returncode == 1
    return str(info.value)


def trail(count: int, about: str = "T-1") -> None:
    for i in range(count):
        event_record(action="test.step.done", object_type="coachee",
                     object_id=about if i % 3 else "C-GONE-01")


def rechain(key: bytes | None, key_id: str = "") -> None:
    """Renumber and re-link every event from the first one, as an attacker would."""
    prev = chain.GENESIS
    rows = list(Event.objects.order_by("seq").values(*chain.FIELDS, "key_id", "mac", "id"))
    for seq, row in enumerate(rows, start=1):
        row.update(seq=seq, key_id=key_id)
        if key:  # with the key, the register's own link function
            digest = chain.link(prev, row, key)
        else:  # without it, the unkeyed JSON form (an event without a MAC)
            row["mac"] = ""
            digest = hashlib.sha256(prev.encode() + b"\n" + chain.canonical(row)).hexdigest()
        sql("UPDATE audit_event SET seq = %s, key_id = %s, mac = %s, prev_hash = %s, "
            "hash = %s WHERE id = %s", [-seq, key_id, row["mac"], prev, digest, row["id"]])
        prev = digest
    sql("UPDATE audit_event SET seq = -seq WHERE seq < 0")


def test_an_intact_anchored_trail_verifies_and_names_its_latest_anchor() -> None:
    trail(5)
    record = anchors.anchor()
    assert record is not None and record["seq"] == 5 and record["keyed_from"] == 1
    out = verify()
    assert "OK: 5 events" in out and anchors.fingerprint(record) in out


def test_the_last_event_deleted_is_a_truncation() -> None:
    trail(5)
    anchors.anchor()
    triggers.drop(connection)
    sql("DELETE FROM audit_event WHERE seq = 5")
    assert "truncated after sequence 4" in broken()


def test_the_last_200_deleted_is_a_truncation() -> None:
    trail(250)
    anchors.anchor()
    triggers.drop(connection)
    sql("DELETE FROM audit_event WHERE seq > 50")
    assert "truncated after sequence 50" in broken()


def test_one_coachees_events_removed_and_rechained_unkeyed() -> None:
    trail(12)
    anchors.anchor()
    triggers.drop(connection)
    sql("DELETE FROM audit_event WHERE object_id = 'C-GONE-01'")
    rechain(key=None)
    assert chain.verify(chain.iter_rows()).ok  # without the anchors it would pass
    assert "an unkeyed event after the switch-over" in broken()


def test_one_coachees_events_removed_and_rechained_with_a_wrong_key() -> None:
    trail(12)
    anchors.anchor()
    real_key_id = Event.objects.first().key_id
    triggers.drop(connection)
    sql("DELETE FROM audit_event WHERE object_id = 'C-GONE-01'")
    rechain(key=secrets.token_bytes(32), key_id=real_key_id)
    assert "BROKEN at event 1: event content does not match its hash" in broken()
    rechain(key=secrets.token_bytes(32), key_id="audit_chain-forged")
    assert "BROKEN at event 1: the event's chain key does not exist" in broken()


def test_a_chain_rechained_with_the_real_key_still_misses_its_anchor() -> None:
    """Even with the chain key (someone who also holds the master key), removing anchored
    events changes the anchored hash."""
    from coachregister.keys import keyring

    trail(12)
    anchors.anchor()
    key_id = Event.objects.first().key_id
    triggers.drop(connection)
    sql("DELETE FROM audit_event WHERE object_id = 'C-GONE-01'")
    rechain(key=keyring.register_key_by_id(key_id), key_id=key_id)
    assert "truncated after sequence 8" in broken()


def test_dropped_triggers_are_reported() -> None:
    trail(3)
    triggers.drop(connection)
    message = broken()
    assert "append-only protection" in message and "is missing" in message


def test_a_trigger_replaced_by_one_that_does_nothing_is_reported() -> None:
    trail(3)
    if connection.vendor == "sqlite":
        sql("DROP TRIGGER audit_event_no_delete")
        sql("CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event "
            "BEGIN SELECT 1; END")
    else:
        sql("CREATE OR REPLACE FUNCTION audit_event_refuse() RETURNS trigger AS $$ "
            "BEGIN RETURN OLD; END; $$ LANGUAGE plpgsql")
    sql("DELETE FROM audit_event WHERE seq = 3")  # the replacement lets it through
    message = broken()
    assert "has been changed" in message
    assert "truncated" not in message  # no anchor was written: the triggers alone tell


@pytest.mark.postgres
def test_a_disabled_trigger_is_reported() -> None:
    trail(3)
    sql("ALTER TABLE audit_event DISABLE TRIGGER audit_event_no_change")
    assert "audit_event_no_change is disabled" in broken()


def test_a_forged_anchor_line_is_refused() -> None:
    trail(3)
    anchors.anchor()
    path = anchors.evidence_dir() / anchors.ANCHOR_FILE
    record = json.loads(path.read_text())
    record["seq"] = 2
    path.write_text(json.dumps(record) + "\n")
    assert "is not signed by this register" in broken()


def test_the_worker_anchors_hourly_and_right_after_an_erasure() -> None:
    start = timezone.now()
    trail(2)
    assert anchors.worker_tick(start)["seq"] == 2
    trail(1)
    assert anchors.worker_tick(start + timedelta(minutes=10)) is None  # not yet
    event_record(action="rights.erasure.carried_out", object_type="coachee", object_id="C-X")
    assert anchors.worker_tick(start + timedelta(minutes=11))["seq"] == 4  # at once
    trail(1)
    assert anchors.worker_tick(start + timedelta(minutes=30)) is None
    assert anchors.worker_tick(start + timedelta(minutes=72))["seq"] == 5  # the hour


def test_the_owners_get_one_digest_a_day_with_the_fingerprint(settings: object) -> None:
    owner = User.objects.create(username="eigenaar", full_name="Eigenaar", role=Role.OWNER,
                                email="eigenaar@praktijk.example")
    User.objects.create(username="coach", full_name="C", role=Role.COACH, email="c@p.example")
    trail(3)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        record = anchors.worker_tick(send=message_enqueue)
        anchors.worker_tick(send=message_enqueue)
    digests = OutboxMessage.objects.filter(kind="audit_digest")
    assert digests.count() == 1
    to, body = open_message(digests.get())
    assert to == owner.email and anchors.fingerprint(record) in body
    assert "Eigenaar" not in body
    with time_machine.travel(start + timedelta(days=1), tick=False):
        anchors.worker_tick(send=message_enqueue)
    assert digests.count() == 2
    assert not mail.outbox  # through the outbox only


def test_a_restore_record_supersedes_only_the_anchors_above_its_head() -> None:
    records = [
        {"type": "anchor", "seq": 5, "hash": "a5"},
        {"type": "anchor", "seq": 9, "hash": "a9"},
        {"type": "restore", "backup_head_seq": 7, "backup_head_hash": "h7", "backup": "b"},
        {"type": "anchor", "seq": 12, "hash": "a12"},
    ]
    kept, superseded = anchors.in_force(records)
    assert superseded == 1
    assert anchors.checkpoints(kept) == {5: "a5", 7: "h7", 12: "a12"}
    # Without the restore record the anchor above the head stays: a cut is a cut.
    assert anchors.checkpoints(anchors.in_force(records[:2] + records[3:])[0]) == {
        5: "a5", 9: "a9", 12: "a12"}


def test_after_a_restore_to_an_older_head_the_trail_is_anchored_again() -> None:
    """Anchors above a restored head belong to the replaced chain: new anchors are written
    from the restored head on, and verify passes (review finding)."""
    trail(10)
    assert anchors.anchor()["seq"] == 10
    five = Event.objects.get(seq=5)
    triggers.drop(connection)
    sql("DELETE FROM audit_event WHERE seq > 5")  # the database as the backup had it
    triggers.install(connection)
    anchors.restore_append(backup="b", head_seq=5, head_hash=five.hash, now=timezone.now())
    trail(3)
    record = anchors.anchor()
    assert record is not None and record["seq"] == 8
    out = verify()
    assert "OK: 8 events" in out and "superseded: 1" in out
