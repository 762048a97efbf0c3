"""Retention of the audit trail: whole old months go, with a signed prune record (art. 10),
and the trail stays tamper-evident (art. 6): `audit verify` accepts a trail that starts
after sequence 1 only right after a signed prune record.
"""

from __future__ import annotations

import hashlib
import hmac
import importlib
import io
import json
import secrets
from collections.abc import Iterator
from datetime import date, datetime

import pytest
import time_machine
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.utils.translation import override

from coachregister.audit import anchors, prune, triggers
from coachregister.audit.models import Event, PrunePermit
from coachregister.audit.services import event_record
from coachregister.audit.tests.test_truncation import broken, sql, verify
from coachregister.lib.deadlines import PRACTICE_TZ

pytestmark = [pytest.mark.django_db]

TODAY = datetime(2026, 11, 27, 12, 0, tzinfo=PRACTICE_TZ)
# (local time, how many events); the cut-off on TODAY is 27 November 2019, so September and
# October 2019 are whole months before it and November 2019 is not (yet).
MOMENTS = [
    (datetime(2019, 9, 15, 10, 0, tzinfo=PRACTICE_TZ), 2),
    (datetime(2019, 10, 31, 23, 30, tzinfo=PRACTICE_TZ), 1),  # 22:30 UTC: still October
    (datetime(2019, 11, 1, 0, 30, tzinfo=PRACTICE_TZ), 1),  # 31 October in UTC: November here
    (datetime(2019, 11, 20, 9, 0, tzinfo=PRACTICE_TZ), 1),
    (datetime(2025, 1, 1, 9, 0, tzinfo=PRACTICE_TZ), 1),
]


@pytest.fixture
def old_trail() -> list[Event]:
    """Events 1-3 in September and October 2019, 4-5 in November 2019, 6 in 2025; an
    anchor at 2 (old) and at 6."""
    events = []
    for moment, count in MOMENTS:
        with time_machine.travel(moment, tick=False):
            events += [event_record(action="accounts.login.succeeded", object_type="user",
                                    object_id=str(len(events) + 1)) for _ in range(count)]
            if len(events) == 2:
                anchors.anchor()
    with time_machine.travel(TODAY, tick=False):
        anchors.anchor()
    return events


@pytest.fixture
def today() -> Iterator[None]:
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.mark.article("10.2")
def test_whole_months_before_the_cut_off_go_and_nothing_younger(
    old_trail: list[Event], today: None
) -> None:
    assert prune.cutoff() == date(2019, 11, 27)
    result = prune.events_prune(before=prune.cutoff())
    assert result is not None and (result.upto_seq, result.count) == (3, 3)
    # November 2019 stays although its first days are older than seven years: the month
    # is not whole yet.
    assert list(Event.objects.order_by("seq").values_list("seq", flat=True)) == [4, 5, 6, 7]
    head = Event.objects.get(seq=7)
    assert head.action == prune.ACTION and head.detail == {"count": 3, "upto_seq": 3}
    assert not PrunePermit.objects.exists()
    assert prune.events_prune(before=prune.cutoff()) is None  # nothing more has expired
    with time_machine.travel(datetime(2026, 12, 1, 0, 5, tzinfo=PRACTICE_TZ), tick=False):
        assert prune.events_prune(before=prune.cutoff()).upto_seq == 5  # November's turn
    assert Event.objects.order_by("seq").first().seq == 6


@pytest.mark.article("10.2")
def test_a_cut_off_inside_the_retention_period_is_refused(
    old_trail: list[Event], today: None
) -> None:
    with pytest.raises(prune.PruneError):
        prune.events_prune(before=date(2025, 6, 1))
    assert Event.objects.count() == 6
    assert not anchors.prunes(anchors.read_records())


@pytest.mark.article("10.1")
def test_the_period_is_the_policys_and_never_shorter_than_the_coachees(db: None) -> None:
    from coachregister.retention.models import RetentionPolicy

    assert prune.audit_years() == 7  # no policy yet: the default
    RetentionPolicy.objects.create(version=1, years=7, audit_years=10)
    assert prune.audit_years() == 10
    RetentionPolicy.objects.create(version=2, years=9, audit_years=5)
    assert prune.audit_years() == 9
    assert prune.cutoff(date(2026, 11, 27)) == date(2017, 11, 27)


@pytest.mark.article("6")
def test_verify_after_a_prune_passes_and_names_the_prune_record(
    old_trail: list[Event], today: None
) -> None:
    result = prune.events_prune(before=prune.cutoff())
    anchors.anchor()
    out = verify()
    assert "OK: 4 events, chain intact." in out
    assert "starts after the signed prune record" in out
    assert "3 events up to sequence 3 removed" in out
    assert anchors.fingerprint(result.record) in out
    # The anchor at 2 is below the prune and skipped; those at 6 and 7 still match.
    assert "2 anchors match; the latest is sequence 7" in out
    record = anchors.prunes(anchors.read_records())[-1]
    assert (record["seq"], record["hash"], record["count"]) == (3, old_trail[2].hash, 3)
    assert record["key_id"] and record["mac"]


@pytest.mark.article("6")
def test_events_deleted_below_the_prune_without_a_record_are_found(
    old_trail: list[Event], today: None
) -> None:
    prune.events_prune(before=prune.cutoff())
    triggers.drop(connection)
    sql("DELETE FROM audit_event WHERE seq = 4")
    message = broken()
    assert "BROKEN at event 4: missing or inserted event" in message
    sql("DELETE FROM audit_event WHERE seq < 7")  # the first left is 7: no record ends at 6
    assert "BROKEN at event 4:" in broken()


@pytest.mark.article("6")
def test_a_permit_written_behind_the_services_back_does_not_hide_the_deletion(
    old_trail: list[Event], today: None
) -> None:
    prune.events_prune(before=prune.cutoff())
    sql("INSERT INTO audit_prune_permit (upto) VALUES (4)")
    sql("DELETE FROM audit_event WHERE seq = 4")  # the trigger lets it through
    message = broken()
    assert "BROKEN at event 4: missing or inserted event" in message
    assert "1 prune permit(s) left in place" in message


@pytest.mark.article("6")
def test_the_whole_trail_deleted_after_a_prune_is_found(
    old_trail: list[Event], today: None
) -> None:
    prune.events_prune(before=prune.cutoff())
    triggers.drop(connection)
    sql("DELETE FROM audit_event")
    assert "truncated after sequence" in broken()


@pytest.mark.article("6")
def test_a_forged_prune_record_is_refused(old_trail: list[Event], today: None) -> None:
    prune.events_prune(before=prune.cutoff())
    gone = Event.objects.get(seq=4)
    triggers.drop(connection)
    sql("DELETE FROM audit_event WHERE seq = 4")
    real = anchors.prunes(anchors.read_records())[-1]
    forged = {**real, "seq": 4, "hash": gone.hash, "count": 1}
    body = {k: v for k, v in forged.items() if k != "mac"}
    forged["mac"] = hmac.new(
        secrets.token_bytes(32),
        json.dumps(body, sort_keys=True, separators=(",", ":")).encode("ascii"),
        hashlib.sha256,
    ).hexdigest()
    with open(anchors.evidence_dir() / anchors.ANCHOR_FILE, "a") as handle:
        handle.write(json.dumps(forged, sort_keys=True, separators=(",", ":")) + "\n")
    assert "is not signed by this register" in broken()


@pytest.mark.article("6")
def test_a_prune_that_fails_leaves_its_record_and_an_intact_trail(
    old_trail: list[Event], today: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(**kwargs: object) -> None:
        raise DatabaseError("disk full")

    monkeypatch.setattr(prune, "event_record", fail)
    with pytest.raises(DatabaseError):
        prune.events_prune(before=prune.cutoff())
    assert Event.objects.count() == 6 and not PrunePermit.objects.exists()
    assert anchors.prunes(anchors.read_records())[-1]["seq"] == 3
    out = verify()  # the record names event 3, still there with its hash
    assert "OK: 6 events" in out and "prune record" not in out


@pytest.mark.article("6")
def test_triggers_refuse_a_delete_without_a_permit_and_an_update_always(
    old_trail: list[Event],
) -> None:
    def refused(statement: str) -> None:
        with pytest.raises(DatabaseError), transaction.atomic():
            sql(statement)

    refused("DELETE FROM audit_event WHERE seq = 1")
    with transaction.atomic():
        PrunePermit.objects.create(upto=1)
        refused("UPDATE audit_event SET action = 'x.y' WHERE seq = 1")
        refused("DELETE FROM audit_event WHERE seq = 2")  # not covered by the permit
        if connection.vendor == "postgresql":
            refused("TRUNCATE audit_event")
        sql("DELETE FROM audit_event WHERE seq = 1")  # covered
        PrunePermit.objects.all().delete()
    refused("DELETE FROM audit_event WHERE seq = 2")
    assert Event.objects.count() == 5


@pytest.mark.article("6")
def test_verify_reports_a_delete_trigger_whose_definition_was_changed(
    old_trail: list[Event],
) -> None:
    if connection.vendor == "sqlite":
        sql("DROP TRIGGER audit_event_no_delete")
        sql("CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event "
            "WHEN NOT EXISTS (SELECT 1 FROM audit_prune_permit WHERE OLD.seq <= upto + 1000) "
            "BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END")
    else:
        sql("CREATE OR REPLACE FUNCTION audit_event_refuse() RETURNS trigger AS $$ BEGIN "
            "IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; "
            "RAISE EXCEPTION 'audit events are append-only' USING ERRCODE = '42501'; "
            "END; $$ LANGUAGE plpgsql")
    message = broken()
    assert "has been changed" in message and "append-only protection" in message


@pytest.mark.article("6")
def test_the_migration_replaces_the_old_triggers(old_trail: list[Event]) -> None:
    migration = importlib.import_module("coachregister.audit.migrations.0005_prune_permit")

    class Editor:
        pass

    editor = Editor()
    editor.connection = connection  # type: ignore[attr-defined]
    migration.backward(None, editor)  # the definitions of before the permit
    assert triggers.problems(connection)
    with pytest.raises(DatabaseError), transaction.atomic():
        PrunePermit.objects.create(upto=1)
        sql("DELETE FROM audit_event WHERE seq = 1")  # the old trigger knows no permit
    migration.forward(None, editor)
    assert triggers.problems(connection) == []
    with time_machine.travel(TODAY, tick=False):
        assert prune.events_prune(before=prune.cutoff()).count == 3


@pytest.mark.article("10.2")
def test_the_prune_command_with_and_without_dry_run(
    old_trail: list[Event], today: None
) -> None:
    def run(*args: str) -> str:
        out = io.StringIO()
        with override("en"):
            call_command("audit", "prune", *args, stdout=out)
        return out.getvalue()

    assert "Would remove 3 events, up to sequence 3" in run("--dry-run")
    assert Event.objects.count() == 6 and not anchors.prunes(anchors.read_records())
    out = run()
    record = anchors.prunes(anchors.read_records())[-1]
    assert "Removed 3 events, up to sequence 3" in out and anchors.fingerprint(record) in out
    assert "Nothing has expired: audit events are kept 7 years." in run()


@pytest.mark.article("10.2")
def test_the_worker_prunes_what_has_expired(old_trail: list[Event], today: None) -> None:
    call_command("worker", "--once", stdout=io.StringIO())
    assert Event.objects.order_by("seq").first().seq == 4
    assert anchors.prunes(anchors.read_records())[-1]["seq"] == 3
    assert "OK:" in verify()
