"""A restore never undoes a right (art. 10.2), end to end in production-like processes.

A register is backed up; then coachee A is erased on request, coachee B purged and coachee C's
phone corrected. The backup goes back into an empty database by `coachregister restore` in its
own process: by the time it returns (and the E005 marker is gone, so before anything serves),
A and B are gone and C has the new phone. Runs on the engine of the test run: SQLite files,
or two PostgreSQL databases made and dropped here.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection

from coachregister.retention import backup
from coachregister.testing.server import Server, server_env

pytestmark = pytest.mark.article("10.2")

SETUP = """
from coachregister.accounts.models import Role, User
from coachregister.coachees.vault import Contact
from coachregister.testing import factories
owner = User.objects.create(username="eigenaar", full_name="E", role=Role.OWNER,
                            email="eigenaar@praktijk.example")
coach = User.objects.create(username="coach", full_name="C", role=Role.COACH)
people = {
    "a": Contact("Annelotte", "Wisselink", "annelotte.wisselink@voorbeeld.example",
                 "+31611112222"),
    "b": Contact("Bartholomeus", "Ploegmaker", "bart.ploegmaker@voorbeeld.example",
                 "+31633334444"),
    "c": Contact("Cornelia", "Vredenburgh", "cornelia.vredenburgh@voorbeeld.example",
                 "+31655556666"),
}
found = {key: factories.trajectory(owner, coach, contact=person).coachee.pseudonym
         for key, person in people.items()}
print("JSON" + __import__("json").dumps(found))
"""

AFTER_BACKUP = """
import json
from django.db import transaction
from coachregister.accounts.models import User
from coachregister.coachees.models import Coachee
from coachregister.retention import journal
from coachregister.retention.shredder import shred
from coachregister.rights import services
p = json.loads({pseudonyms!r})
owner = User.objects.get(username="eigenaar")
erase = services.request_register(actor=owner, request=None,
    coachee=Coachee.objects.get(pseudonym=p["a"]), kind="erasure", channel="letter",
    verification="signed letter")
services.request_decide(actor=owner, request=None, data_request=erase, decision="granted")
with transaction.atomic():
    with journal.effect(journal.Effect.PURGE, p["b"]):
        shred(pseudonym=p["b"], scope="purge", reason="retention")
fix = services.request_register(actor=owner, request=None,
    coachee=Coachee.objects.get(pseudonym=p["c"]), kind="rectification", channel="letter",
    verification="signed letter", changes={{"phone": "+31612349876"}})
services.request_decide(actor=owner, request=None, data_request=fix, decision="granted")
limit = services.request_register(actor=owner, request=None,
    coachee=Coachee.objects.get(pseudonym=p["c"]), kind="restriction", channel="letter",
    verification="signed letter", restriction_ground="c")
services.request_decide(actor=owner, request=None, data_request=limit, decision="granted")
from coachregister.disclosures.models import Consent
from coachregister.disclosures.services import consent_withdraw
consent_withdraw(actor=owner, request=None, consent=Consent.objects.filter(
    coachee__pseudonym=p["c"], given=True).order_by("pk").first())
"""

CHECK = """
import io, json
from django.core.management import call_command
from coachregister.audit.models import Event
from coachregister.coachees import vault
from coachregister.audit import anchors
from coachregister.coachees.models import Coachee
from coachregister.disclosures.models import Consent
from coachregister.outbox.models import OutboxMessage
from coachregister.trajectories.models import Trajectory
p = json.loads({pseudonyms!r})
out = io.StringIO()
call_command("audit", "verify", stdout=out)
restored = Event.objects.filter(action="retention.backup.restored").first()
c = Coachee.objects.filter(pseudonym=p["c"]).first()
print("JSON" + json.dumps({{
    "a": Coachee.objects.filter(pseudonym=p["a"]).exists(),
    "a_trajectory": Trajectory.objects.filter(coachee_pseudonym=p["a"]).exists(),
    "b": Coachee.objects.filter(pseudonym=p["b"]).exists(),
    "b_trajectory": Trajectory.objects.filter(coachee_pseudonym=p["b"]).exists(),
    "c_phone": vault.open_contact(c).phone if c else None,
    "c_name": vault.open_contact(c).last_name if c else None,
    "c_restricted": c.restricted if c else None,
    "c_restriction": [c.restriction_ground, c.restricted_at is not None] if c else None,
    "c_consent_withdrawn": Consent.objects.filter(coachee=c, given=True).order_by("pk")
        .first().withdrawn_at is not None if c else None,
    "restore_records": [[r["backup"], r["backup_head_seq"], r["backup_head_hash"]]
                        for r in anchors.restores(anchors.read_records())],
    "restored": restored.detail if restored else None,
    "restored_count": Event.objects.filter(action="retention.backup.restored").count(),
    "owner_mails": OutboxMessage.objects.filter(kind="retention_restored").count(),
    "verify": out.getvalue(),
}}))
"""


def _run(server: Server, *args: str) -> str:
    result = server.manage(*args, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def _shell(server: Server, code: str) -> str:
    return _run(server, "shell", "-c", code)


def _json(result: str) -> dict[str, object]:
    line = [line for line in result.splitlines() if line.startswith("JSON")][-1]
    return json.loads(line[4:])


@pytest.fixture
def databases(tmp_path: Path) -> Iterator[list[dict[str, str]]]:
    """Settings for the register that is backed up and for two empty ones to restore into:
    SQLite files, or (on a PostgreSQL run) databases made for this test and dropped after."""
    if connection.vendor != "postgresql":
        yield [{"DATABASE_URL": f"sqlite:///{tmp_path / 'var' / name}.sqlite3"}
               for name in ("live", "restore", "again")]
        return
    import psycopg

    db = connection.settings_dict
    base = f"{db['NAME']}_{secrets.token_hex(3)}"
    names = (f"{base}_live", f"{base}_restore", f"{base}_again")
    params = {"host": db["HOST"] or "127.0.0.1", "port": db["PORT"] or 5432,
              "user": db["USER"], "password": db["PASSWORD"] or None, "dbname": "postgres",
              "autocommit": True}
    with psycopg.connect(**params) as admin:
        for name in names:
            admin.execute(f'CREATE DATABASE "{name}"')
    url = f"postgres://{db['USER']}@{params['host']}:{params['port']}/"
    try:
        yield [{"DATABASE_URL": url + name} for name in names]
    finally:
        with psycopg.connect(**params) as admin:
            for name in names:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_restore_reapplies_erasure_purge_and_correction_before_serving(
    tmp_path: Path, databases: list[dict[str, str]]
) -> None:
    live_db, empty_db, _again = databases
    env = server_env(tmp_path / "var", {"DJANGO_SETTINGS_MODULE": "coachregister.settings"})
    live = Server(url="", env={**env, **live_db}, log=tmp_path / "live.log")
    restored = Server(url="", env={**env, **empty_db}, log=tmp_path / "restored.log")
    _run(live, "migrate", "--no-input", "-v", "0")
    pseudonyms = _json(_shell(live, SETUP))

    made = _run(live, "backup", str(tmp_path / "backups"))
    assert "coachregister-" in made
    (backup_file,) = (tmp_path / "backups").glob("coachregister-*.crbackup")
    _shell(live, AFTER_BACKUP.format(pseudonyms=json.dumps(pseudonyms)))
    after = _json(_shell(live, CHECK.format(pseudonyms=json.dumps(pseudonyms))))
    assert not after["a"] and not after["b"] and after["c_phone"] == "+31612349876"
    assert after["c_restricted"] is True and after["c_consent_withdrawn"] is True

    result = restored.manage("restore", str(backup_file), check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert not (tmp_path / "var" / "evidence" / "restore.pending").exists()
    state = _json(_shell(restored, CHECK.format(pseudonyms=json.dumps(pseudonyms))))
    # The backup held all three as they were; the journal carried the three effects again.
    assert state["a"] is False and state["a_trajectory"] is True  # erased: rows kept
    assert state["b"] is False and state["b_trajectory"] is False  # purged: all gone
    assert state["c_phone"] == "+31612349876" and state["c_name"] == "Vredenburgh"
    assert state["c_restricted"] is True and state["c_consent_withdrawn"] is True
    assert state["c_restriction"] == ["c", True]  # art. 8.1: on the journalled ground
    assert state["restored"]["reapplied"] == 5
    assert state["restored"]["backup"] == backup_file.name
    assert state["restored"]["pending"] == 0
    assert state["owner_mails"] == 1
    with backup_file.open("rb") as handle:
        head = backup._read_header(handle)["audit_head"]
    # The signed restore record names the backup and the head the restored chain goes on from.
    assert state["restore_records"] == [[backup_file.name, head["seq"], head["hash"]]]
    assert state["verify"].startswith("OK")  # the same in Dutch and English
    assert restored.manage("check", check=False).returncode == 0  # serves again

    # A second restore into the now filled database is refused and changes nothing.
    again = restored.manage("restore", str(backup_file), check=False)
    assert again.returncode == 1 and "CommandError" in again.stderr
    assert not (tmp_path / "var" / "evidence" / "restore.pending").exists()
    still = _json(_shell(restored, CHECK.format(pseudonyms=json.dumps(pseudonyms))))
    assert still["restored_count"] == 1 and still["c_phone"] == "+31612349876"


ERASE_FIRST = """
import json
from coachregister.accounts.models import User
from coachregister.coachees.models import Coachee
from coachregister.rights import services
p = json.loads({pseudonyms!r})
owner = User.objects.get(username="eigenaar")
erase = services.request_register(actor=owner, request=None,
    coachee=Coachee.objects.get(pseudonym=p["a"]), kind="erasure", channel="letter",
    verification="signed letter")
services.request_decide(actor=owner, request=None, data_request=erase, decision="granted")
"""


def test_a_cut_rights_journal_keeps_the_register_closed(
    tmp_path: Path, databases: list[dict[str, str]]
) -> None:
    """The journal in the evidence directory is shorter than when the backup was made: the
    restore stops before re-applying anything, and the marker keeps every process (web
    server, worker) from starting (E005) until the owner decides."""
    live_db, empty_db, again_db = databases
    env = server_env(tmp_path / "var", {"DJANGO_SETTINGS_MODULE": "coachregister.settings"})
    live = Server(url="", env={**env, **live_db}, log=tmp_path / "live.log")
    restored = Server(url="", env={**env, **empty_db}, log=tmp_path / "restored.log")
    _run(live, "migrate", "--no-input", "-v", "0")
    pseudonyms = _json(_shell(live, SETUP))
    _shell(live, ERASE_FIRST.format(pseudonyms=json.dumps(pseudonyms)))
    _run(live, "backup", str(tmp_path / "backups"))
    (backup_file,) = (tmp_path / "backups").glob("coachregister-*.crbackup")
    evidence = tmp_path / "var" / "evidence"
    (evidence / "journal.jsonl").unlink()  # lost, or cut by someone

    refused = restored.manage("restore", str(backup_file), check=False)
    assert refused.returncode == 1 and "CommandError" in refused.stderr
    assert (evidence / "restore.pending").exists()
    blocked = restored.manage("check", check=False)
    assert blocked.returncode != 0 and "coachregister.E005" in blocked.stderr

    # The owner's decision: restore anyway (into an empty database again), told by mail.
    restored = Server(url="", env={**env, **again_db}, log=tmp_path / "again.log")
    forced = restored.manage("restore", "--journal-lost", str(backup_file), check=False)
    assert forced.returncode == 0, forced.stderr[-3000:]
    assert not (evidence / "restore.pending").exists()
    state = _json(_shell(restored, CHECK.format(pseudonyms=json.dumps(pseudonyms))))
    assert state["restored"]["journal_lost"] is True
    assert state["a"] is False  # erased before the backup: the backup never held A
    assert state["owner_mails"] == 1


def test_anchors_of_the_replaced_chain_are_superseded_by_the_restore_record(
    tmp_path: Path, databases: list[dict[str, str]]
) -> None:
    live_db, empty_db, _again = databases
    env = server_env(tmp_path / "var", {"DJANGO_SETTINGS_MODULE": "coachregister.settings"})
    live = Server(url="", env={**env, **live_db}, log=tmp_path / "live.log")
    restored = Server(url="", env={**env, **empty_db}, log=tmp_path / "restored.log")
    _run(live, "migrate", "--no-input", "-v", "0")
    pseudonyms = _json(_shell(live, SETUP))
    _run(live, "backup", str(tmp_path / "backups"))
    (backup_file,) = (tmp_path / "backups").glob("coachregister-*.crbackup")
    _shell(live, ERASE_FIRST.format(pseudonyms=json.dumps(pseudonyms)))
    _run(live, "audit", "anchor")  # signs a head that the restored chain will not have
    _run(restored, "restore", str(backup_file))
    verdict = restored.manage("audit", "verify", check=False)
    assert verdict.returncode == 0, verdict.stderr[-2000:]
    assert "vervallen controlepunten van de vervangen keten: 1" in verdict.stdout
