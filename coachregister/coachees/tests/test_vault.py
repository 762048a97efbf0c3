"""The identity vault (art. 6, 12.1): no plaintext contact data at rest, keys that rotate."""

from __future__ import annotations

import io
import shutil
import sqlite3
import subprocess
from glob import glob
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from coachregister.accounts.models import User
from coachregister.coachees import vault
from coachregister.coachees.models import Coachee
from coachregister.keys import keyring
from coachregister.lib.crypto import DecryptionError, new_master_key, parse_master_keys
from coachregister.testing import factories

pytestmark = pytest.mark.article("6")

PEOPLE = [
    vault.Contact("Zoë", "Ødegård-Nguyễn", "zoe.odegard@voorbeeld.example", "+31687654321"),
    vault.Contact("Bartholomeus", "Vandenbroucke", "b.vandenbroucke@voorbeeld.example",
                  "+31611223344"),
]


def secrets_of(person: vault.Contact) -> list[bytes]:
    national = "0" + person.phone.removeprefix("+31")
    values = [person.first_name, person.last_name, person.email, person.email.split("@")[0],
              person.phone, national, person.phone.removeprefix("+")]
    return [v.encode("utf-8") for v in values]


def dump_database(tmp_path: Path) -> bytes:
    """The raw bytes an attacker with the database file or a dump would have."""
    if connection.vendor == "sqlite":
        target = sqlite3.connect(tmp_path / "copy.sqlite3")
        connection.ensure_connection()
        connection.connection.backup(target)
        target.close()
        return (tmp_path / "copy.sqlite3").read_bytes()
    pg_dump = shutil.which("pg_dump") or sorted(glob("/usr/lib/postgresql/*/bin/pg_dump"))[-1]
    result = subprocess.run(
        [pg_dump, "-h", "127.0.0.1", "-U", "postgres", "--data-only",
         connection.settings_dict["NAME"]], capture_output=True, check=True, timeout=120)
    return result.stdout


@pytest.mark.django_db(transaction=True)
def test_no_plaintext_contact_data_in_the_raw_database(
    tmp_path: Path, owner: User, coach: User
) -> None:
    for person in PEOPLE:
        factories.trajectory(owner, coach, contact=person)
    factories.client(owner, name="Controlewaarde Zorggroep")
    raw = dump_database(tmp_path)
    assert b"Controlewaarde Zorggroep" in raw  # the scan sees plaintext where it is
    for person in PEOPLE:
        for secret in secrets_of(person):
            assert secret not in raw, secret


@pytest.mark.django_db
def test_round_trip_and_ciphertext_bound_to_its_place(owner: User, coach: User) -> None:
    first = factories.trajectory(owner, coach, contact=PEOPLE[0]).coachee
    second = factories.trajectory(owner, coach, contact=PEOPLE[1]).coachee
    assert vault.open_contact(first) == PEOPLE[0]
    stolen = Coachee.objects.get(pk=second.pk)
    stolen.email_enc = first.email_enc  # copied to another coachee: does not open
    with pytest.raises(DecryptionError):
        vault.open_contact(stolen)
    moved = Coachee.objects.get(pk=first.pk)
    moved.phone_enc = first.email_enc  # moved to another field: does not open
    with pytest.raises(DecryptionError):
        vault.open_contact(moved)


@pytest.mark.django_db
def test_blind_index_finds_by_normalised_email(owner: User, coach: User) -> None:
    coachee = factories.trajectory(owner, coach, contact=PEOPLE[0]).coachee
    assert coachee.email_index == vault.email_index("  ZOE.Odegard@Voorbeeld.example ")
    assert coachee.email_index != vault.email_index("zoe.odegard@voorbeeld.example.nl")
    assert PEOPLE[0].email not in coachee.email_index


@pytest.mark.django_db
def test_key_rotation_keeps_everyone_readable(
    settings: object, owner: User, coach: User, own_keys: object
) -> None:
    for person in PEOPLE:
        factories.trajectory(owner, coach, contact=person)
    old = settings.COACHREGISTER_MASTER_KEY  # type: ignore[attr-defined]
    new = new_master_key("k2")
    settings.COACHREGISTER_MASTER_KEY = f"{new},{old}"  # type: ignore[attr-defined]
    before = {c.pk: bytes(c.email_enc) for c in Coachee.objects.all()}
    out = io.StringIO()
    call_command("keys", "rotate", stdout=out)
    assert "k2" in out.getvalue()
    # Only the epoch keys were re-wrapped: neither data keys nor contact data changed.
    assert {e.master_kid for e in keyring.living_epochs()} == {"k2"}
    assert {c.pk: bytes(c.email_enc) for c in Coachee.objects.all()} == before
    settings.COACHREGISTER_MASTER_KEY = new  # type: ignore[attr-defined]
    opened = sorted(vault.open_contact(c).email for c in Coachee.objects.all())
    assert opened == sorted(p.email for p in PEOPLE)
    assert vault.email_index(PEOPLE[0].email) == Coachee.objects.get(
        email_index=vault.email_index(PEOPLE[0].email)).email_index
    settings.COACHREGISTER_MASTER_KEY = old  # type: ignore[attr-defined]
    with pytest.raises(DecryptionError):
        vault.open_contact(Coachee.objects.first())


@pytest.mark.django_db
def test_keys_new_prints_a_usable_key() -> None:
    out = io.StringIO()
    call_command("keys", "new", "k9", stdout=out)
    assert parse_master_keys(out.getvalue().strip())[0].kid == "k9"
