"""Backup and restore that never undo a right (art. 6, 10.2).

A **backup** is one file: a manifest, then the database snapshot and the key epochs, encrypted.

* The snapshot is consistent: SQLite's online backup API into a temporary file next to the
  database (deleted in `finally`), or `pg_dump --format=custom` run on a snapshot exported by
  a repeatable-read transaction, in which the manifest's facts are read too.
* Everything after the manifest is encrypted with AES-256-GCM in chunks of 1 MiB, each with a
  random nonce and, in its associated data, the backup's id, the chunk's number and whether it
  is the last one: a chunk changed, dropped, moved or cut off does not open. Memory stays flat
  however large the database is. The key comes from the master key alone
  (`keyring.backup_key`), so a backup opens when the host, the database with its register
  keys and the key directory are lost.
* The backup carries the epoch files of the key directory as they are (each wrapped by the
  master key): the key directory is never backed up by itself, and a backup older than the
  backup age is pruned with the epochs it holds.
* The manifest (JSON, no personal data) says when, which format and engine, the latest
  migration per app, the master key id, the epochs, the audit head (sequence and hash) and the
  rights journal's position; it is MAC'd with a key derived from the backup key.

A **restore** puts a backup back into an *empty* database only, with `restore.pending` in the
evidence directory all the while (system check E005: nothing serves). It authenticates the
whole file first, then places the database, puts back missing epoch files, migrates, appends a
signed restore record to the evidence file (anchors above the backup's head, written before
it, belonged to the replaced chain), and re-applies every effect of the rights journal that
the backup may not hold (journal.py) before the marker goes: an erasure, purge, correction,
restriction or withdrawal made after the backup is never undone. Intents without a mark are
listed for the owner, never guessed.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import secrets
import shutil
import sqlite3
import struct
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from glob import glob
from pathlib import Path
from typing import IO, Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

FORMAT = 1
MAGIC = b"COACHREGISTER-BACKUP\n"
PREFIX = "coachregister-"
SUFFIX = ".crbackup"
CHUNK = 1 << 20
NONCE = 12
TAG = 16
MAX_MANIFEST = 1 << 20
MARKER = "restore.pending"
DATABASE = "database"
EPOCH = "epoch:"


class BackupError(ValueError):
    """A backup cannot be made or restored. The message is for the owner; no personal data."""


# --- keys and the manifest -------------------------------------------------------------------


def _subkey(key: bytes, backup_id: str, purpose: bytes) -> bytes:
    """One key per backup and purpose (MAC, data): the same key never both MACs and encrypts."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=bytes.fromhex(backup_id),
        info=b"coachregister backup v1 " + purpose,
    ).derive(key)


def _canonical(manifest: dict[str, Any]) -> bytes:
    body = {k: v for k, v in manifest.items() if k != "mac"}
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode("ascii")


def _manifest_mac(manifest: dict[str, Any], key: bytes) -> str:
    return hmac.new(
        _subkey(key, manifest["id"], b"manifest"), _canonical(manifest), hashlib.sha256
    ).hexdigest()


def _read_header(handle: IO[bytes]) -> dict[str, Any]:
    """The manifest as written, not yet authenticated."""
    if handle.read(len(MAGIC)) != MAGIC:
        raise BackupError(_("This is not a coachregister backup."))
    raw = handle.read(4)
    if len(raw) != 4 or not 0 < struct.unpack(">I", raw)[0] <= MAX_MANIFEST:
        raise BackupError(_("The backup's manifest is damaged."))
    body = handle.read(struct.unpack(">I", raw)[0])
    try:
        manifest = json.loads(body.decode("ascii"))
        bytes.fromhex(manifest["id"])
        str(manifest["master_kid"])
    except (ValueError, KeyError, TypeError):
        raise BackupError(_("The backup's manifest is damaged.")) from None
    if not isinstance(manifest, dict):
        raise BackupError(_("The backup's manifest is damaged."))
    return manifest


def manifest_read(path: Path) -> tuple[dict[str, Any], bytes]:
    """The backup's manifest, its MAC checked, and the backup key that opens its data."""
    from coachregister.keys import keyring
    from coachregister.lib.crypto import DecryptionError

    with open(path, "rb") as handle:
        manifest = _read_header(handle)
    try:
        _kid, key = keyring.backup_key(str(manifest["master_kid"]))
    except DecryptionError:
        raise BackupError(
            _("The backup was made under master key %(kid)s, which is not configured.")
            % {"kid": manifest["master_kid"]}
        ) from None
    if not hmac.compare_digest(str(manifest.get("mac", "")), _manifest_mac(manifest, key)):
        raise BackupError(_("The backup's manifest does not authenticate: it was changed or "
                            "made by another register."))
    if manifest.get("format") != FORMAT:
        raise BackupError(_("This backup's format is not supported."))
    return manifest, key


# --- the encrypted stream ----------------------------------------------------------------------


def _aad(backup_id: str, number: int, final: bool) -> bytes:
    return MAGIC + bytes.fromhex(backup_id) + struct.pack(">QB", number, final)


class _Sealer:
    """Writes plaintext as authenticated chunks; the last one carries the final flag, so a
    cut-off file is noticed. Holds at most one chunk and a little more in memory."""

    def __init__(self, out: IO[bytes], key: bytes, backup_id: str) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self._out = out
        self._aead = AESGCM(_subkey(key, backup_id, b"data"))
        self._id = backup_id
        self._buffer = bytearray()
        self._number = 0

    def _emit(self, data: bytes, final: bool) -> None:
        nonce = secrets.token_bytes(NONCE)
        sealed = nonce + self._aead.encrypt(nonce, data, _aad(self._id, self._number, final))
        self._out.write(struct.pack(">I", len(sealed)) + sealed)
        self._number += 1

    def write(self, data: bytes) -> None:
        self._buffer += data
        while len(self._buffer) > CHUNK:  # keep some back: the final chunk is never empty
            self._emit(bytes(self._buffer[:CHUNK]), final=False)
            del self._buffer[:CHUNK]

    def close(self) -> None:
        self._emit(bytes(self._buffer), final=True)
        self._buffer.clear()

    # the framing of the members inside the stream
    def member(self, name: str, pieces: Iterator[bytes]) -> None:
        encoded = name.encode("ascii")
        self.write(b"M" + struct.pack(">H", len(encoded)) + encoded)
        for piece in pieces:
            if piece:
                self.write(struct.pack(">I", len(piece)) + piece)
        self.write(struct.pack(">I", 0))

    def end(self) -> None:
        self.write(b"E")
        self.close()


def _chunks(handle: IO[bytes], key: bytes, backup_id: str) -> Iterator[bytes]:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    aead = AESGCM(_subkey(key, backup_id, b"data"))
    number = 0
    while True:
        raw = handle.read(4)
        if len(raw) != 4:
            raise BackupError(_("The backup is cut off: its last part is missing."))
        size = struct.unpack(">I", raw)[0]
        if not NONCE + TAG <= size <= CHUNK + NONCE + TAG:
            raise BackupError(_("Part %(number)d of the backup is damaged.") % {"number": number})
        sealed = handle.read(size)
        plain = None
        for final in (False, True):
            try:
                plain = aead.decrypt(sealed[:NONCE], sealed[NONCE:], _aad(backup_id, number, final))
            except (InvalidTag, ValueError):
                continue
            break
        if plain is None:
            raise BackupError(
                _("Part %(number)d of the backup does not authenticate: it was changed, moved "
                  "or belongs to another backup.") % {"number": number}
            )
        yield plain
        number += 1
        if final:
            if handle.read(1):
                raise BackupError(_("The backup has data after its last part."))
            return


class _Reader:
    """Exact reads over the decrypted chunks."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = bytearray()

    def read(self, size: int) -> bytes:
        while len(self._buffer) < size:
            try:
                self._buffer += next(self._chunks)
            except StopIteration:
                raise BackupError(_("The backup's contents are damaged.")) from None
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    def at_end(self) -> bool:
        if self._buffer:
            return False
        for chunk in self._chunks:  # drains the rest, checking it
            self._buffer += chunk
            if self._buffer:
                return False
        return True


Sink = Callable[[bytes], None]


def _walk(path: Path, manifest: dict[str, Any], key: bytes,
          sink_for: Callable[[str], Sink | None]) -> list[str]:
    """Decrypt the whole backup, giving each member's data to `sink_for(name)` (None: drop
    it). Returns the members' names. Raises `BackupError` on any damage."""
    names = []
    with open(path, "rb") as handle:
        _read_header(handle)
        reader = _Reader(_chunks(handle, key, manifest["id"]))
        while True:
            kind = reader.read(1)
            if kind == b"E":
                break
            if kind != b"M":
                raise BackupError(_("The backup's contents are damaged."))
            name = reader.read(struct.unpack(">H", reader.read(2))[0]).decode("ascii")
            names.append(name)
            sink = sink_for(name)
            while size := struct.unpack(">I", reader.read(4))[0]:
                if size > CHUNK * 4:
                    raise BackupError(_("The backup's contents are damaged."))
                piece = reader.read(size)
                if sink is not None:
                    sink(piece)
        if not reader.at_end():
            raise BackupError(_("The backup's contents are damaged."))
    expected = [*(f"{EPOCH}{epoch}" for epoch in manifest.get("epochs", [])), DATABASE]
    if names != expected:
        raise BackupError(_("The backup's contents do not match its manifest."))
    return names


def verify(path: Path) -> dict[str, Any]:
    """Authenticate the manifest and every chunk; the manifest when all is well."""
    manifest, key = manifest_read(path)
    _walk(path, manifest, key, lambda _name: None)
    return manifest


# --- making a backup ---------------------------------------------------------------------------


@dataclass
class BackupResult:
    path: Path
    manifest: dict[str, Any]
    pruned: list[str] = field(default_factory=list)


def _engine() -> str:
    return "postgresql" if connection.vendor == "postgresql" else "sqlite"


def _facts(cursor: Any) -> dict[str, Any]:
    """The manifest's facts, read from the snapshot itself (same point in time)."""
    from coachregister.audit.models import Event

    cursor.execute("SELECT app, name FROM django_migrations ORDER BY id")
    schema: dict[str, str] = {}
    for app, name in cursor.fetchall():
        schema[app] = name
    table = Event._meta.db_table  # a model's own table name, not input
    cursor.execute(  # the sealed head (audit/services.py)
        f"SELECT seq, hash FROM {table} WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1"  # noqa: S608
    )
    head = cursor.fetchone()
    return {
        "schema": schema,
        "audit_head": {"seq": head[0], "hash": head[1]} if head else {"seq": 0, "hash": ""},
    }


def _file_pieces(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as handle:
        while piece := handle.read(CHUNK):
            yield piece


def _discard(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"{path}{suffix}")


@contextlib.contextmanager
def _sqlite_snapshot() -> Iterator[tuple[dict[str, Any], Iterator[bytes]]]:
    """The online backup API into a temporary file beside the database (the same storage the
    database is trusted on), removed however the backup ends."""
    name = str(connection.settings_dict["NAME"])
    folder = Path(name).parent if Path(name).is_absolute() else None
    fd, tmp = tempfile.mkstemp(prefix=".coachregister-snapshot-", dir=folder)
    os.close(fd)
    try:
        target = sqlite3.connect(tmp)
        try:
            connection.ensure_connection()
            connection.connection.backup(target)
            facts = _facts(target.cursor())
        finally:
            target.close()
        yield facts, _file_pieces(Path(tmp))
    finally:
        _discard(Path(tmp))


def _pg_tool(name: str) -> str:
    found = shutil.which(name) or (sorted(glob(f"/usr/lib/postgresql/*/bin/{name}")) or [None])[-1]
    if found is None:
        raise BackupError(_("%(tool)s is not installed.") % {"tool": name})
    return found


def _pg_args() -> tuple[list[str], dict[str, str]]:
    db = connection.settings_dict
    args = []
    if db.get("HOST"):
        args += ["--host", str(db["HOST"])]
    if db.get("PORT"):
        args += ["--port", str(db["PORT"])]
    if db.get("USER"):
        args += ["--username", str(db["USER"])]
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    return [*args, "--no-password"], env


@contextlib.contextmanager
def _pg_snapshot() -> Iterator[tuple[dict[str, Any], Iterator[bytes]]]:
    """pg_dump on the snapshot of a repeatable-read transaction, which stays open while it
    runs and in which the facts are read: the manifest describes exactly what is dumped."""
    if connection.in_atomic_block:
        raise RuntimeError("a backup takes its own snapshot; call it outside a transaction")
    args, env = _pg_args()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]
        facts = _facts(cursor)
        with tempfile.TemporaryFile() as errors:
            process = subprocess.Popen(  # noqa: S603 (the settings' own database)
                [_pg_tool("pg_dump"), *args, "--format=custom", f"--snapshot={snapshot}",
                 "--dbname", str(connection.settings_dict["NAME"])],
                stdout=subprocess.PIPE, stderr=errors, env=env,
            )
            assert process.stdout is not None

            def pieces() -> Iterator[bytes]:
                while piece := process.stdout.read(CHUNK):  # type: ignore[union-attr]
                    yield piece

            try:
                yield facts, pieces()
            finally:
                process.stdout.close()
                code = process.wait()
            if code != 0:
                errors.seek(0)
                raise BackupError(_("pg_dump failed: %(error)s")
                                  % {"error": errors.read()[-500:].decode(errors="replace")})


def _journal_position() -> dict[str, Any]:
    """How far the rights journal was when the snapshot was taken (read before it): effects
    from this position on, and those still open then, may be missing from the backup."""
    from coachregister.retention import journal

    found = journal.entries()
    return {"position": len(found), "open": [e.id for e in found if e.state == "pending"]}


def backup_create(directory: Path, now: datetime | None = None) -> BackupResult:
    """Write one encrypted backup into `directory`, then prune the ones past the backup age.
    The file appears under its final name only once complete."""
    from coachregister.audit import anchors
    from coachregister.audit.services import event_record
    from coachregister.keys import keyring

    now = now or timezone.now()
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    # A restored register reads the evidence files with its own evidence key: it must be in
    # the snapshot even when nothing has been signed yet.
    keyring.register_key(anchors.EVIDENCE_KEY)
    kid, key = keyring.backup_key()
    backup_id = secrets.token_hex(16)
    name = f"{PREFIX}{now.astimezone(UTC):%Y%m%dT%H%M%SZ}-{backup_id[:8]}{SUFFIX}"
    position = _journal_position()
    partial = directory / f".{name}.partial"
    snapshot = _pg_snapshot if _engine() == "postgresql" else _sqlite_snapshot
    try:
        with snapshot() as (facts, pieces):
            # After the snapshot: an epoch is destroyed only when no row has used it for the
            # backup age, so every epoch the snapshot refers to is still here.
            epochs = keyring.epoch_files()
            manifest: dict[str, Any] = {
                "format": FORMAT, "id": backup_id, "time": now.isoformat(timespec="seconds"),
                "engine": _engine(),
                "master_kid": kid, "epochs": [epoch_id for epoch_id, _data in epochs],
                "journal": position, "chunk_bytes": CHUNK, **facts,
            }
            manifest["mac"] = _manifest_mac(manifest, key)
            header = json.dumps(manifest, sort_keys=True).encode("ascii")
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(MAGIC + struct.pack(">I", len(header)) + header)
                sealer = _Sealer(out, key, backup_id)
                for epoch_id, data in epochs:
                    sealer.member(f"{EPOCH}{epoch_id}", iter([data]))
                sealer.member(DATABASE, pieces)
                sealer.end()
                out.flush()
                os.fsync(out.fileno())
        os.replace(partial, directory / name)
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    with transaction.atomic():
        event_record(
            action="retention.backup.created", object_type="backup", object_id=backup_id[:8],
            detail={"backup": name, "head_seq": manifest["audit_head"]["seq"],
                    "epochs": len(epochs)},
        )
    return BackupResult(directory / name, manifest, backups_prune(directory, now))


def backups_prune(directory: Path, now: datetime | None = None) -> list[str]:
    """Delete the backups made at least the backup age ago (the same age after which an
    unused key epoch is destroyed): together they bound how long an erased person's data can
    open from any copy. Files not recognised as backups are left alone; half-written ones
    older than a day go. The time is the manifest's, checked when its master key is still
    configured (a backup under a retired key is pruned by its stated time all the same)."""
    from coachregister.keys import keyring

    now = now or timezone.now()
    age = timedelta(days=keyring.backup_age_days())
    pruned = []
    for path in sorted(directory.glob(f"{PREFIX}*{SUFFIX}")):
        try:
            with open(path, "rb") as handle:
                manifest = _read_header(handle)
            made = datetime.fromisoformat(str(manifest["time"]))
        except (BackupError, OSError, KeyError, ValueError):
            continue
        try:
            manifest_read(path)
        except BackupError:
            configured = {master.kid for master in keyring.master_keys()}
            if str(manifest["master_kid"]) in configured:
                continue  # a changed manifest or another register's backup: left alone
        if now - made >= age:
            path.unlink()
            pruned.append(path.name)
    for path in directory.glob(f".{PREFIX}*{SUFFIX}.partial"):
        if now.timestamp() - path.stat().st_mtime > 86400:
            path.unlink(missing_ok=True)
    return pruned


# --- restoring -----------------------------------------------------------------------------------


def marker_path() -> Path:
    from coachregister.audit.anchors import evidence_dir

    return evidence_dir() / MARKER


def database_in_use() -> list[str]:
    """The tables of the configured database that hold rows (a restore needs none)."""
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        used = []
        for table in tables:
            quoted = connection.ops.quote_name(table)  # names from the catalogue
            cursor.execute(f"SELECT 1 FROM {quoted} LIMIT 1")  # noqa: S608
            if cursor.fetchone() is not None:
                used.append(table)
    return used


def _place_sqlite(path: Path, manifest: dict[str, Any], key: bytes) -> None:
    target = Path(str(connection.settings_dict["NAME"]))
    if not target.is_absolute():
        raise BackupError(_("The configured SQLite database is not a file."))
    connection.close()
    fd, tmp = tempfile.mkstemp(prefix=".coachregister-restore-", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            _walk(path, manifest, key, lambda name: out.write if name == DATABASE else None)
            out.flush()
            os.fsync(out.fileno())
        for suffix in ("-wal", "-shm", "-journal"):  # of the empty database it replaces
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f"{target}{suffix}")
        os.replace(tmp, target)
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    finally:
        _discard(Path(tmp))


def _place_postgresql(path: Path, manifest: dict[str, Any], key: bytes) -> None:
    args, env = _pg_args()
    connection.close()
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(  # noqa: S603 (the settings' own database)
            [_pg_tool("pg_restore"), *args, "--no-owner", "--exit-on-error",
             "--dbname", str(connection.settings_dict["NAME"])],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=errors, env=env,
        )
        assert process.stdin is not None
        try:
            _walk(path, manifest, key,
                  lambda name: process.stdin.write if name == DATABASE else None)  # type: ignore[union-attr]
        except BrokenPipeError:
            pass  # pg_restore stopped: its exit code and message say why
        finally:
            with contextlib.suppress(BrokenPipeError):
                process.stdin.close()
            code = process.wait()
        if code != 0:
            errors.seek(0)
            raise BackupError(_("pg_restore failed: %(error)s")
                              % {"error": errors.read()[-500:].decode(errors="replace")})


def _restore_epochs(path: Path, manifest: dict[str, Any], key: bytes) -> int:
    from coachregister.keys import keyring

    found: dict[str, bytearray] = {}

    def sink_for(name: str) -> Sink | None:
        if not name.startswith(EPOCH):
            return None
        found[name[len(EPOCH):]] = bytearray()
        return found[name[len(EPOCH):]].extend

    _walk(path, manifest, key, sink_for)
    return sum(
        keyring.epoch_file_restore(epoch_id, bytes(data)) for epoch_id, data in found.items()
    )


@dataclass
class RestoreResult:
    name: str
    manifest: dict[str, Any]
    reapplied: int
    pending: list[Any]
    epochs_restored: int
    journal_short: bool = False


def too_old(manifest: dict[str, Any], now: datetime | None = None) -> bool:
    """Art. 6, 8.3: past the backup age a backup's key epochs may have been destroyed on
    purpose (the erasure bound); restoring it would bring erased people back."""
    from coachregister.keys import keyring

    made = datetime.fromisoformat(manifest["time"])
    return (now or timezone.now()) - made > timedelta(days=keyring.backup_age_days())


def restore(
    path: Path, *, journal_lost: bool = False, out: Callable[[str], None] = lambda _line: None
) -> RestoreResult:
    """Restore `path` into the empty configured database and re-apply the rights journal.
    Refuses (BackupError, nothing changed) when the file does not authenticate, was made on
    another engine, or the database holds rows. After the database is in place a failure
    leaves the marker: the register does not serve until a restore finishes. A journal
    shorter than at the backup is refused unless `journal_lost` (the owner's decision, told
    to every owner by mail and kept in the trail)."""
    from django.core.management import call_command

    from coachregister.audit import anchors
    from coachregister.keys import keyring

    manifest, key = manifest_read(path)
    _walk(path, manifest, key, lambda _name: None)  # every chunk, before anything is touched
    if too_old(manifest):
        raise BackupError(_("This backup is older than the backup age (%(days)d days) and is "
                            "not restored.") % {"days": keyring.backup_age_days()})
    if manifest["engine"] != _engine():
        raise BackupError(_("This backup was made on %(engine)s; the configured database is "
                            "another engine.") % {"engine": manifest["engine"]})
    used = database_in_use()
    if used:
        raise BackupError(_("The database is not empty (%(count)d tables hold rows): a backup "
                            "is restored into an empty database only.") % {"count": len(used)})
    marker = marker_path()
    marker.write_text(f"{path.name}\n{timezone.now().isoformat()}\n", encoding="ascii")
    out(_("Restoring %(name)s, made %(time)s.") % {"name": path.name, "time": manifest["time"]})
    if _engine() == "postgresql":
        _place_postgresql(path, manifest, key)
    else:
        _place_sqlite(path, manifest, key)
    epochs_restored = _restore_epochs(path, manifest, key)
    connection.close()
    call_command("migrate", interactive=False, verbosity=0)
    head = manifest["audit_head"]
    anchors.restore_append(backup=path.name, head_seq=int(head["seq"]),
                           head_hash=str(head["hash"]), now=timezone.now())
    reapplied, pending, short = journal_reapply(manifest["journal"], journal_lost=journal_lost)
    _restored_record(path.name, manifest, reapplied, len(pending), short)
    marker.unlink()
    return RestoreResult(path.name, manifest, reapplied, pending, epochs_restored, short)


def _restored_record(
    name: str, manifest: dict[str, Any], reapplied: int, pending: int, journal_short: bool
) -> None:
    """The trail's event and, in the same transaction, the owners' mail (no personal data)."""
    from django.contrib.auth import get_user_model
    from django.utils.translation import override

    from coachregister.audit.services import event_record
    from coachregister.outbox.services import message_enqueue

    with transaction.atomic():
        event_record(
            action="retention.backup.restored", object_type="backup",
            object_id=str(manifest["id"])[:8],
            detail={"backup": name, "backup_time": manifest["time"],
                    "head_seq": int(manifest["audit_head"]["seq"]), "reapplied": reapplied,
                    "pending": pending, "journal_lost": journal_short},
        )
        with override("nl"):
            subject = _("The register was restored from a backup")
            body = _(
                "The register was restored from the backup %(name)s, made %(time)s. Every "
                "erasure, correction, restriction and withdrawal since then has been carried "
                "out again (%(count)d). %(pending)d unfinished actions are listed by the "
                "restore for you to check.\n\nIf you did not expect this restore, treat it as "
                "an incident."
            ) % {"name": name, "time": manifest["time"], "count": reapplied, "pending": pending}
            if journal_short:
                body += "\n\n" + _(
                    "The rights journal was missing or shorter than when the backup was made. "
                    "Erasures, corrections, restrictions and withdrawals since the backup may "
                    "have been undone: check every request answered since %(time)s."
                ) % {"time": manifest["time"]}
        for owner in get_user_model().objects.filter(role="owner", is_active=True):
            if owner.email:
                message_enqueue(kind="retention_restored", to=owner.email, subject=subject,
                                body=body)


# --- re-applying the rights journal (art. 8.3, 10.2) ----------------------------------------------


def journal_reapply(
    position: dict[str, Any], *, journal_lost: bool = False
) -> tuple[int, list[Any], bool]:
    """Re-apply, in journal order, every done effect the backup may lack: those from the
    backup's position on and those still open when it was taken. Each is idempotent (it does
    nothing when its result is already there) and commits on its own. Returns the number of
    effects that changed something, the intents without a mark (never reconciled against
    the restored database: it predates them) and whether the journal was short."""
    from coachregister.retention import journal

    found = journal.entries()
    start = int(position.get("position", 0))
    short = len(found) < start
    if short and journal_lost:
        start = 0  # whatever is left of it is re-applied; each effect is idempotent
    elif short:
        raise BackupError(_("The rights journal has fewer entries than when the backup was "
                            "made: it was cut or replaced. Restore the evidence directory "
                            "that was copied off the host first, or run the restore with "
                            "--journal-lost."))
    still_open = set(position.get("open", []))
    reapplied = 0
    pending = []
    for index, entry in enumerate(found):
        if index < start and entry.id not in still_open:
            continue
        if entry.state == "pending":
            pending.append(entry)
        elif entry.state == "done" and _reapply(entry):
            reapplied += 1
    return reapplied, pending, short


def _reapply(entry: Any) -> bool:
    from coachregister.coachees import vault
    from coachregister.coachees.models import Coachee
    from coachregister.disclosures.models import Consent
    from coachregister.retention import journal
    from coachregister.retention.models import DestructionReason, Scope
    from coachregister.retention.services import expiry_date
    from coachregister.retention.shredder import shred

    with transaction.atomic():
        coachee = Coachee.objects.select_for_update().filter(pseudonym=entry.pseudonym).first()
        if entry.effect == journal.Effect.ERASURE:
            if coachee is None:
                return False
            shred(pseudonym=entry.pseudonym, scope=Scope.ERASURE,
                  reason=DestructionReason.REQUEST, expiry=expiry_date(coachee))
            return True
        if entry.effect == journal.Effect.PURGE:
            if coachee is None and not _pseudonymous_rows(entry.pseudonym):
                return False
            shred(pseudonym=entry.pseudonym, scope=Scope.PURGE,
                  reason=DestructionReason.RETENTION)
            return True
        if coachee is None:
            return False
        if entry.effect == journal.Effect.CORRECTION:
            changes = json.loads(vault.decrypt_for(
                coachee, "journal_correction", bytes.fromhex(entry.data["values"])))
            contact = vault.open_contact(coachee)
            values = {name: getattr(contact, name) for name in vault.FIELDS}
            if all(values[name] == value for name, value in changes.items()):
                return False
            values.update(changes)
            vault.seal(coachee, vault.Contact(**values))
            coachee.save(update_fields=["first_name_enc", "last_name_enc", "email_enc",
                                        "phone_enc", "email_index"])
            return True
        if entry.effect in (journal.Effect.RESTRICTED, journal.Effect.RESTRICTION_LIFTED):
            # Art. 8.1: restricted again on the journalled ground and since the journalled
            # moment; a lifting clears both.
            wanted = entry.effect == journal.Effect.RESTRICTED
            ground = entry.data.get("ground", "") if wanted else ""
            if coachee.restricted == wanted and coachee.restriction_ground == ground:
                return False
            coachee.restricted = wanted
            coachee.restriction_ground = ground
            at = entry.data.get("at")
            coachee.restricted_at = (
                (datetime.fromisoformat(at) if at else entry.time) if wanted else None
            )
            coachee.save(update_fields=["restricted", "restricted_at", "restriction_ground"])
            return True
        if entry.effect == journal.Effect.CONSENT_WITHDRAWN:
            return bool(Consent.objects.filter(
                pk=entry.data.get("consent"), coachee=coachee, withdrawn_at__isnull=True
            ).update(withdrawn_at=entry.time))
        if entry.effect == journal.Effect.KEYWORDS_ERASED:
            from coachregister.notes.services import keywords_erased_reapply

            return keywords_erased_reapply(coachee, entry.data)
        if entry.effect == journal.Effect.KEYWORDS_DELETED:
            from coachregister.notes.services import keywords_deleted_reapply

            return keywords_deleted_reapply(coachee, entry.data)
        if entry.effect == journal.Effect.KEYWORDS_KEPT:
            from coachregister.notes.services import keywords_kept_reapply

            return keywords_kept_reapply(coachee, entry.data, entry.time)
    return False


def _pseudonymous_rows(pseudonym: str) -> bool:
    """Whether a purge still has anything to remove for a coachee whose vault row is gone."""
    from coachregister.disclosures.models import Disclosure
    from coachregister.outbox.models import OutboxMessage
    from coachregister.retention.models import Tombstone
    from coachregister.rights.models import DataRequest
    from coachregister.trajectories.models import Trajectory

    return any(
        model.objects.filter(**{name: pseudonym}).exists()
        for model, name in (
            (Trajectory, "coachee_pseudonym"), (Disclosure, "coachee_pseudonym"),
            (DataRequest, "coachee_pseudonym"), (OutboxMessage, "coachee_pseudonym"),
            (Tombstone, "pseudonym"),
        )
    )
