"""The identity vault (art. 6, 12.1): sealing and opening a coachee's contact details.

Only this module decrypts. Who may ask it to is decided in `coachees.access`, which also
writes the audit event; call that, not this, from views.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from coachregister.coachees.models import Coachee, CoacheeQuerySet
from coachregister.keys import keyring
from coachregister.lib import crypto, tokens

FIELDS = ("first_name", "last_name", "email", "phone")


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


def normalise_email(email: str) -> str:
    return email.strip().casefold()


def email_index(email: str) -> str:
    """The address's blind index under the current epoch (what a new or re-keyed row stores)."""
    return keyring.blind_index(normalise_email(email))


def with_email(email: str) -> CoacheeQuerySet:
    """The coachee with this address, whichever living epoch their index is still under."""
    return Coachee.objects.filter(email_index__in=keyring.blind_indexes(normalise_email(email)))


def _purpose(coachee: Coachee) -> str:
    return f"coachee:{coachee.pseudonym}"


def data_key(coachee: Coachee) -> bytes:
    """The coachee's data key, unwrapped by the epoch it is stored under (`key_id`)."""
    return keyring.unwrap(coachee.wrapped_key, coachee.key_id, _purpose(coachee))


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
    coachee = Coachee(pseudonym=tokens.new_pseudonym("C"))
    coachee.wrapped_key, coachee.key_id = keyring.wrap(crypto.new_data_key(), _purpose(coachee))
    seal(coachee, contact)
    return coachee


def encrypt_for(coachee: Coachee, field: str, plaintext: str) -> bytes:
    """Encrypt another of the coachee's values (session keywords…) under their data key."""
    return crypto.encrypt_text(data_key(coachee), plaintext, f"{_purpose(coachee)}:{field}")


def decrypt_for(coachee: Coachee, field: str, blob: bytes) -> str:
    return crypto.decrypt_text(data_key(coachee), blob, f"{_purpose(coachee)}:{field}")


def rekey(batch_size: int = 200) -> int:
    """Move coachees still under an older epoch to the current one (the worker, art. 6): the
    data key is re-wrapped and the email re-indexed; the contact details stay as they are.
    Returns how many were moved. Small transactions, so the register stays in use."""
    current = keyring.current_epoch().id
    moved = 0
    while True:
        with transaction.atomic():
            rows = list(Coachee.objects.select_for_update().exclude(key_id=current)[:batch_size])
            for coachee in rows:
                purpose = _purpose(coachee)
                email = open_contact(coachee).email
                coachee.wrapped_key, coachee.key_id = keyring.rewrap(
                    coachee.wrapped_key, coachee.key_id, purpose
                )
                coachee.email_index = keyring.blind_index(normalise_email(email), current)
            Coachee.objects.bulk_update(rows, ["wrapped_key", "key_id", "email_index"])
        moved += len(rows)
        if len(rows) < batch_size:
            return moved


def epochs_in_use() -> set[str]:
    return set(Coachee.objects.values_list("key_id", flat=True).distinct())
