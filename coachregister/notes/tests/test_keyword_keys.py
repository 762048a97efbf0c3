"""Each keyword version under its own key (art. 3.1, 6.1): a deleted version opens from no copy
once its epoch is destroyed, although the coachee's own data key lives on, and it leaves the
SQLite files at once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.utils import timezone

from coachregister.accounts.models import User
from coachregister.coachees import vault
from coachregister.keys import keyring
from coachregister.lib import crypto
from coachregister.notes import services
from coachregister.notes.models import CoachingSession, KeywordVersion
from coachregister.retention.services import epochs_maintain
from coachregister.testing import factories
from coachregister.trajectories.models import Trajectory

pytestmark = pytest.mark.django_db


@pytest.fixture
def trajectory(owner: User, coach: User) -> Trajectory:
    return factories.trajectory(owner, coach)


def record(coach: User, trajectory: Trajectory, keywords: str = "werkdruk") -> CoachingSession:
    return services.session_record(
        actor=coach, request=None, trajectory=trajectory, held_on=timezone.localdate(),
        kind="video", duration_minutes=45, keywords=keywords,
    )


@pytest.mark.article("3.1")
def test_a_new_version_has_its_own_key_and_old_versions_still_open(
    coach: User, trajectory: Trajectory
) -> None:
    session = record(coach, trajectory)
    version = session.versions.get()
    coachee = trajectory.coachee
    assert version.wrapped_key and version.key_id == keyring.current_epoch().id
    assert services.read_version(coachee, version) == ("werkdruk", "")
    with pytest.raises(crypto.DecryptionError):  # not under the coachee's data key
        vault.decrypt_for(coachee, f"session:{session.pk}:v1:keywords", version.keywords_enc)
    # A version written before per-version keys: under the coachee's key, still readable.
    old = KeywordVersion.objects.create(
        session=session, number=2, written_by=coach,
        keywords_enc=vault.encrypt_for(coachee, f"session:{session.pk}:v2:keywords", "oud"),
        reason_enc=vault.encrypt_for(coachee, f"session:{session.pk}:v2:reason", "reden"),
    )
    assert old.wrapped_key is None
    assert services.read_version(coachee, old) == ("oud", "reden")
    # The key opens its own version only: another version's purpose does not unwrap it.
    with pytest.raises(crypto.DecryptionError):
        keyring.unwrap(version.wrapped_key, version.key_id, f"keywords:session:{session.pk}:v2")


@pytest.mark.article("3.1")
def test_an_edit_before_the_lock_takes_a_fresh_key(coach: User, trajectory: Trajectory) -> None:
    session = record(coach, trajectory)
    before = bytes(session.versions.get().wrapped_key)
    services.keywords_edit(actor=coach, request=None, session=session, keywords="grenzen")
    version = session.versions.get()
    assert bytes(version.wrapped_key) != before
    assert services.read_version(trajectory.coachee, version)[0] == "grenzen"


@pytest.mark.article("6")
def test_a_deleted_version_opens_nothing_once_its_epoch_is_destroyed(
    owner: User, coach: User, own_keys: Path
) -> None:
    """Captured before a granted deletion (as a dead tuple, the WAL or a backup would hold
    it), the version's wrapped key and ciphertext open nothing after the worker has rotated
    and destroyed its epoch, while the coachee's data key and the version that stays are
    re-wrapped by the worker and still open."""
    from coachregister.rights import services as rights

    trajectory = factories.trajectory(owner, coach)
    coachee = trajectory.coachee
    session = record(coach, trajectory, "loopbaanvragen")
    old = session.versions.get()
    wrapped, epoch_id, blob = bytes(old.wrapped_key), old.key_id, bytes(old.keywords_enc)
    purpose = f"keywords:session:{session.pk}:v1"
    assert crypto.decrypt_text(keyring.unwrap(wrapped, epoch_id, purpose), blob,
                               f"{purpose}:keywords") == "loopbaanvragen"
    data_request = rights.request_register(
        actor=owner, request=None, coachee=coachee, kind="rectification", channel="email",
        verification="antwoord vanaf het bekende adres", session=session,
        keyword_action="delete",
    )
    rights.request_decide(actor=owner, request=None, data_request=data_request,
                          decision="granted")
    assert not KeywordVersion.objects.filter(pk=old.pk).exists()

    start = timezone.now()
    with time_machine.travel(start + timedelta(days=keyring.epoch_days()), tick=False):
        result = epochs_maintain()
        assert result["started"] == 1 and result["moved"] >= 2  # the coachee and the version
    # While a version still used the old epoch it would be in use; now nothing does.
    assert epoch_id not in services.epochs_in_use()
    with time_machine.travel(start + timedelta(days=keyring.erasure_bound_days()), tick=False):
        assert epochs_maintain()["destroyed"] == 1

    with pytest.raises(crypto.DecryptionError):
        keyring.unwrap(wrapped, epoch_id, purpose)
    for master in keyring.master_keys():  # nor straight under a master key
        with pytest.raises(crypto.DecryptionError):
            crypto.unwrap_key(wrapped, master.kid, [master], purpose)
    coachee.refresh_from_db()
    for key in (vault.data_key(coachee),):  # the coachee's own key lives on, opens nothing
        with pytest.raises(crypto.DecryptionError):
            crypto.decrypt_text(key, blob, f"{purpose}:keywords")
    kept = session.versions.get()
    assert kept.key_id == keyring.current_epoch().id
    assert services.read_version(coachee, kept)[0] == ""
    assert "op verzoek van de coachee" in services.read_version(coachee, kept)[1]


@pytest.mark.article("6")
def test_an_epoch_in_use_by_a_version_is_not_destroyed(
    own_keys: Path, coach: User, trajectory: Trajectory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the re-wrap of keyword versions their epoch would be destroyed under them."""
    session = record(coach, trajectory)
    epoch_id = session.versions.get().key_id
    assert services.epochs_in_use() == {epoch_id}
    monkeypatch.setattr(services, "rekey", lambda: 0)  # the worker does not move them
    start = timezone.now()
    with time_machine.travel(start + timedelta(days=keyring.epoch_days()), tick=False):
        epochs_maintain()
    with time_machine.travel(start + timedelta(days=keyring.erasure_bound_days()), tick=False):
        assert epochs_maintain()["destroyed"] == 0
    assert epoch_id in {epoch.id for epoch in keyring.living_epochs()}
    assert services.read_version(trajectory.coachee, session.versions.get())[0] == "werkdruk"


@pytest.mark.article("6")
def test_the_sqlite_files_hold_no_byte_of_a_deleted_version(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(COACHREGISTER_ENV="test", COACHREGISTER_VAR_DIR=str(tmp_path),
               COACHREGISTER_KEY_DIR=str(tmp_path / "keys"),
               COACHREGISTER_EVIDENCE_DIR=str(tmp_path / "evidence"))
    script = Path(__file__).with_name("keywords_in_a_file_database.py")
    result = subprocess.run([sys.executable, str(script)], env=env, capture_output=True,
                            text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    found = json.loads(result.stdout.strip().splitlines()[-1])
    raw = b"".join(
        path.read_bytes()
        for path in (tmp_path / "copied" / "coachregister.sqlite3",
                     tmp_path / "copied" / "coachregister.sqlite3-wal")
        if path.exists()
    )
    assert found["versions"] == 1
    assert bytes.fromhex(found["control"]) in raw  # the search finds what is there
    for value in found["captured"]:
        assert bytes.fromhex(value) not in raw


@pytest.mark.article("6")
def test_the_worker_seals_older_versions_under_keys_of_their_own(
    coach: User, trajectory: Trajectory
) -> None:
    session = record(coach, trajectory)
    coachee = trajectory.coachee
    old = KeywordVersion.objects.create(
        session=session, number=2, written_by=coach,
        keywords_enc=vault.encrypt_for(coachee, f"session:{session.pk}:v2:keywords", "oud"),
        reason_enc=vault.encrypt_for(coachee, f"session:{session.pk}:v2:reason", "reden"),
    )
    assert services.rekey() >= 1
    old.refresh_from_db()
    assert old.wrapped_key is not None and old.key_id == keyring.current_epoch().id
    assert services.read_version(coachee, old) == ("oud", "reden")
    with pytest.raises(crypto.DecryptionError):  # no longer under the coachee's key
        vault.decrypt_for(coachee, f"session:{session.pk}:v2:keywords", old.keywords_enc)
