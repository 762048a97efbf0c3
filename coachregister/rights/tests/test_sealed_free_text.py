"""Free text about a coachee is sealed under the coachee's key (art. 6): how identity was
checked, the extension reasons, the justification and the other form of a request, and the
purposes and legal grounds of disclosures and consents. Nothing of it is in the raw database;
each comes back on its page, in its mail and in its letter; after an erasure the pages show a
fixed "(erased)" text instead of failing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.translation import override

from coachregister.accounts.models import User
from coachregister.coachees.models import Coachee
from coachregister.coachees.tests.test_vault import dump_database
from coachregister.disclosures import sealed
from coachregister.disclosures import services as disclosures
from coachregister.disclosures.models import Consent, Disclosure
from coachregister.outbox.models import OutboxMessage
from coachregister.outbox.services import open_message
from coachregister.rights import services
from coachregister.rights.models import DataRequest
from coachregister.rights.tests.test_decisions import letter_text
from coachregister.testing import factories
from coachregister.trajectories.models import Trajectory

VERIFICATION = "Teruggebeld op VERIFICATIE0612"
REASONS = "Wachten op dossier UITSTELREDEN Noord"
JUSTIFICATION = "Bewaarplicht MOTIVERING Zeeland volgens de wet"
OTHER_FORM = "mondeling ANDEREVORM toelichting"
CONSENT_PURPOSE = "afstemming TOESTEMMINGSDOEL reintegratie"
PURPOSE = "verwijzing VERSTREKKINGSDOEL bedrijfsarts"
GROUND = "Vordering GRONDSLAG 126nd Sv"
SECRETS = [VERIFICATION, REASONS, JUSTIFICATION, OTHER_FORM, CONSENT_PURPOSE, PURPOSE, GROUND]


@pytest.fixture
def trajectory(owner: User, coach: User) -> Trajectory:
    return factories.trajectory(owner, coach)


def fill(owner: User, trajectory: Trajectory, kind: str = "erasure") -> DataRequest:
    """A request with every sealed text, and a consent and disclosure with theirs."""
    from coachregister.practice.models import PracticeSettings

    PracticeSettings.load()
    PracticeSettings.objects.update(extension_allowed=True)  # the regulation allows it
    coachee = trajectory.coachee
    data_request = services.request_register(
        actor=owner, request=None, coachee=coachee, kind=kind, channel="phone",
        verification=VERIFICATION,
    )
    services.request_extend(
        actor=owner, request=None, data_request=data_request, months=1, reasons=REASONS
    )
    doctor = disclosures.recipient_save(
        actor=owner, request=None, name="Arbodienst Controlewaarde", kind="doctor"
    )
    # Records from before the list of purposes (art. 2.1) keep their sealed free text.
    consent = factories.legacy_consent(coachee, doctor, CONSENT_PURPOSE)
    factories.legacy_disclosure(owner, coachee, doctor, categories="contact",
                                purpose_text=PURPOSE, basis="consent", consent=consent)
    factories.legacy_disclosure(owner, coachee, doctor, categories="trajectory",
                                purpose_text=PURPOSE, basis="legal_duty", legal_ground=GROUND)
    return data_request


@pytest.mark.article("6")
@pytest.mark.django_db(transaction=True)
def test_no_plaintext_free_text_in_the_raw_database(
    tmp_path: Path, owner: User, trajectory: Trajectory
) -> None:
    data_request = fill(owner, trajectory)
    services.request_decide(
        actor=owner, request=None, data_request=data_request, decision="refused",
        justification=JUSTIFICATION, other_form=OTHER_FORM,
    )
    raw = dump_database(tmp_path)
    assert b"Arbodienst Controlewaarde" in raw  # the scan sees plaintext where it is
    for secret in SECRETS:
        assert secret.encode() not in raw, secret
    stored = DataRequest.objects.get(pk=data_request.pk)
    assert (stored.verification, stored.justification) == (VERIFICATION, JUSTIFICATION)


@pytest.mark.article("8.2")
@pytest.mark.django_db
def test_each_request_text_comes_back_on_its_page_mail_and_letter(
    owner: User, trajectory: Trajectory, client_for: Callable[[User], Client], tmp_path: Path
) -> None:
    data_request = fill(owner, trajectory)
    mail = OutboxMessage.objects.get(kind="rights_extension")
    assert REASONS in open_message(mail)[1]
    services.request_decide(
        actor=owner, request=None, data_request=data_request, decision="refused",
        justification=JUSTIFICATION, other_form=OTHER_FORM,
    )
    page = client_for(owner).get(reverse("rights:detail", args=[data_request.pk]))
    html = page.content.decode()
    for text in (VERIFICATION, REASONS, JUSTIFICATION, OTHER_FORM):
        assert text in html, text
    letter = letter_text(data_request, tmp_path)
    assert JUSTIFICATION in letter and OTHER_FORM in letter


@pytest.mark.article("7.3")
@pytest.mark.django_db
def test_disclosure_texts_come_back_in_the_access_letter(
    owner: User, trajectory: Trajectory, tmp_path: Path
) -> None:
    fill(owner, trajectory)
    access = services.request_register(
        actor=owner, request=None, coachee=trajectory.coachee, kind="access", channel="email",
        verification=VERIFICATION,
    )
    services.request_decide(actor=owner, request=None, data_request=access, decision="granted")
    assert PURPOSE in letter_text(access, tmp_path)


@pytest.mark.article("8.3")
@pytest.mark.django_db
def test_after_an_erasure_the_texts_read_as_erased(
    owner: User, trajectory: Trajectory, client_for: Callable[[User], Client]
) -> None:
    fill(owner, trajectory)
    erasure = services.request_register(
        actor=owner, request=None, coachee=trajectory.coachee, kind="erasure", channel="email",
        verification=VERIFICATION,
    )
    services.request_decide(
        actor=owner, request=None, data_request=erasure, decision="granted",
        justification=JUSTIFICATION,
    )
    with override("en"):
        for data_request in DataRequest.objects.all():
            assert data_request.coachee is None
            assert data_request.verification == "(erased)"
            assert data_request.justification in ("", "(erased)")
        entry = Disclosure.objects.first()
        assert entry is not None and (entry.purpose, entry.legal_ground) in (
            ("(erased)", ""), ("(erased)", "(erased)"))
        assert Consent.objects.count() == 0  # consents go with the coachee
    page = client_for(owner).get(reverse("rights:detail", args=[erasure.pk]),
                                 HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    html = page.content.decode()
    assert "(erased)" in html or "(gewist)" in html
    assert VERIFICATION not in html and JUSTIFICATION not in html


@pytest.mark.article("8.3")
@pytest.mark.django_db
def test_a_destroyed_key_reads_as_erased_not_as_an_error(
    owner: User, trajectory: Trajectory
) -> None:
    coachee = trajectory.coachee
    blob = sealed.seal(coachee, "request_justification", JUSTIFICATION)
    assert sealed.unseal(coachee, "request_justification", blob) == JUSTIFICATION
    assert sealed.seal(coachee, "request_justification", "  ") is None  # nothing to seal
    assert sealed.unseal(coachee, "request_justification", None) == ""
    shredded = Coachee.objects.get(pk=coachee.pk)
    shredded.wrapped_key = b""  # what crypto-shredding leaves
    with override("en"):
        assert sealed.unseal(shredded, "request_justification", blob) == "(erased)"
        assert sealed.unseal(None, "request_justification", blob) == "(erased)"
        # A value copied to another field does not open either: it is not shown.
        assert sealed.unseal(coachee, "request_other_form", blob) == "(erased)"


@pytest.mark.article("6")
@pytest.mark.django_db(transaction=True)
def test_the_migration_seals_existing_rows_and_drops_the_plain_columns(
    owner: User, trajectory: Trajectory
) -> None:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before = [("rights", "0004_datarequest_reminded_overdue_at_and_more"),
              ("disclosures", "0004_alter_disclosure_consent")]
    after = [("rights", "0005_sealed_free_text"), ("disclosures", "0005_sealed_free_text")]
    doctor = disclosures.recipient_save(actor=owner, request=None, name="Arts", kind="doctor")
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    coachee = old.get_model("coachees", "Coachee").objects.get(pk=trajectory.coachee_id)
    old_request = old.get_model("rights", "DataRequest").objects.create(
        coachee=coachee, coachee_pseudonym=coachee.pseudonym, kind="objection",
        channel="phone", verification=VERIFICATION, received_at="2026-11-02T10:00Z",
        answer_due="2026-11-30", legal_due="2026-12-02", justification=JUSTIFICATION,
    )
    orphan = old.get_model("rights", "DataRequest").objects.create(
        coachee=None, coachee_pseudonym="C-GONE-00", kind="erasure", channel="phone",
        verification=VERIFICATION, received_at="2026-11-02T10:00Z", answer_due="2026-11-30",
        legal_due="2026-12-02",
    )
    old_entry = old.get_model("disclosures", "Disclosure").objects.create(
        coachee=coachee, coachee_pseudonym=coachee.pseudonym, recipient_id=doctor.pk,
        categories="contact", purpose=PURPOSE, basis="legal_duty", legal_ground=GROUND,
        disclosed_by_id=owner.pk,
    )
    executor = MigrationExecutor(connection)
    executor.migrate(after)
    executor = MigrationExecutor(connection)  # and on to today's schema, which the models use
    executor.migrate(executor.loader.graph.leaf_nodes())

    migrated = DataRequest.objects.get(pk=old_request.pk)
    assert (migrated.verification, migrated.justification, migrated.other_form) == (
        VERIFICATION, JUSTIFICATION, "")
    with override("en"):
        assert DataRequest.objects.get(pk=orphan.pk).verification == "(erased)"
    entry = Disclosure.objects.get(pk=old_entry.pk)
    assert (entry.purpose, entry.legal_ground) == (PURPOSE, GROUND)
    columns = {
        c.name for c in connection.introspection.get_table_description(
            connection.cursor(), DataRequest._meta.db_table)
    }
    assert "justification" not in columns and "justification_enc" in columns
