"""Erased means unreadable, also for someone who later holds the database files, the WAL or a
backup *and* the master key (issue 9, finding 1 and 2; README, security section)."""

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
from coachregister.coachees.models import Coachee
from coachregister.keys import keyring
from coachregister.lib import crypto
from coachregister.outbox import services as outbox
from coachregister.outbox.models import MessageStatus, OutboxMessage
from coachregister.retention.services import epochs_maintain
from coachregister.rights import portal, services
from coachregister.testing import factories
from coachregister.trajectories.models import Trajectory

pytestmark = pytest.mark.django_db

OTHER = vault.Contact("Bartholomeus", "Oosterhuis", "bart.o@voorbeeld.example", "+31687654321")


def _erase(owner: User, coachee: Coachee) -> None:
    data_request = services.request_register(
        actor=owner, request=None, coachee=coachee, kind="erasure", channel="email",
        verification="antwoord vanaf het bekende adres",
    )
    services.request_decide(actor=owner, request=None, data_request=data_request,
                            decision="granted")


@pytest.mark.article("8.3")
def test_sqlite_file_and_wal_hold_no_byte_of_the_erased_coachee(tmp_path: Path) -> None:
    """A real file database in WAL mode, no VACUUM: after the erasure (and the confirmation
    sent) the captured wrapped key, ciphertexts, blind index and mail are in neither file,
    while a living coachee's ciphertext is found by the same search."""
    assert_no_captured_bytes_left(tmp_path, "erasure")


def assert_no_captured_bytes_left(tmp_path: Path, mode: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(COACHREGISTER_ENV="test", COACHREGISTER_VAR_DIR=str(tmp_path),
               COACHREGISTER_KEY_DIR=str(tmp_path / "keys"),
               COACHREGISTER_EVIDENCE_DIR=str(tmp_path / "evidence"))
    script = Path(__file__).with_name("erasure_in_a_file_database.py")
    result = subprocess.run([sys.executable, str(script), mode], env=env, capture_output=True,
                            text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    found = json.loads(result.stdout.strip().splitlines()[-1])
    files = [tmp_path / "copied" / "coachregister.sqlite3",
             tmp_path / "copied" / "coachregister.sqlite3-wal"]
    raw = b"".join(path.read_bytes() for path in files if path.exists())
    assert found["secure_delete"] == 1 and "secure_delete=ON" in found["init_command"]
    assert bytes.fromhex(found["control"]) in raw  # the search finds what is there
    for value in found["captured"]:
        assert bytes.fromhex(value) not in raw
    for text in found["plain"]:
        assert text.encode() not in raw


@pytest.mark.article("8.3")
def test_after_the_epoch_bound_captured_bytes_open_nothing(
    owner: User, coach: User, own_keys: Path
) -> None:
    """PostgreSQL keeps dead tuples, WAL and backups: what they hold of an erased coachee is
    wrapped under an epoch that the worker destroys within the stated bound. Captured before
    the erasure (as a copy of the database would hold them), the bytes open nothing after
    the rotation and destruction, even with the master key; a living coachee still opens."""
    erased = factories.trajectory(owner, coach)
    living = factories.trajectory(owner, coach, contact=OTHER)
    copy = {c.pk: (bytes(c.wrapped_key), c.key_id, c.email_index, bytes(c.email_enc))
            for c in Coachee.objects.all()}
    gone = Coachee.objects.get(pk=erased.coachee_id)
    pseudonym = gone.pseudonym
    _erase(owner, gone)

    start = timezone.now()
    with time_machine.travel(start + timedelta(days=keyring.epoch_days()), tick=False):
        assert epochs_maintain()["started"] == 1
        assert keyring.erasure_bound_days() > keyring.epoch_days()
    # Not yet: a backup of the last weeks may still need the old epoch.
    with time_machine.travel(start + timedelta(days=keyring.epoch_days() + 1), tick=False):
        assert epochs_maintain()["destroyed"] == 0
    assert len(keyring.living_epochs()) == 2
    bound = start + timedelta(days=keyring.erasure_bound_days())
    with time_machine.travel(bound, tick=False):
        assert epochs_maintain()["destroyed"] == 1

    wrapped, epoch_id, index, _email = copy[erased.coachee_id]
    with pytest.raises(crypto.DecryptionError):
        keyring.unwrap(wrapped, epoch_id, f"coachee:{pseudonym}")
    for master in keyring.master_keys():  # not even straight under a master key
        with pytest.raises(crypto.DecryptionError):
            crypto.unwrap_key(wrapped, master.kid, [master], f"coachee:{pseudonym}")
    assert index not in keyring.blind_indexes(vault.normalise_email(factories.ANNE.email))
    # The copy's living coachee is stale too; the register's own row opens under the new epoch.
    old_wrapped, old_epoch, _index, _ = copy[living.coachee_id]
    with pytest.raises(crypto.DecryptionError):
        keyring.unwrap(old_wrapped, old_epoch, f"coachee:{Coachee.objects.get().pseudonym}")
    assert vault.open_contact(Coachee.objects.get()).email == OTHER.email
    assert vault.with_email(OTHER.email).get().pk == living.coachee_id


@pytest.mark.article("8.3")
def test_nothing_in_the_outbox_opens_to_the_erased_address(
    owner: User, coach: User, trajectory_pair: tuple[Trajectory, Trajectory], settings: object
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"  # type: ignore[attr-defined]
    erased, _living = trajectory_pair
    coachee = Coachee.objects.get(pk=erased.coachee_id)
    pseudonym = coachee.pseudonym
    outbox.send_due()  # the coach's mails
    portal.link_request(request=None, email=factories.ANNE.email)  # an unsent portal link
    portal.lookups_process()  # the worker's look-up pass queues the link mail
    stuck = OutboxMessage.objects.get(kind="portal_link")
    outbox.message_enqueue(kind="old_notice", to=factories.ANNE.email, subject="s", body="b",
                           coachee_pseudonym=pseudonym)
    OutboxMessage.objects.filter(kind="old_notice").update(status=MessageStatus.FAILED)

    _erase(owner, coachee)

    assert not OutboxMessage.objects.filter(pk=stuck.pk).exists()
    assert not OutboxMessage.objects.filter(kind="old_notice").exists()
    confirmation = OutboxMessage.objects.get(kind="rights_erasure_done")
    assert confirmation.about_erased and confirmation.coachee_pseudonym == pseudonym
    assert outbox.send_due() == 1
    for message in OutboxMessage.objects.all():
        if message.wrapped_key is not None:
            assert outbox.open_message(message)[0] != factories.ANNE.email
    confirmation.refresh_from_db()
    assert confirmation.status == MessageStatus.SENT and confirmation.sent_at is not None
    assert (confirmation.recipient_enc, confirmation.body_enc, confirmation.wrapped_key) == (
        None, None, None)


@pytest.mark.article("8.3")
def test_an_undeliverable_erasure_confirmation_is_wiped_at_its_final_failure(
    owner: User, coach: User, trajectory_pair: tuple[Trajectory, Trajectory], settings: object
) -> None:
    """The rule of the outbox docstring: no waiting for the failure period."""
    _smtp_down(settings)
    erased, _living = trajectory_pair
    _erase(owner, Coachee.objects.get(pk=erased.coachee_id))
    confirmation = OutboxMessage.objects.get(kind="rights_erasure_done")
    OutboxMessage.objects.filter(pk=confirmation.pk).update(attempts=outbox.MAX_ATTEMPTS - 1)
    assert outbox.send_due() == 0
    confirmation.refresh_from_db()
    assert confirmation.status == MessageStatus.FAILED
    assert confirmation.wrapped_key is None and confirmation.recipient_enc is None
    assert OutboxMessage.objects.filter(status=MessageStatus.FAILED).count() == 1  # visible


@pytest.mark.article("6")
def test_failed_mail_is_wiped_after_its_period_and_stays_visible(settings: object) -> None:
    _smtp_down(settings)
    outbox.message_enqueue(kind="staff", to="coach@praktijk.example", subject="s", body="b")
    OutboxMessage.objects.update(attempts=outbox.MAX_ATTEMPTS - 1)
    outbox.send_due()
    assert outbox.failed_wipe() == 0  # within the period it can still be retried by hand
    later = timezone.now() + timedelta(days=settings.COACHREGISTER_OUTBOX_FAILED_DAYS + 1)  # type: ignore[attr-defined]
    with time_machine.travel(later, tick=False):
        assert outbox.failed_wipe() == 1
    message = OutboxMessage.objects.get()
    assert message.status == MessageStatus.FAILED and message.wiped_at is not None
    assert message.wrapped_key is None and message.body_enc is None


def _smtp_down(settings: object) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"  # type: ignore[attr-defined]
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9  # type: ignore[attr-defined]


@pytest.fixture
def trajectory_pair(owner: User, coach: User) -> tuple[Trajectory, Trajectory]:
    return factories.trajectory(owner, coach), factories.trajectory(owner, coach, contact=OTHER)


@pytest.mark.article("6")
def test_a_letter_has_its_own_key_under_an_epoch(owner: User, coach: User) -> None:
    """A letter copies the keywords: its own key, wrapped by the epoch, so deleting it (with
    the keywords, on the coachee's word) is bounded like the keywords themselves."""
    from coachregister.keys import keyring
    from coachregister.lib import crypto
    from coachregister.rights import services as rights
    from coachregister.rights.models import Letter
    from coachregister.testing import factories

    trajectory = factories.trajectory(owner, coach)
    data_request = rights.request_register(actor=owner, request=None,
                                           coachee=trajectory.coachee, kind="access",
                                           channel="letter", verification="brief")
    rights.request_decide(actor=owner, request=None, data_request=data_request,
                          decision="granted")
    letter = Letter.objects.get(request=data_request)
    assert letter.wrapped_key and letter.key_id == keyring.current_epoch().id
    assert rights.letter_pdf(letter).startswith(b"%PDF")
    with pytest.raises(crypto.DecryptionError):  # not under the coachee's data key
        from coachregister.coachees import vault

        vault.decrypt_for(trajectory.coachee, "letter", bytes(letter.pdf_enc))
    assert letter.key_id in rights.letters_epochs_in_use()
