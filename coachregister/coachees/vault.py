"""The identity vault (art. 6, 12.1): sealing and opening a coachee's contact details.

Only this module decrypts. Who may ask it to is decided in `coachees.access`, which also
writes the audit event; call that, not this, from views.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction

from coachregister.coachees.models import Coachee, VaultKey
from coachregister.lib import crypto, tokens

FIELDS = ("first_name", "last_name", "email", "phone")
INDEX_PURPOSE = "email_index"


@dataclass(frozen=True)
class Contact:
    first_name: str
    last_name: str
    email: str
    phone: str

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def __repr__(self) -> str:  # keep personal data out of tracebacks and logs
        return "Contact(…)"


@functools.cache
def _parsed(value: str) -> tuple[crypto.MasterKey, ...]:
    return tuple(crypto.parse_master_keys(value))


def master_keys() -> list[crypto.MasterKey]:
    return list(_parsed(settings.COACHREGISTER_MASTER_KEY))


def current_master() -> crypto.MasterKey:
    return master_keys()[0]


def _index_key() -> bytes:
    row = VaultKey.objects.filter(purpose=INDEX_PURPOSE).first()
    if row is None:
        master = current_master()
        try:
            with transaction.atomic():
                row = VaultKey.objects.create(
                    purpose=INDEX_PURPOSE,
                    wrapped_key=crypto.wrap_key(crypto.new_data_key(), master, INDEX_PURPOSE),
                    key_id=master.kid,
                )
        except IntegrityError:  # another process created it first
            row = VaultKey.objects.get(purpose=INDEX_PURPOSE)
    return crypto.unwrap_key(row.wrapped_key, row.key_id, master_keys(), INDEX_PURPOSE)


def normalise_email(email: str) -> str:
    return email.strip().casefold()


def email_index(email: str) -> str:
    return crypto.blind_index(_index_key(), normalise_email(email))


def _purpose(coachee: Coachee) -> str:
    return f"coachee:{coachee.pseudonym}"


def data_key(coachee: Coachee) -> bytes:
    return crypto.unwrap_key(coachee.wrapped_key, coachee.key_id, master_keys(), _purpose(coachee))


def seal(coachee: Coachee, contact: Contact) -> None:
    """Encrypt `contact` into the coachee's fields (the coachee must have its data key)."""
    key = data_key(coachee)
    for field in FIELDS:
        aad = f"{_purpose(coachee)}:{field}"
        setattr(coachee, f"{field}_enc", crypto.encrypt_text(key, getattr(contact, field), aad))
    coachee.email_index = email_index(contact.email)


def open_contact(coachee: Coachee) -> Contact:
    key = data_key(coachee)
    values = {
        field: crypto.decrypt_text(
            key, getattr(coachee, f"{field}_enc"), f"{_purpose(coachee)}:{field}"
        )
        for field in FIELDS
    }
    return Contact(**values)


def new_coachee(contact: Contact) -> Coachee:
    """An unsaved coachee with a fresh pseudonym and data key, its contact details sealed."""
    master = current_master()
    coachee = Coachee(pseudonym=tokens.new_pseudonym("C"), key_id=master.kid)
    coachee.wrapped_key = crypto.wrap_key(crypto.new_data_key(), master, _purpose(coachee))
    seal(coachee, contact)
    return coachee


def encrypt_for(coachee: Coachee, field: str, plaintext: str) -> bytes:
    """Encrypt another of the coachee's values (session keywords…) under their data key."""
    return crypto.encrypt_text(data_key(coachee), plaintext, f"{_purpose(coachee)}:{field}")


def decrypt_for(coachee: Coachee, field: str, blob: bytes) -> str:
    return crypto.decrypt_text(data_key(coachee), blob, f"{_purpose(coachee)}:{field}")


def rewrap(wrapped: bytes, kid: str, purpose: str) -> tuple[bytes, str]:
    """Re-wrap one data key under the current master key; the data itself is not touched."""
    master = current_master()
    if kid == master.kid:
        return bytes(wrapped), kid
    plain = crypto.unwrap_key(wrapped, kid, master_keys(), purpose)
    return crypto.wrap_key(plain, master, purpose), master.kid


def rotate(batch_size: int = 200) -> int:
    """Re-wrap every data key not yet under the current master key, in small transactions,
    so the register stays in use meanwhile (old keys stay configured until this finishes)."""
    current = current_master().kid
    done = 0
    for row in VaultKey.objects.exclude(key_id=current):
        row.wrapped_key, row.key_id = rewrap(row.wrapped_key, row.key_id, row.purpose)
        row.save(update_fields=["wrapped_key", "key_id"])
        done += 1
    while True:
        with transaction.atomic():
            rows = list(Coachee.objects.select_for_update().exclude(key_id=current)[:batch_size])
            for coachee in rows:
                coachee.wrapped_key, coachee.key_id = rewrap(
                    coachee.wrapped_key, coachee.key_id, _purpose(coachee)
                )
            Coachee.objects.bulk_update(rows, ["wrapped_key", "key_id"])
        done += len(rows)
        if len(rows) < batch_size:
            break
    from coachregister.outbox.services import rotate as rotate_outbox

    return done + rotate_outbox()
