"""The intake (Werkwijze, art. 3.1): the coachee gives their own details, once per invitation.

One transaction: the invitation is claimed (a conditional UPDATE, so of two simultaneous
submissions exactly one wins), the coachee is found by blind index or created in the vault,
the trajectory becomes active, the consents are recorded as proof, the coach's mail goes into
the outbox, and the audit events are written. Any failure undoes all of it.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, override

from coachregister.audit.services import event_record
from coachregister.coachees import validation, vault
from coachregister.coachees.models import Coachee, ContactKind, ContactMoment
from coachregister.disclosures.models import Consent, Method, Purpose
from coachregister.outbox.services import message_enqueue
from coachregister.practice.models import PracticeSettings, RegulationVersion
from coachregister.trajectories.models import Invitation, Status, Trajectory


class InvitationUnusable(Exception):
    """Used, revoked or expired between showing the form and submitting it."""


def consent_texts() -> dict[str, str]:
    """The exact sentences the intake shows, in Dutch (stored with each consent as proof).
    The purpose named is the built-in purpose's own label (art. 2.1), not a copy of it."""
    from coachregister.practice.models import ProcessingPurpose

    context = {"purpose": ProcessingPurpose.coaching()}
    with override("nl"):
        return {
            Purpose.REGULATION: render_to_string(
                "coachees/consent_regulation.txt", context
            ).strip(),
            Purpose.SESSION_KEYWORDS: render_to_string("coachees/consent_keywords.txt").strip(),
        }


def intake_complete(
    *,
    request: HttpRequest | None,
    invitation: Invitation,
    contact: vault.Contact,
    regulation: RegulationVersion,
    keyword_consent: bool,
) -> Trajectory:
    contact = vault.Contact(**{
        field: validation.CLEANERS[field](getattr(contact, field)) for field in vault.FIELDS
    })
    now = timezone.now()
    with transaction.atomic():
        claimed = Invitation.objects.filter(
            pk=invitation.pk, used_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now
        ).update(used_at=now)
        if claimed != 1:
            raise InvitationUnusable
        trajectory = Trajectory.objects.select_for_update().get(pk=invitation.trajectory_id)
        coachee, existing = _find_or_create(contact)
        trajectory.coachee = coachee
        trajectory.coachee_pseudonym = coachee.pseudonym
        trajectory.status = Status.ACTIVE
        trajectory.started_on = timezone.localdate()
        trajectory.save(update_fields=["coachee", "coachee_pseudonym", "status", "started_on"])
        # Art. 8.1, GDPR art. 18: a restricted coachee's data is only stored. Their intake
        # joins the trajectory, but records no contact moment and mails no coach.
        restricted = coachee.restricted
        if not restricted:
            ContactMoment.objects.create(
                trajectory=trajectory, kind=ContactKind.INTAKE, occurred_on=timezone.localdate()
            )
        texts = consent_texts()
        for purpose, given in (
            (Purpose.REGULATION, True),
            (Purpose.SESSION_KEYWORDS, keyword_consent),
        ):
            Consent.objects.create(
                coachee=coachee,
                trajectory=trajectory,
                purpose=purpose,
                given=given,
                text_version=regulation.version,
                text=texts[purpose],
                method=Method.INTAKE_FORM,
                recorded_at=now,
            )
        event_record(
            action="coachees.intake.completed",
            request=request,
            object_type="coachee",
            object_id=coachee.pseudonym,
            detail={
                "trajectory": trajectory.pseudonym,
                "existing": existing,
                "keyword_consent": keyword_consent,
                "regulation": regulation.version,
                **({"restricted": True} if restricted else {}),
            },
        )
        if not restricted:
            _tell_coach(trajectory, contact)
    return trajectory


def _find_or_create(contact: vault.Contact) -> tuple[Coachee, bool]:
    """The same email means the same person: they join the new trajectory, not a duplicate.
    Their stored details are not overwritten by what an invitation holder typed; the coach
    checks them at the first meeting and staff correct them if needed."""
    found = vault.with_email(contact.email).first()
    if found is not None:
        return found, True
    for _attempt in range(5):
        coachee = vault.new_coachee(contact)
        coachee.language = get_language() or "nl"
        try:
            with transaction.atomic():
                coachee.save()
            return coachee, False
        except IntegrityError:
            found = vault.with_email(contact.email).first()
            if found is not None:  # registered at the same moment through another invitation
                return found, True
    raise RuntimeError("could not draw a unique pseudonym")


def _tell_coach(trajectory: Trajectory, contact: vault.Contact) -> None:
    practice = PracticeSettings.load()
    link = settings.COACHREGISTER_BASE_URL.rstrip("/") + reverse(
        "trajectories:detail", args=[trajectory.pseudonym]
    )
    with override("nl"):
        body = render_to_string(
            "mail/coach_new_coachee.txt",
            {
                "practice": practice,
                "coach": trajectory.coach,
                "trajectory": trajectory,
                "link": link,
                "contact": contact if practice.coach_mail_includes_contact_details else None,
            },
        )
        subject = render_to_string("mail/coach_new_coachee_subject.txt").strip()
    # Linked to the coachee: the body may carry their details (a practice setting), so an
    # erasure destroys it if it is still unsent.
    message_enqueue(
        kind="coach_new_coachee", to=trajectory.coach.email, subject=subject, body=body,
        coachee_pseudonym=trajectory.coachee.pseudonym if trajectory.coachee else "",
    )


def last_contact(coachee: Coachee) -> date | None:
    """The date of the last contact with the coachee, over all their trajectories; the
    retention period of art. 10.1 runs from it."""
    return ContactMoment.objects.filter(trajectory__coachee=coachee).aggregate(
        last=Max("occurred_on")
    )["last"]
