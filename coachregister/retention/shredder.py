"""One shredder, two scopes (art. 8.3, 10.2): everything the register holds about a coachee.

* **erasure** (a granted request, a replayed journal entry): the data key and the vault
  fields, sessions and every keyword version, letters, consents, legal holds, portal links,
  the free text of their requests and disclosures, and their mail in the outbox. Left: a
  tombstone (pseudonym, when, and the day the pseudonymous rows expire), the pseudonymous
  rows themselves (trajectory dates, contact-moment dates, disclosure-register entries,
  request records) and the audit events.
* **purge** (the retention period ended, or a tombstone's day came): all of the above plus
  those pseudonymous rows.

What stays after either is a `DestructionRecord` (categories with counts, why, the policy
version, the expiry date, when) and the audit events, which hold pseudonyms only. Erased
bytes leave the SQLite file and WAL at once (`lib/physical.py`) and become unreadable in
every other copy once their key epoch is destroyed (`keys/keyring.py`).

`COVERAGE` names every model that points at a coachee or a trajectory and what each scope
does with it; a test fails when a model is added without a line here.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING, Any

from django.db import connection

from coachregister.audit.services import event_record
from coachregister.lib import physical
from coachregister.retention.models import DestructionRecord, Scope, Tombstone

if TYPE_CHECKING:
    from django.http import HttpRequest

    from coachregister.accounts.models import User

# model label -> (what an erasure does, what a purge does)
COVERAGE: dict[str, tuple[str, str]] = {
    "trajectories.Trajectory": ("keep, coachee link cleared", "delete"),
    "trajectories.Invitation": ("keep (hashes only)", "delete with the trajectory"),
    "coachees.ContactMoment": ("keep (dates only)", "delete with the trajectory"),
    "notes.CoachingSession": ("delete, with every keyword version", "delete"),
    "disclosures.Consent": ("delete", "delete"),
    "disclosures.Disclosure": ("keep, free text cleared", "delete"),
    "retention.PaperDossierTask": ("keep", "delete with the trajectory"),
    "retention.LegalHold": ("delete (an erasure is refused while one stands)", "delete"),
    "rights.DataRequest": ("keep, free text cleared", "delete, with its letters"),
    "rights.PortalLink": ("delete", "delete"),
    "accounts.ThirdPartyScope": ("keep", "delete with the trajectory"),
    "coachees.ContactAccess": ("delete", "delete"),
    "disclosures.Proposal": ("delete", "delete"),
    # GDPR art. 17(3)(e): a complaint that is open, or closed within the legal-claims period,
    # is kept apart (texts under its own key, letters have theirs); the worker shreds it when
    # that period has passed. Other complaints lose their free text and letters.
    "complaints.Complaint": ("keep; open or within the claims period: kept apart under its "
                             "own key, else free text and letters cleared",
                             "delete with letters, except files kept apart whose period runs"),
    # Art. 4.1c, GDPR 33(5): the incident register keeps which pseudonyms were affected; the
    # link to the coachee goes with the coachee (SET_NULL), the pseudonym stays.
    "incidents.AffectedCoachee": ("keep, coachee link cleared", "keep, coachee link cleared"),
}

_REQUEST_TEXT = (
    "changes_enc", "verification_enc", "extension_reasons_enc", "justification_enc",
    "other_form_enc", "requester_enc",
)
_DISCLOSURE_TEXT = ("purpose_enc", "legal_ground_enc")


def _count(counts: dict[str, int], name: str, value: int) -> None:
    if value:
        counts[name] = counts.get(name, 0) + value


def shred(
    *,
    pseudonym: str,
    scope: str,
    reason: str,
    expiry: date | None = None,
    policy_version: int | None = None,
    keep_mail: Iterable[int] = (),
    actor: User | None = None,
    request: HttpRequest | None = None,
) -> DestructionRecord:
    """Destroy what `scope` covers of the coachee `pseudonym`, inside the caller's transaction
    (a batch commits whole coachees only). `keep_mail` are the outbox messages the erasure
    itself sends. Works on a living coachee, a tombstone, or a pseudonym already gone (then it
    records what little was left)."""
    from coachregister.coachees.models import Coachee
    from coachregister.disclosures.models import Consent, Disclosure
    from coachregister.notes.models import CoachingSession, KeywordVersion
    from coachregister.outbox.models import OutboxMessage
    from coachregister.outbox.services import messages_forget
    from coachregister.retention.models import LegalHold
    from coachregister.rights.models import DataRequest, Letter, PortalLink
    from coachregister.trajectories.models import Trajectory

    if not connection.in_atomic_block:
        raise RuntimeError("shred inside the transaction that records it")
    counts: dict[str, int] = {}
    coachee = Coachee.objects.filter(pseudonym=pseudonym).first()
    if coachee is not None:
        from coachregister.retention.mailbox import mailbox_tasks_create

        mailbox_tasks_create(coachee=coachee)  # reads the name while the vault still opens
        sessions = CoachingSession.objects.filter(trajectory__coachee=coachee)
        _count(counts, "keyword_versions",
               KeywordVersion.objects.filter(session__in=sessions).count())
        _count(counts, "sessions", sessions.delete()[1].get("notes.CoachingSession", 0))
        _count(counts, "letters", Letter.objects.filter(request__coachee=coachee).delete()[0])
        _count(counts, "consents", Consent.objects.filter(coachee=coachee).delete()[0])
        _count(counts, "holds", LegalHold.objects.filter(coachee=coachee).delete()[0])
        PortalLink.objects.filter(coachee=coachee).delete()
        # While the coachee's key still opens: complaint files move under their own keys.
        from coachregister.complaints.services import files_on_shred

        for name, value in files_on_shred(coachee).items():
            _count(counts, name, value)
        # Free text under the destroyed key: its bytes go too; b"" reads as "(erased)".
        for model, names in ((DataRequest, _REQUEST_TEXT), (Disclosure, _DISCLOSURE_TEXT)):
            for name in names:
                model.objects.filter(coachee=coachee, **{f"{name}__isnull": False}).update(
                    **{name: b""}
                )
        _count(counts, "unsent_mail", messages_forget(pseudonym, keep=list(keep_mail)))
        # Overwrite, then delete: the data key first, so nothing left opens (crypto-shredding).
        Coachee.objects.filter(pk=coachee.pk).update(
            wrapped_key=b"", first_name_enc=b"", last_name_enc=b"", email_enc=b"", phone_enc=b"",
        )
        coachee.delete()
        counts["contact_details"] = 1
    if scope == Scope.PURGE:
        trajectories = Trajectory.objects.filter(coachee_pseudonym=pseudonym)
        from coachregister.coachees.models import ContactMoment

        _count(counts, "contact_moments",
               ContactMoment.objects.filter(trajectory__in=trajectories).count())
        _count(counts, "trajectories", trajectories.delete()[1].get("trajectories.Trajectory", 0))
        _count(counts, "disclosure_entries",
               Disclosure.objects.filter(coachee_pseudonym=pseudonym).delete()[0])
        requests = DataRequest.objects.filter(coachee_pseudonym=pseudonym)
        _count(counts, "request_records", requests.delete()[1].get("rights.DataRequest", 0))
        from coachregister.complaints.services import records_purge

        _count(counts, "complaint_records", records_purge(pseudonym))
        _count(counts, "mail_records",
               OutboxMessage.objects.filter(coachee_pseudonym=pseudonym).delete()[0])
        Tombstone.objects.filter(pseudonym=pseudonym).delete()
    elif expiry is not None:
        Tombstone.objects.update_or_create(pseudonym=pseudonym, defaults={"expires_on": expiry})
    record = DestructionRecord.objects.create(
        pseudonym=pseudonym, scope=scope, reason=reason, destroyed=counts,
        policy_version=policy_version, expiry_date=expiry,
    )
    detail: dict[str, Any] = {"record": record.pk, "reason": reason}
    event_record(
        action=f"retention.{scope}.carried_out", request=request, actor=actor,
        object_type="coachee", object_id=pseudonym, detail=detail,
    )
    physical.checkpoint()  # runs once the transaction has committed
    return record
