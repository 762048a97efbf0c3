"""Test data made through the real services, so tests exercise what the practice uses."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from coachregister.accounts.models import User
from coachregister.coachees.services import intake_complete
from coachregister.coachees.vault import Contact
from coachregister.practice import services as practice_services
from coachregister.practice.models import RegulationVersion
from coachregister.trajectories import services
from coachregister.trajectories.models import ClientOrganisation, Invitation, Trajectory

if TYPE_CHECKING:
    from coachregister.coachees.models import Coachee
    from coachregister.disclosures.models import Consent, Disclosure, Recipient
    from coachregister.practice.models import ProcessingPurpose

ANNE = Contact("Anne", "de Vries", "anne.devries@voorbeeld.example", "+31612345678")


def regulation() -> RegulationVersion:
    return RegulationVersion.current() or practice_services.regulation_publish(
        actor=None, request=None, version="2026.1"
    )


def client(actor: User, name: str = "Zorggroep Test") -> ClientOrganisation:
    return services.client_save(
        actor=actor, request=None, client=None, name=name, contact_name="HR",
        contact_email="hr@client.example", contact_phone="", quote_reference="OFF-1",
        quote_date=date(2026, 1, 5), regulation_version=regulation(),
    )


def trajectory(actor: User, coach: User, *, contact: Contact | None = ANNE,
               keyword_consent: bool = True) -> Trajectory:
    """An opened trajectory; with `contact`, the intake completed as the coachee would."""
    opened, _token, _code = services.trajectory_open(
        actor=actor, request=None, client=client(actor), coach=coach
    )
    if contact is None:
        return opened
    invitation = Invitation.objects.get(trajectory=opened, used_at__isnull=True)
    intake_complete(request=None, invitation=invitation, contact=contact,
                    regulation=regulation(), keyword_consent=keyword_consent)
    opened.refresh_from_db()
    return opened


def letters(n: int) -> str:
    """A number written in letters (names take letters only): 0 -> a, 26 -> ba."""
    word = ""
    while True:
        n, rest = divmod(n, 26)
        word = "abcdefghijklmnopqrstuvwxyz"[rest] + word
        if n == 0:
            return word


def person(n: int) -> Contact:
    """A distinct, valid person per number."""
    return Contact(f"Voornaam{letters(n)}", f"Achternaam{letters(n)}",
                   f"persoon{n}@voorbeeld.example", f"+3161{n:07d}")


def purpose(actor: User, name: str = "Afstemming re-integratie") -> ProcessingPurpose:
    """A purpose on the practice's list (art. 2.1), added by the owner `actor` once. Once a
    regulation is published a new purpose waits for the next version (art. 2.2): then the
    factory publishes it, as the owner would."""
    from coachregister.practice.models import ProcessingPurpose

    found = ProcessingPurpose.objects.filter(name=name, active=True).first()
    if found is not None:
        return found
    added = practice_services.purpose_add(actor=actor, request=None, name=name, basis="consent")
    if not added.active:
        practice_services.regulation_publish(actor=None, request=None)
        added.refresh_from_db()
    return added


def disclosure_consent(coachee: Coachee, recipient: Recipient,
                       processing_purpose: ProcessingPurpose) -> Consent:
    """A consent to a disclosure as the coachee gives it in the portal (art. 9.2)."""
    from coachregister.disclosures.services import consent_record

    return consent_record(
        actor=None, request=None, coachee=coachee, recipient=recipient,
        processing_purpose=processing_purpose, text="Ik geef toestemming.",
        text_version="P0-test", method="portal",
    )


def legacy_consent(coachee: Coachee, recipient: Recipient, purpose_text: str) -> Consent:
    """A consent as recorded before the list of purposes: its purpose free text, sealed."""
    from coachregister.disclosures import sealed
    from coachregister.disclosures.models import SEALED_CONSENT_PURPOSE, Consent

    return Consent.objects.create(
        coachee=coachee, purpose="disclosure", recipient=recipient, given=True,
        disclosure_purpose_enc=sealed.seal(coachee, SEALED_CONSENT_PURPOSE, purpose_text),
        text="Ik geef toestemming.", text_version="1", method="paper",
    )


def legacy_disclosure(actor: User, coachee: Coachee, recipient: Recipient, *,
                      categories: str, purpose_text: str, basis: str, legal_ground: str = "",
                      consent: Consent | None = None) -> Disclosure:
    """A register entry as written before the list of purposes (purpose free text, sealed)."""
    from coachregister.disclosures import sealed
    from coachregister.disclosures.models import SEALED_DISCLOSURE, Disclosure

    return Disclosure.objects.create(
        coachee=coachee, coachee_pseudonym=coachee.pseudonym, recipient=recipient,
        categories=categories, basis=basis, consent=consent, disclosed_by=actor,
        purpose_enc=sealed.seal(coachee, SEALED_DISCLOSURE["purpose"], purpose_text),
        legal_ground_enc=sealed.seal(coachee, SEALED_DISCLOSURE["legal_ground"], legal_ground),
    )
