"""Test data made through the real services, so tests exercise what the practice uses."""

from __future__ import annotations

from datetime import date

from coachregister.accounts.models import User
from coachregister.coachees.services import intake_complete
from coachregister.coachees.vault import Contact
from coachregister.practice import services as practice_services
from coachregister.practice.models import RegulationVersion
from coachregister.trajectories import services
from coachregister.trajectories.models import ClientOrganisation, Invitation, Trajectory

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
