"""`coachregister backup` and the refusals of `restore` (art. 6, 10, 10.2), in process.

The end-to-end restore (erasure, purge and correction re-applied) is test_backup_restore.py.
A backup reads the committed database (pg_dump is another process), hence transactional
tests.
"""

from __future__ import annotations

import io
import json
import struct
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.utils import timezone
from django.utils.translation import override

from coachregister import checks
from coachregister.accounts.models import User
from coachregister.audit.models import Event
from coachregister.coachees.models import Coachee
from coachregister.coachees.vault import Contact
from coachregister.keys import keyring
from coachregister.retention import backup, journal
from coachregister.testing import factories

PEOPLE = [
    Contact("Wendelmoet", "Zwanikken", "wendelmoet.zwanikken@voorbeeld.example", "+31612121212"),
    Contact("Gijsbrecht", "Oudshoorn", "gijs.oudshoorn@voorbeeld.example", "+31634343434"),
]


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """The refusals are asserted by their English text (the register speaks Dutch)."""
    with override("en"):
        yield


def _secrets(person: Contact) -> list[bytes]:
    return [value.encode("utf-8") for value in (
        person.first_name, person.last_name, person.email, person.phone, person.phone[3:],
    )]


def _register(owner: User, coach: User) -> None:
    for person in PEOPLE:
        factories.trajectory(owner, coach, contact=person)
    factories.client(owner, name="Controlewaarde Zorggroep")


def _make(tmp_path: Path) -> Path:
    out = io.StringIO()
    call_command("backup", str(tmp_path / "backups"), stdout=out)
    (path,) = (tmp_path / "backups").glob("coachregister-*.crbackup")
    assert path.name in out.getvalue()
    return path


def _decrypted(path: Path) -> bytes:
    manifest, key = backup.manifest_read(path)
    data = bytearray()
    backup._walk(path, manifest, key, lambda name: data.extend if name == backup.DATABASE
                 else None)
    if data.startswith(b"PGDMP"):  # pg_dump's custom format compresses: read it as SQL
        return subprocess.run([backup._pg_tool("pg_restore"), "--file=-"], input=bytes(data),
                              capture_output=True, check=True, timeout=120).stdout
    return bytes(data)


def _header_end(raw: bytes) -> int:
    start = len(backup.MAGIC)
    return start + 4 + struct.unpack(">I", raw[start : start + 4])[0]


def _chunk_spans(raw: bytes) -> list[tuple[int, int]]:
    spans, offset = [], _header_end(raw)
    while offset < len(raw):
        size = struct.unpack(">I", raw[offset : offset + 4])[0]
        spans.append((offset, offset + 4 + size))
        offset += 4 + size
    return spans


def _refused(path: Path) -> str:
    with pytest.raises(CommandError) as caught:
        call_command("restore", str(path), stdout=io.StringIO())
    assert not backup.marker_path().exists()
    return str(caught.value)


@pytest.mark.article("6")
@pytest.mark.django_db(transaction=True)
def test_a_backup_holds_no_contact_detail_in_plain_text(
    tmp_path: Path, owner: User, coach: User
) -> None:
    _register(owner, coach)
    path = _make(tmp_path)
    raw = path.read_bytes()
    plain = _decrypted(path)
    # The scan sees plaintext where it is: the client's name is in the database, not the file.
    assert b"Controlewaarde Zorggroep" in plain
    assert b"Controlewaarde Zorggroep" not in raw
    manifest = raw[: _header_end(raw)]
    for person in PEOPLE:
        for secret in _secrets(person):
            assert secret not in raw, secret
            assert secret not in manifest, secret
            assert secret not in plain, secret  # the vault's fields stay encrypted inside
    assert b"Zorggroep" not in manifest and b"@" not in manifest


@pytest.mark.article("10.2")
@pytest.mark.django_db(transaction=True)
def test_the_manifest_describes_the_snapshot(tmp_path: Path, owner: User, coach: User) -> None:
    _register(owner, coach)
    head = Event.objects.order_by("-seq").values_list("seq", "hash").first()
    path = _make(tmp_path)
    manifest = backup.verify(path)
    assert manifest["audit_head"] == {"seq": head[0], "hash": head[1]}
    assert manifest["master_kid"] == keyring.current_master().kid
    assert manifest["epochs"] == [epoch.id for epoch in keyring.living_epochs()]
    assert manifest["journal"]["position"] == len(journal.entries())
    assert manifest["schema"]["retention"].startswith("0")
    assert manifest["engine"] in ("sqlite", "postgresql")
    # The backup is itself in the trail, after the head it holds.
    created = Event.objects.get(action="retention.backup.created")
    assert created.seq == head[0] + 1 and created.detail["backup"] == path.name


@pytest.mark.article("6")
@pytest.mark.django_db(transaction=True)
def test_no_temporary_plaintext_outlives_a_failed_backup(
    tmp_path: Path, owner: User, coach: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    _register(owner, coach)
    made: list[str] = []
    real_mkstemp = backup.tempfile.mkstemp

    def recording(*args: Any, **kwargs: Any) -> tuple[int, str]:
        fd, name = real_mkstemp(*args, **kwargs)
        made.append(name)
        return fd, name

    def broken() -> list[tuple[str, bytes]]:
        raise OSError("the key directory went away")

    monkeypatch.setattr(backup.tempfile, "mkstemp", recording)
    monkeypatch.setattr(keyring, "epoch_files", broken)
    with pytest.raises(OSError):
        call_command("backup", str(tmp_path / "backups"), stdout=io.StringIO())
    assert list((tmp_path / "backups").iterdir()) == []  # no half-written backup either
    assert all(not Path(name).exists() for name in made)


@pytest.mark.article("6")
@pytest.mark.django_db(transaction=True)
def test_a_changed_moved_or_cut_chunk_is_refused(
    tmp_path: Path, owner: User, coach: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backup, "CHUNK", 4096)  # many chunks from a small database
    _register(owner, coach)
    path = _make(tmp_path)
    raw = path.read_bytes()
    spans = _chunk_spans(raw)
    assert len(spans) > 3
    backup.verify(path)  # the untouched file opens
    before = Coachee.objects.count()

    flipped = bytearray(raw)
    flipped[spans[1][0] + 40] ^= 0x01
    path.write_bytes(bytes(flipped))
    with pytest.raises(backup.BackupError):
        backup.verify(path)
    assert "does not authenticate" in _refused(path)

    (a, b), (c, d) = spans[1], spans[2]
    path.write_bytes(raw[:a] + raw[c:d] + raw[a:b] + raw[d:])  # two chunks swapped
    assert "does not authenticate" in _refused(path)

    path.write_bytes(raw[: spans[-1][0]])  # the final chunk dropped
    assert "cut off" in _refused(path)
    assert Coachee.objects.count() == before  # nothing was touched


@pytest.mark.article("6")
@pytest.mark.django_db(transaction=True)
def test_a_changed_manifest_is_refused(tmp_path: Path, owner: User, coach: User) -> None:
    _register(owner, coach)
    path = _make(tmp_path)
    raw = path.read_bytes()
    end = _header_end(raw)
    header = json.loads(raw[len(backup.MAGIC) + 4 : end])
    header["audit_head"]["seq"] += 1  # claims a later head: anchors would line up falsely
    body = json.dumps(header, sort_keys=True).encode("ascii")
    path.write_bytes(backup.MAGIC + struct.pack(">I", len(body)) + body + raw[end:])
    with pytest.raises(backup.BackupError, match="manifest does not authenticate"):
        backup.verify(path)
    assert "manifest does not authenticate" in _refused(path)


@pytest.mark.article("10.2")
@pytest.mark.django_db(transaction=True)
def test_restore_into_a_database_with_rows_is_refused(
    tmp_path: Path, owner: User, coach: User
) -> None:
    _register(owner, coach)
    path = _make(tmp_path)
    events = Event.objects.count()
    message = _refused(path)
    assert "not empty" in message
    assert Event.objects.count() == events and Coachee.objects.count() == len(PEOPLE)


@pytest.mark.article("10.2")
@pytest.mark.django_db(transaction=True)
def test_pruning_removes_only_backups_older_than_the_backup_age(
    tmp_path: Path, settings: Any, owner: User
) -> None:
    settings.COACHREGISTER_BACKUP_AGE_DAYS = 35
    folder = tmp_path / "backups"
    now = timezone.now()
    ages: dict[int, str] = {}
    pruned: list[str] = []
    for days in (40, 35, 34, 1):  # each run prunes by its own clock
        made = backup.backup_create(folder, now=now - timedelta(days=days))
        ages[days] = made.path.name
        pruned += made.pruned
    assert pruned == [ages[40]]  # 39 days old when the last one was made
    (folder / "notes.txt").write_text("not a backup")
    (folder / "coachregister-foreign.crbackup").write_bytes(b"something else entirely")
    forged = folder / "coachregister-forged.crbackup"
    raw = (folder / ages[1]).read_bytes()
    end = _header_end(raw)
    header = json.loads(raw[len(backup.MAGIC) + 4 : end])
    header["time"] = (now - timedelta(days=400)).isoformat(timespec="seconds")
    body = json.dumps(header, sort_keys=True).encode("ascii")
    forged.write_bytes(backup.MAGIC + struct.pack(">I", len(body)) + body + raw[end:])

    result = backup.backup_create(folder, now=now)
    assert result.pruned == [ages[35]]  # exactly the age: gone; 34 days: kept
    left = {path.name for path in folder.iterdir()}
    assert left == {ages[34], ages[1], result.path.name, "notes.txt",
                    "coachregister-foreign.crbackup", "coachregister-forged.crbackup"}


@pytest.mark.article("10.2")
def test_e005_refuses_to_serve_while_a_restore_is_pending(settings: Any, tmp_path: Path) -> None:
    settings.COACHREGISTER_EVIDENCE_DIR = tmp_path / "evidence"
    assert checks.no_restore_pending() == []
    marker = backup.marker_path()
    marker.write_text("coachregister-x.crbackup\n")
    try:
        found = checks.no_restore_pending()
        assert [message.id for message in found] == ["coachregister.E005"]
        with pytest.raises(ImproperlyConfigured, match=r"coachregister\.E005"):
            checks.refuse_to_start_on_errors()
    finally:
        marker.unlink()
    assert checks.no_restore_pending() == []


@pytest.mark.django_db
@pytest.mark.article("10.2")
def test_running_processes_stop_serving_and_working_while_a_restore_is_pending(
    settings: object, client: object
) -> None:
    """The system check only runs at start; a process already running must stop too."""
    from pathlib import Path

    from django.core.management import call_command

    from coachregister.checks import RESTORE_MARKER

    marker = Path(settings.COACHREGISTER_EVIDENCE_DIR) / RESTORE_MARKER  # type: ignore[attr-defined]
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text("restore")
    response = client.get("/login/")  # type: ignore[attr-defined]
    assert response.status_code == 503 and response["Retry-After"] == "120"
    out = io.StringIO()
    call_command("worker", "--once", stdout=out)
    assert "sent" not in out.getvalue()  # the pass did nothing
    marker.unlink()
    assert client.get("/login/").status_code == 200  # type: ignore[attr-defined]


@pytest.mark.article("8.3")
def test_a_backup_older_than_the_backup_age_is_not_restored_nor_a_destroyed_epoch(
    own_keys: Path,
) -> None:
    """Past the backup age its key epochs may have been destroyed on purpose (the erasure
    bound): `restore` refuses it; and a destroyed epoch is never put back from any backup."""
    from coachregister.retention import backup

    made = timezone.now() - timedelta(days=keyring.backup_age_days())
    assert not backup.too_old({"time": made.isoformat()}, now=made + timedelta(days=35))
    assert backup.too_old({"time": made.isoformat()},
                          now=made + timedelta(days=keyring.backup_age_days(), seconds=1))
    epoch = keyring.current_epoch()
    data = (keyring.key_dir() / f"{epoch.id}.epoch").read_bytes()
    (keyring.key_dir() / f"{epoch.id}.destroyed").write_text("gone")
    (keyring.key_dir() / f"{epoch.id}.epoch").unlink()
    assert keyring.epoch_file_restore(epoch.id, data) is False
    assert not (keyring.key_dir() / f"{epoch.id}.epoch").exists()
