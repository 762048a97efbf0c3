"""Every key of the register, in one module (art. 6). The vault, the outbox and the audit trail
import this; none of them imports another for its keys.

Three layers:

* **Master keys** (`COACHREGISTER_MASTER_KEY`, outside the register): they wrap only the
  epoch keys and the register keys below, so rotating a master key re-wraps a handful of keys.
* **Epoch keys** (one file per epoch in `COACHREGISTER_KEY_DIR`, outside the database, each
  wrapped by the master key): they wrap every per-coachee data key and every outbox message
  key, and each epoch derives its own blind-index key. A new epoch starts every
  `COACHREGISTER_EPOCH_DAYS`; the worker re-wraps the living rows under it (and re-indexes
  their email addresses); an epoch that no row has used for `COACHREGISTER_BACKUP_AGE_DAYS`
  is destroyed. An erased coachee's wrapped key and blind index may survive in a dead
  PostgreSQL tuple, the WAL or a backup, but they belong to an epoch that is gone by then:
  with today's master key they open nothing and match no address. The bound is
  `erasure_bound_days()`.
* **Register keys** (table `keys_registerkey`, wrapped by the master key): the audit chain
  key and the evidence signing key, which must live as long as what they sign.

Destroying an epoch overwrites its file before unlinking it. That is a real erasure on a
file system that writes in place (ext4, xfs); on copy-on-write storage or in a snapshot of
the key directory it is not, so the key directory is never copied into backups (backups carry
their own epochs, issue 10) and belongs on plain local storage (README, security section).
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from coachregister.lib import crypto

if TYPE_CHECKING:
    from django.db.models import QuerySet

EMAIL_INDEX_INFO = b"coachregister email index v1"


# --- master keys -----------------------------------------------------------------------------

_parsed: dict[str, tuple[crypto.MasterKey, ...]] = {}


def master_keys() -> list[crypto.MasterKey]:
    value = settings.COACHREGISTER_MASTER_KEY
    if value not in _parsed:
        _parsed[value] = tuple(crypto.parse_master_keys(value))
    return list(_parsed[value])


def current_master() -> crypto.MasterKey:
    return master_keys()[0]


# --- epochs ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Epoch:
    id: str
    created_at: datetime
    master_kid: str
    vacated_at: datetime | None = None

    def __repr__(self) -> str:  # never key material
        return f"Epoch({self.id!r})"


def key_dir() -> Path:
    path = Path(settings.COACHREGISTER_KEY_DIR)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def epoch_days() -> int:
    return int(settings.COACHREGISTER_EPOCH_DAYS)


def backup_age_days() -> int:
    return int(settings.COACHREGISTER_BACKUP_AGE_DAYS)


def erasure_bound_days() -> int:
    """Within this many days after an erasure, no copy of the register opens the erased data:
    the epoch it was wrapped under is replaced within one interval, and destroyed once no row
    and no kept backup has used it for the backup age. One day more for the worker's pass."""
    return epoch_days() + backup_age_days() + 1


@contextlib.contextmanager
def _dir_lock() -> Iterator[None]:
    """One writer at a time in the key directory, across processes."""
    with open(key_dir() / ".lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _key_path(epoch_id: str) -> Path:
    return key_dir() / f"{epoch_id}.epoch"


def _destroyed_path(epoch_id: str) -> Path:
    return key_dir() / f"{epoch_id}.destroyed"


def _vacated_path(epoch_id: str) -> Path:
    return key_dir() / f"{epoch_id}.vacated"


def _write_new_file(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _shred_file(path: Path) -> None:
    """Overwrite, sync, then unlink: the key bytes do not stay in the freed blocks."""
    with contextlib.suppress(FileNotFoundError):
        size = path.stat().st_size
        with open(path, "r+b") as handle:
            handle.write(secrets.token_bytes(size))
            handle.flush()
            os.fsync(handle.fileno())
            handle.seek(0)
            handle.write(b"\0" * size)
            handle.flush()
            os.fsync(handle.fileno())
        path.unlink()


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _load(epoch_id: str) -> dict[str, str]:
    try:
        return json.loads(_key_path(epoch_id).read_text(encoding="ascii"))
    except FileNotFoundError:
        raise crypto.DecryptionError(f"epoch {epoch_id} no longer exists") from None


def living_epochs() -> list[Epoch]:
    """The epochs whose key still exists, oldest first."""
    epochs = []
    for path in sorted(key_dir().glob("*.epoch")):
        record = json.loads(path.read_text(encoding="ascii"))
        vacated = _vacated_path(record["id"])
        epochs.append(
            Epoch(
                id=record["id"],
                created_at=_parse_time(record["created_at"]),
                master_kid=record["master_kid"],
                vacated_at=_parse_time(vacated.read_text().strip()) if vacated.exists() else None,
            )
        )
    return sorted(epochs, key=lambda e: (e.created_at, e.id))


_epoch_keys: dict[tuple[str, str, str], bytes] = {}


def _cache_key(epoch_id: str) -> tuple[str, str, str]:
    return (str(key_dir()), epoch_id, settings.COACHREGISTER_MASTER_KEY)


def _epoch_key(epoch_id: str) -> bytes:
    """The unwrapped epoch key. Cached per process (and per master-key setting), but only
    while its file exists: a key destroyed by the worker stops opening anything in every
    process at once."""
    cache_key = _cache_key(epoch_id)
    if not _key_path(epoch_id).exists():
        _epoch_keys.pop(cache_key, None)
        raise crypto.DecryptionError(f"epoch {epoch_id} no longer exists")
    if cache_key not in _epoch_keys:
        record = _load(epoch_id)
        _epoch_keys[cache_key] = crypto.unwrap_key(
            base64.b64decode(record["wrapped"]), record["master_kid"], master_keys(),
            f"epoch:{epoch_id}",
        )
    return _epoch_keys[cache_key]


def _new_epoch_locked(now: datetime) -> Epoch:
    epoch_id = f"e{now.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(3)}"
    master = current_master()
    wrapped = crypto.wrap_key(crypto.new_data_key(), master, f"epoch:{epoch_id}")
    record = {
        "id": epoch_id,
        "created_at": now.isoformat(),
        "master_kid": master.kid,
        "wrapped": base64.b64encode(wrapped).decode("ascii"),
    }
    _write_new_file(_key_path(epoch_id), json.dumps(record).encode("ascii"))
    return Epoch(id=epoch_id, created_at=now, master_kid=master.kid)


def current_epoch() -> Epoch:
    """The newest epoch; the first one is made on first use."""
    epochs = living_epochs()
    if epochs:
        return epochs[-1]
    with _dir_lock():
        epochs = living_epochs()
        return epochs[-1] if epochs else _new_epoch_locked(timezone.now())


def epoch_start_if_due(now: datetime | None = None) -> Epoch | None:
    """Start a new epoch when the current one is older than the interval (the worker)."""
    now = now or timezone.now()
    with _dir_lock():
        epochs = living_epochs()
        if epochs and now - epochs[-1].created_at < timedelta(days=epoch_days()):
            return None
        return _new_epoch_locked(now)


def epochs_retire(in_use: set[str], now: datetime | None = None) -> list[str]:
    """Mark superseded epochs that no row uses any more as vacated, and destroy those vacated
    for longer than the backup age (a kept backup may still need them until then).
    `in_use` are the epoch ids that rows of the register still refer to. Returns the ids of
    the destroyed epochs."""
    now = now or timezone.now()
    destroyed = []
    with _dir_lock():
        epochs = living_epochs()
        for epoch in epochs[:-1]:  # never the current one
            if epoch.id in in_use:
                with contextlib.suppress(FileNotFoundError):
                    _vacated_path(epoch.id).unlink()  # a row came back (a restore)
                continue
            if epoch.vacated_at is None:
                _write_new_file(_vacated_path(epoch.id), now.isoformat().encode("ascii"))
                continue
            if now - epoch.vacated_at >= timedelta(days=backup_age_days()):
                # Remembered (no key material), so a restore never brings it back.
                _write_new_file(_destroyed_path(epoch.id), now.isoformat().encode("ascii"))
                _shred_file(_key_path(epoch.id))
                _vacated_path(epoch.id).unlink(missing_ok=True)
                _epoch_keys.pop(_cache_key(epoch.id), None)
                destroyed.append(epoch.id)
    return destroyed


def wrap(data_key: bytes, purpose: str) -> tuple[bytes, str]:
    """Wrap a data key under the current epoch; returns the wrapped bytes and the epoch id to
    store beside them."""
    epoch = current_epoch()
    return _wrap_under(data_key, epoch.id, purpose), epoch.id


def _wrap_under(data_key: bytes, epoch_id: str, purpose: str) -> bytes:
    return crypto.wrap_key(data_key, crypto.MasterKey(epoch_id, _epoch_key(epoch_id)), purpose)


def unwrap(wrapped: bytes, epoch_id: str, purpose: str) -> bytes:
    """Raises `crypto.DecryptionError` when the epoch is destroyed or the bytes are wrong."""
    key = crypto.MasterKey(epoch_id, _epoch_key(epoch_id))
    return crypto.unwrap_key(bytes(wrapped), epoch_id, [key], purpose)


def rewrap(wrapped: bytes, epoch_id: str, purpose: str) -> tuple[bytes, str]:
    """Move one wrapped data key to the current epoch (the data itself is not touched)."""
    current = current_epoch().id
    if epoch_id == current:
        return bytes(wrapped), epoch_id
    return _wrap_under(unwrap(wrapped, epoch_id, purpose), current, purpose), current


def rekey_rows(
    queryset: QuerySet,  # type: ignore[type-arg]
    purpose_of: Callable[[Any], str],
    *,
    key_field: str = "wrapped_key",
    id_field: str = "key_id",
    batch_size: int = 200,
) -> int:
    """Move the wrapped keys of the rows in `queryset` (those that have one) to the current
    epoch, in small locked batches so the register stays in use (the worker, art. 6). The
    data under the keys is not touched. Returns how many rows moved."""
    current = current_epoch().id
    waiting = queryset.filter(**{f"{key_field}__isnull": False}).exclude(**{id_field: current})
    moved = 0
    while True:
        with transaction.atomic():
            rows = list(waiting.select_for_update()[:batch_size])
            for row in rows:
                wrapped, epoch_id = rewrap(
                    bytes(getattr(row, key_field)), getattr(row, id_field), purpose_of(row)
                )
                setattr(row, key_field, wrapped)
                setattr(row, id_field, epoch_id)
            queryset.model.objects.bulk_update(rows, [key_field, id_field])
        moved += len(rows)
        if len(rows) < batch_size:
            return moved


def epochs_of(
    queryset: QuerySet,  # type: ignore[type-arg]
    *,
    key_field: str = "wrapped_key",
    id_field: str = "key_id",
) -> set[str]:
    """The epochs whose keys still wrap a key in `queryset` (not to be destroyed yet)."""
    return set(
        queryset.filter(**{f"{key_field}__isnull": False})
        .values_list(id_field, flat=True)
        .distinct()
    )


_index_keys: dict[tuple[str, str, str], bytes] = {}


def _index_key(epoch_id: str) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    epoch_key = _epoch_key(epoch_id)  # raises once the epoch is destroyed
    cache_key = _cache_key(epoch_id)
    if cache_key not in _index_keys:
        _index_keys[cache_key] = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=EMAIL_INDEX_INFO
        ).derive(epoch_key)
    return _index_keys[cache_key]


def blind_index(normalised: str, epoch_id: str | None = None) -> str:
    """The keyed index of a normalised value under one epoch (the current by default)."""
    return crypto.blind_index(_index_key(epoch_id or current_epoch().id), normalised)


def blind_indexes(normalised: str) -> list[str]:
    """The value's index under every living epoch: a look-up finds rows not yet re-keyed."""
    return [crypto.blind_index(_index_key(epoch.id), normalised) for epoch in living_epochs()]


# --- register keys ---------------------------------------------------------------------------

_register_keys: dict[tuple[str, str], bytes] = {}


def _register_purpose(purpose: str, key_id: str) -> str:
    return f"register:{purpose}:{key_id}"


def register_key(purpose: str) -> tuple[str, bytes]:
    """The register key for `purpose` (made on first use): its id and its bytes."""
    from coachregister.keys.models import RegisterKey

    row = RegisterKey.objects.filter(purpose=purpose).first()
    if row is None:
        # Made at migrate for the keys that sign evidence (keys/apps.py); lazily otherwise.
        master = current_master()
        key_id = f"{purpose[:12]}-{secrets.token_hex(4)}"
        try:
            with transaction.atomic():
                row = RegisterKey.objects.create(
                    purpose=purpose,
                    key_id=key_id,
                    master_kid=master.kid,
                    wrapped_key=crypto.wrap_key(
                        crypto.new_data_key(), master, _register_purpose(purpose, key_id)
                    ),
                )
        except IntegrityError:  # another process made it first
            row = RegisterKey.objects.get(purpose=purpose)
    return row.key_id, register_key_by_id(row.key_id, row)


def register_key_by_id(key_id: str, row: object | None = None) -> bytes:
    """The bytes of a register key by its id, for checking what it signed."""
    from coachregister.keys.models import RegisterKey

    cache_key = (key_id, settings.COACHREGISTER_MASTER_KEY)
    if cache_key not in _register_keys:
        if row is None:
            row = RegisterKey.objects.filter(key_id=key_id).first()
            if row is None:
                raise crypto.DecryptionError(f"register key {key_id} does not exist")
        _register_keys[cache_key] = crypto.unwrap_key(
            bytes(row.wrapped_key),  # type: ignore[attr-defined]
            row.master_kid,  # type: ignore[attr-defined]
            master_keys(),
            _register_purpose(row.purpose, key_id),  # type: ignore[attr-defined]
        )
    return _register_keys[cache_key]


# --- master-key rotation ---------------------------------------------------------------------


def rotate_master() -> int:
    """Re-wrap the epoch keys and the register keys under the first master key. The data keys
    are wrapped by epochs, so they are not touched: rotation takes milliseconds."""
    from coachregister.keys.models import RegisterKey

    master = current_master()
    done = 0
    with _dir_lock():
        for epoch in living_epochs():
            if epoch.master_kid == master.kid:
                continue
            record = _load(epoch.id)
            plain = crypto.unwrap_key(
                base64.b64decode(record["wrapped"]), record["master_kid"], master_keys(),
                f"epoch:{epoch.id}",
            )
            record["master_kid"] = master.kid
            record["wrapped"] = base64.b64encode(
                crypto.wrap_key(plain, master, f"epoch:{epoch.id}")
            ).decode("ascii")
            _write_new_file(_key_path(epoch.id), json.dumps(record).encode("ascii"))
            done += 1
    for row in RegisterKey.objects.exclude(master_kid=master.kid):
        purpose = _register_purpose(row.purpose, row.key_id)
        plain = crypto.unwrap_key(bytes(row.wrapped_key), row.master_kid, master_keys(), purpose)
        row.wrapped_key = crypto.wrap_key(plain, master, purpose)
        row.master_kid = master.kid
        row.save(update_fields=["wrapped_key", "master_kid"])
        done += 1
    for cache in (_epoch_keys, _index_keys, _register_keys):
        cache.clear()  # unwrap afresh: under the new master key only from now on
    return done


# --- backups (issue 10) ----------------------------------------------------------------------

BACKUP_INFO = b"coachregister backup v1"


def backup_key(kid: str | None = None) -> tuple[str, bytes]:
    """The key that encrypts and authenticates backups: derived from the master key `kid`
    (the current one by default), so a backup opens with the master key alone, when the
    database, its register keys and the key directory are lost with the host. Returns the
    master key id (written into the backup's manifest) and the key."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    master = current_master() if kid is None else next(
        (key for key in master_keys() if key.kid == kid), None
    )
    if master is None:
        raise crypto.DecryptionError(f"master key {kid} is not configured")
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=BACKUP_INFO).derive(
        master.key
    )
    return master.kid, derived


def epoch_files() -> list[tuple[str, bytes]]:
    """Every epoch file as it is (wrapped by the master key), for a backup to carry: the key
    directory itself is never backed up (see the module docstring)."""
    with _dir_lock():
        return [
            (path.stem, path.read_bytes()) for path in sorted(key_dir().glob("*.epoch"))
        ]


def epoch_file_restore(epoch_id: str, data: bytes) -> bool:
    """Put an epoch file from a backup back when the key directory lacks it; a file that is
    there stays as it is. Returns whether it was written."""
    record = json.loads(data.decode("ascii"))
    if record.get("id") != epoch_id or "/" in epoch_id or epoch_id.startswith("."):
        raise crypto.DecryptionError("the backup's epoch file does not match its name")
    with _dir_lock():
        if _key_path(epoch_id).exists() or _destroyed_path(epoch_id).exists():
            return False  # a destroyed epoch stays destroyed: that is the erasure bound
        _write_new_file(_key_path(epoch_id), data)
        return True
