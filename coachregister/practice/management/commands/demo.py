"""`coachregister demo`: a demo practice, created through the services. Safe to run twice."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from coachregister.accounts import services as accounts
from coachregister.accounts.models import ConfidentialityStatement, Role, User
from coachregister.practice import services as practice
from coachregister.practice.models import ProcessingPurpose

DEMO_PRACTICE = {
    "name": "Praktijk De Balans (demo)",
    "address": "Voorbeeldstraat 1\n1234 AB Voorbeeld",
    "email": "info@praktijk.example",
    "phone": "+31 20 000 0000",
    "website": "praktijk.example",
    "chamber_of_commerce": "00000000",
    # The demo server listens on this machine only: loopback counts as the office, so a
    # password suffices there (art. 12.2); from anywhere else the second step is required.
    "office_networks": "127.0.0.0/8\n::1/128",
}

DEMO_STAFF = [
    ("beheerder", "Bas Beheer", "beheerder@praktijk.example", Role.ADMINISTRATOR),
    ("coach.anna", "Anna Coach", "anna@praktijk.example", Role.COACH),
    ("coach.ben", "Ben Coach", "ben@praktijk.example", Role.COACH),
    ("auditor", "Olga Auditor", "audit@certificering.example", Role.AUDITOR),
    ("ict", "IT Support B.V.", "support@ict.example", Role.THIRD_PARTY),
]


class Command(BaseCommand):
    help = "Load a demo practice: owner, administrator, two coaches, an auditor, a third party."

    def handle(self, *args: Any, **options: Any) -> None:
        if User.objects.filter(role=Role.OWNER).exists():
            self.stdout.write(
                "Demo practice already present; its passwords were printed when "
                "it was created (delete var/ to start over)."
            )
            return
        with transaction.atomic():
            rows = self._create()
        self.stdout.write("Demo practice created. Passwords are shown only now:")
        for username, role, password in rows:
            self.stdout.write(f"  {username:<12} {role!s:<24} {password}")

    def _create(self) -> list[tuple[str, str, str]]:
        practice.practice_update(actor=None, request=None, **DEMO_PRACTICE)
        owner, owner_password = accounts.owner_bootstrap(
            username="eigenaar", full_name="Eva Eigenaar", email="eigenaar@praktijk.example"
        )
        if ConfidentialityStatement.current() is None:
            accounts.statement_publish(actor=owner, request=None)
        rows = [(owner.username, str(owner.get_role_display()), owner_password)]
        for username, full_name, email, role in DEMO_STAFF:
            extra: dict[str, Any] = {}
            if role == Role.THIRD_PARTY:
                extra = {
                    "contract_reference": "ICT-2026-01",
                    "contract_end": timezone.localdate() + timedelta(days=365),
                }
            user, password = accounts.user_create(
                actor=owner,
                request=None,
                username=username,
                full_name=full_name,
                email=email,
                role=role,
                **extra,
            )
            rows.append((user.username, str(user.get_role_display()), password))
        # A demo is tried role by role with the printed passwords: they need not be changed
        # first (a real account's password must, art. 12.2: accounts.middleware).
        User.objects.filter(username__in=[row[0] for row in rows]).update(
            must_change_password=False)
        _demo_register(owner)
        _demo_processors(owner)
        return rows


DEMO_COACHEES = [
    ("Sanne", "van der Berg", "sanne.vanderberg@voorbeeld.example", "0612345678"),
    ("Liam", "O'Neill", "liam.oneill@voorbeeld.example", "+31 6 23456789"),
    ("Ødegård", "Jensen", "o.jensen@voorbeeld.example", "06-34567890"),
    ("Nguyễn", "Thị Lan", "lan.nguyen@voorbeeld.example", "0031 6 45678901"),
]


def _demo_register(owner: User) -> None:
    """Clients, trajectories in every status and coachees, through the same services a
    practice uses (the intake as if the coachee filled it in)."""
    from coachregister.coachees.services import intake_complete
    from coachregister.coachees.vault import Contact
    from coachregister.notes.services import session_record
    from coachregister.retention.services import paper_task_confirm
    from coachregister.trajectories import services as trajectories
    from coachregister.trajectories.models import Invitation

    # Art. 2.2: the purposes are on the list before the regulation that states them.
    practice.purpose_add(
        actor=owner, request=None, name="Afstemming re-integratie", basis="consent"
    )
    regulation = practice.regulation_publish(actor=owner, request=None, version="2026.1")
    anna = User.objects.get(username="coach.anna")
    ben = User.objects.get(username="coach.ben")
    today = timezone.localdate()
    clients = [
        trajectories.client_save(
            actor=owner,
            request=None,
            client=None,
            name=name,
            contact_name=contact,
            contact_email=email,
            contact_phone="",
            quote_reference=ref,
            quote_date=today - timedelta(days=40),
            regulation_version=regulation,
        )
        for name, contact, email, ref in [
            ("Zorggroep Voorbeeld", "afdeling HR", "hr@zorggroep.example", "OFF-2026-014"),
            ("Gemeente Voorbeeldstad", "P&O-adviseur", "po@gemeente.example", "OFF-2026-019"),
        ]
    ]
    plan = [(clients[0], anna), (clients[0], ben), (clients[1], anna), (clients[1], ben)]
    opened = []
    for (client, coach), person in zip(plan, DEMO_COACHEES, strict=True):
        trajectory, _token, _code = trajectories.trajectory_open(
            actor=owner, request=None, client=client, coach=coach
        )
        invitation = Invitation.objects.get(trajectory=trajectory, used_at__isnull=True)
        intake_complete(
            request=None,
            invitation=invitation,
            contact=Contact(*person),
            regulation=regulation,
            keyword_consent=True,
        )
        trajectory.refresh_from_db()
        trajectories.contact_moment_record(
            actor=coach, request=None, trajectory=trajectory, kind="meeting", occurred_on=today
        )
        session_record(
            actor=coach,
            request=None,
            trajectory=trajectory,
            held_on=today,
            kind="in_person",
            duration_minutes=60,
            keywords="werkdruk, grenzen stellen, slaapritme; volgende keer: energiegevers",
        )
        opened.append(trajectory)
    # One still waiting for its intake, one completed (dossier destroyed), one broken off.
    trajectories.trajectory_open(actor=owner, request=None, client=clients[1], coach=anna)
    task = trajectories.trajectory_end(
        actor=owner, request=None, trajectory=opened[2], broken_off=False
    )
    paper_task_confirm(actor=owner, request=None, task=task, method="shredded")
    trajectories.trajectory_end(actor=owner, request=None, trajectory=opened[3], broken_off=True)
    _demo_disclosure_and_audit(owner, opened[0])


def _demo_disclosure_and_audit(owner: User, trajectory: object) -> None:
    """A consent-based disclosure in the register, and an open certification audit."""
    from coachregister.audit.engagements import engagement_open
    from coachregister.disclosures import services as disclosures

    doctor = disclosures.recipient_save(
        actor=owner, request=None, name="Bedrijfsarts Voorbeeld", kind="doctor"
    )
    coachee = trajectory.coachee  # type: ignore[attr-defined]
    purpose = ProcessingPurpose.objects.get(name="Afstemming re-integratie", active=True)
    # Art. 9.1, 9.2: prepared by staff, consented to by the coachee in the portal, then sent.
    proposal = disclosures.proposal_prepare(
        actor=owner,
        request=None,
        coachee=coachee,
        recipient=doctor,
        processing_purpose=purpose,
        categories=["contact", "trajectory"],
        basis="consent",
    )
    disclosures.proposal_answer(
        request=None,
        coachee=coachee,
        proposal=proposal,
        consent=True,
        digest=disclosures.content_digest(disclosures.proposal_content(proposal)),
    )
    disclosures.proposal_send(actor=owner, request=None, proposal=proposal)
    now = timezone.now()
    engagement_open(
        actor=owner,
        request=None,
        auditor=User.objects.get(username="auditor"),
        window_from=now,
        window_until=now + timedelta(days=30),
        sample_size=2,
    )


def _demo_processors(owner: User) -> None:
    """Art. 13: the practice's processors, through the processors register's services."""
    from coachregister.practice.processors import processor_add

    review = timezone.localdate() + timedelta(days=365)
    for values in (
        {"name": "Microsoft 365", "service": "mail_storage",
         "agreement_name": "Microsoft Products and Services Data Protection Addendum (DPA)",
         "storage_location": "EU Data Boundary (data centres in the EU)",
         "third_country": "Verenigde Staten", "transfer_basis": "dpf",
         "data_categories": "E-mail en bestanden van de praktijk, met contactgegevens",
         "breach_contact": "Microsoft 365-beheercentrum, berichtencentrum"},
        {"name": "Mailprovider Voorbeeld B.V.", "service": "smtp",
         "agreement_name": "Verwerkersovereenkomst SMTP-dienst",
         "storage_location": "Nederland", "data_categories": "E-mailadres en berichten",
         "breach_contact": "security@mailprovider.example"},
        {"name": "Hosting Voorbeeld B.V.", "service": "hosting",
         "agreement_name": "Verwerkersovereenkomst hosting",
         "storage_location": "Amsterdam, Nederland",
         "data_categories": "Het hele register (versleuteld)",
         "breach_contact": "security@hosting.example"},
        {"name": "Back-upopslag Voorbeeld B.V.", "service": "backup",
         "agreement_name": "Verwerkersovereenkomst back-upopslag",
         "storage_location": "Frankfurt, Duitsland",
         "data_categories": "Versleutelde back-ups van het register",
         "breach_contact": "security@backup.example"},
    ):
        processor_add(actor=owner, request=None, next_review=review, **values)
