"""The coachee portal (art. 9.2): sign in by a link sent to the email on file.

Asking for a link looks the same for a known and an unknown address (no enumeration): the
same page, and the same work up to the point of queueing the mail.
"""

from __future__ import annotations

import json
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from coachregister.audit.models import Outcome
from coachregister.audit.services import event_record
from coachregister.coachees import vault
from coachregister.coachees.models import Coachee
from coachregister.lib import tokens
from coachregister.outbox.services import message_enqueue
from coachregister.rights.models import PortalLink

LINK_VALID = timedelta(minutes=30)
SESSION_COACHEE = "coachregister_portal_coachee"


def link_request(*, request: HttpRequest, email: str) -> None:
    coachee = vault.with_email(email).first()
    token = tokens.new_token()
    if coachee is None:
        event_record(action="rights.portal.link_unknown", request=request, outcome=Outcome.DENIED)
        return
    with transaction.atomic():
        PortalLink.objects.create(
            coachee=coachee,
            token_hash=tokens.token_hash(token),
            expires_at=timezone.now() + LINK_VALID,
        )
        contact = vault.open_contact(coachee)
        link = settings.COACHREGISTER_BASE_URL.rstrip("/") + reverse(
            "rights:portal_enter", args=[token]
        )
        with override("nl"):
            body = render_to_string(
                "rights/mail_portal_link.txt", {"contact": contact, "link": link, "minutes": 30}
            )
            subject = _("Your link to your data")
        message_enqueue(
            kind="portal_link", to=contact.email, subject=subject, body=body,
            coachee_pseudonym=coachee.pseudonym,
        )
        event_record(
            action="rights.portal.link_sent",
            request=request,
            object_type="coachee",
            object_id=coachee.pseudonym,
        )


def link_use(*, request: HttpRequest, token: str) -> Coachee | None:
    """Single use: a conditional UPDATE, so a link never opens two sessions."""
    now = timezone.now()
    link = PortalLink.objects.filter(token_hash=tokens.token_hash(token)).first()
    if link is None:
        return None
    claimed = PortalLink.objects.filter(
        pk=link.pk, used_at__isnull=True, expires_at__gt=now
    ).update(used_at=now)
    if claimed != 1:
        event_record(
            action="rights.portal.link_refused",
            request=request,
            outcome=Outcome.DENIED,
            object_type="coachee",
            object_id=link.coachee.pseudonym,
        )
        return None
    event_record(
        action="rights.portal.entered",
        request=request,
        object_type="coachee",
        object_id=link.coachee.pseudonym,
    )
    return link.coachee


def overview(coachee: Coachee) -> dict[str, object]:
    """Everything the register holds about the coachee: the copy of art. 7.3, also as JSON
    for portability (GDPR art. 20)."""
    from coachregister.audit.queries import accesses_of
    from coachregister.disclosures.models import Consent, Disclosure
    from coachregister.notes.models import CoachingSession
    from coachregister.notes.services import read_version
    from coachregister.rights.models import DataRequest

    contact = vault.open_contact(coachee)
    sessions = (
        CoachingSession.objects.filter(trajectory__coachee=coachee)
        .prefetch_related("versions")
        .select_related("trajectory")
    )
    return {
        "identity": {
            "pseudonym": coachee.pseudonym,
            "first_name": contact.first_name,
            "last_name": contact.last_name,
            "email": contact.email,
            "phone": contact.phone,
            "restricted": coachee.restricted,
        },
        "trajectories": [
            {
                "pseudonym": t.pseudonym,
                "client": t.client.name,
                "coach": t.coach.full_name,
                "status": t.status,
                "start": str(t.started_on or ""),
                "end": str(t.ended_on or ""),
            }
            for t in coachee.trajectories.select_related("client", "coach")
        ],
        "sessions": [
            {
                "trajectory": s.trajectory.pseudonym,
                "date": str(s.held_on),
                "kind": s.kind,
                "keywords": read_version(coachee, list(s.versions.all())[-1])[0],
            }
            for s in sessions
        ],
        "consents": [
            {
                "purpose": c.purpose,
                "given": c.given,
                "recipient": c.recipient.name if c.recipient else "",
                "disclosure_purpose": c.disclosure_purpose,
                "text": c.text,
                "version": c.text_version,
                "recorded": c.recorded_at.isoformat(),
                "withdrawn": c.withdrawn_at.isoformat() if c.withdrawn_at else None,
            }
            for c in Consent.objects.filter(coachee=coachee).select_related("recipient", "coachee")
        ],
        "disclosures": [
            {
                "recipient": d.recipient.name,
                "categories": d.category_list(),
                "purpose": d.purpose,
                "basis": d.basis,
                "legal_ground": d.legal_ground,
                "date": d.disclosed_at.isoformat(),
            }
            for d in Disclosure.objects.filter(coachee=coachee).select_related(
                "recipient", "coachee"
            )
        ],
        "requests": [
            {"kind": r.kind, "received": r.received_at.isoformat(), "decision": r.decision}
            for r in DataRequest.objects.filter(coachee=coachee)
        ],
        "accesses": [
            {
                "when": e.created_at.isoformat(),
                "who": e.actor.full_name if e.actor else "",
                "role": e.actor_role,
                "what": e.action,
                "outcome": e.outcome,
            }
            for e in accesses_of(coachee)[:1000]
        ],
    }


def overview_json(coachee: Coachee) -> str:
    return json.dumps(overview(coachee), ensure_ascii=False, indent=2)
