"""The coachee portal (art. 9.2): sign in by a link sent to the email on file.

Asking for a link looks the same for a known and an unknown address (no enumeration, art. 6):
the same page, and the same work in the request. The request only queues a look-up (the typed
address, encrypted under an epoch key, `PortalLookup`) and records one event without address
or pseudonym; the worker finds the coachee, sends the link and deletes the look-up
(`lookups_process`). So neither the response time nor the SQL of the request depends on
whether the address is in the register. A new link makes the earlier unused ones invalid:
only the latest mail opens the portal.
"""

from __future__ import annotations

import json
import logging
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
from coachregister.keys import keyring
from coachregister.lib import crypto, physical, tokens
from coachregister.outbox.services import message_enqueue
from coachregister.rights.models import PortalLink, PortalLookup

log = logging.getLogger(__name__)

LINK_VALID = timedelta(minutes=30)
# A decision notice is read when the coachee reads their mail, not within minutes; its link
# still opens once only, and a newer link (asked on the portal page) makes it invalid.
NOTICE_LINK_VALID = timedelta(days=7)
LOOKUP_MAX_AGE = timedelta(hours=1)
LOOKUP_PURPOSE = "portal:lookup"
SESSION_COACHEE = "coachregister_portal_coachee"


def link_request(*, request: HttpRequest | None, email: str) -> None:
    """Queue the look-up of `email` for the worker. The same statements run whatever the
    address: one encrypted row and one event, neither naming anyone (art. 6)."""
    data_key = crypto.new_data_key()
    wrapped, epoch_id = keyring.wrap(data_key, LOOKUP_PURPOSE)
    with transaction.atomic():
        PortalLookup.objects.create(
            email_enc=crypto.encrypt_text(data_key, email.strip(), f"{LOOKUP_PURPOSE}:email"),
            wrapped_key=wrapped,
            key_id=epoch_id,
        )
        event_record(action="rights.portal.link_asked", request=request)


def address_key(email: str) -> str:
    """A keyed index of the typed address, for throttling per address without storing it:
    the same computation for every address, known or not. The prefix separates it from the
    coachees' email index, so a throttle key cannot be matched against the register."""
    return keyring.blind_index(f"portal.link:{vault.normalise_email(email)}")


def _lookup_open(lookup: PortalLookup) -> str:
    key = keyring.unwrap(lookup.wrapped_key, lookup.key_id, LOOKUP_PURPOSE)
    return crypto.decrypt_text(key, lookup.email_enc, f"{LOOKUP_PURPOSE}:email")


def _link_send(coachee: Coachee) -> None:
    """Invalidate the coachee's earlier unused links, make a new one and queue the mail to
    the address on file (not the typed one). Inside the caller's transaction."""
    now = timezone.now()
    PortalLink.objects.filter(coachee=coachee, used_at__isnull=True, expires_at__gt=now).update(
        expires_at=now
    )
    token = tokens.new_token()
    PortalLink.objects.create(
        coachee=coachee, token_hash=tokens.token_hash(token), expires_at=now + LINK_VALID
    )
    contact = vault.open_contact(coachee)
    link = settings.COACHREGISTER_BASE_URL.rstrip("/") + reverse(
        "rights:portal_enter", args=[token]
    )
    with override("nl"):
        body = render_to_string(
            "rights/mail_portal_link.txt",
            {"contact": contact, "link": link, "minutes": int(LINK_VALID.total_seconds() // 60)},
        )
        subject = _("Your link to your data")
    message_enqueue(
        kind="portal_link", to=contact.email, subject=subject, body=body,
        coachee_pseudonym=coachee.pseudonym,
    )
    event_record(
        action="rights.portal.link_sent", object_type="coachee", object_id=coachee.pseudonym
    )


def start_url() -> str:
    """The portal page where the coachee asks for a new link."""
    return settings.COACHREGISTER_BASE_URL.rstrip("/") + reverse("rights:portal_start")


def letter_link(coachee: Coachee, letter: object) -> str:
    """A single-use portal link that opens on `letter` (art. 7, 8.2: the decision notice).
    Only the token's hash is stored; the link names no person, only the letter's number.
    Inside the caller's transaction."""
    token = tokens.new_token()
    PortalLink.objects.create(
        coachee=coachee, token_hash=tokens.token_hash(token),
        expires_at=timezone.now() + NOTICE_LINK_VALID,
    )
    return settings.COACHREGISTER_BASE_URL.rstrip("/") + reverse(
        "rights:portal_enter", args=[token]
    ) + f"?letter={letter.pk}"  # type: ignore[attr-defined]


def _lookup_answer(pk: int) -> bool:
    """Answer one look-up. Deleting the row is the claim: of several workers, only the one
    whose DELETE removed it goes on, and its link and mail commit with that DELETE (or the
    row comes back for the next pass). Returns whether this worker answered it."""
    with transaction.atomic():
        lookup = PortalLookup.objects.filter(pk=pk).first()
        if lookup is None or PortalLookup.objects.filter(pk=pk).delete()[0] != 1:
            return False  # another worker has it
        try:
            email = _lookup_open(lookup)
        except crypto.DecryptionError:
            log.warning("portal look-up %s cannot be opened; deleted unanswered", pk)
            return False
        # Locked: two workers answering two look-ups of one coachee take turns, so the
        # second one sees (and invalidates) the first one's link.
        coachee = vault.with_email(email).select_for_update().first()
        if coachee is None:
            event_record(action="rights.portal.link_unknown", outcome=Outcome.DENIED)
        else:
            _link_send(coachee)
    return True


def lookups_process(limit: int = 100) -> int:
    """The worker's pass over queued look-ups (art. 9.2): delete those older than
    `LOOKUP_MAX_AGE` unanswered (a link asked for an hour ago is no longer expected), answer
    the others, and truncate the SQLite WAL so the deleted addresses leave the files (art. 6).
    Returns how many were answered."""
    stale, _per_model = PortalLookup.objects.filter(
        created_at__lt=timezone.now() - LOOKUP_MAX_AGE
    ).delete()
    answered = tried = 0
    for pk in PortalLookup.objects.order_by("id").values_list("pk", flat=True)[:limit]:
        tried += 1
        try:
            answered += _lookup_answer(pk)
        except Exception as exc:  # one bad row does not stop the worker; it expires in time
            log.warning("portal look-up %s not answered: %s", pk, type(exc).__name__)
    if stale or tried:
        physical.checkpoint_quietly()
    return answered


def rekey(batch_size: int = 200) -> int:
    """Move the keys of queued look-ups to the current epoch (the worker, art. 6)."""
    return keyring.rekey_rows(PortalLookup.objects.all(), lambda _row: LOOKUP_PURPOSE,
                              batch_size=batch_size)


def epochs_in_use() -> set[str]:
    return keyring.epochs_of(PortalLookup.objects.all())


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
    for portability (GDPR art. 20). One builder per section (`rights.sections.SECTIONS`)."""
    from coachregister.rights import sections

    return sections.build(coachee)


# GDPR art. 20: the export's keys are stable and documented (README, "Portability export").
# A change that renames or removes a key raises the version; adding one does not.
EXPORT_FORMAT = "coachregister-portability"
EXPORT_VERSION = 1


def overview_json(coachee: Coachee) -> str:
    """The copy as a file for another program (GDPR art. 20): an `export` header naming the
    format and its version, then every section under its stable key. Codes (`kind`,
    `status`, ...) are stable; the `*_label` texts are in the coachee's language; moments are
    ISO 8601 in UTC, dates ISO 8601."""
    with override(coachee.language):
        data = {
            "export": {
                "format": EXPORT_FORMAT,
                "version": EXPORT_VERSION,
                "created": timezone.now().isoformat(),
                "language": coachee.language,
            },
            **overview(coachee),
        }
    return json.dumps(data, ensure_ascii=False, indent=2)
