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
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.db.models import Count

from coachregister.audit.services import events_record
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


@dataclass(frozen=True)
class Item:
    """One coachee of a batch: its pseudonym, why it goes, and (erasure) the tombstone's day."""

    pseudonym: str
    reason: str
    expiry: date | None = None


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
    return shred_batch([Item(pseudonym, reason, expiry)], scope=scope,
                       policy_version=policy_version, keep_mail=keep_mail, actor=actor,
                       request=request)[0]


def _grouped(queryset: Any, key: str) -> dict[Any, int]:
    """How many rows of `queryset` each value of `key` has (one query)."""
    return dict(queryset.order_by().values_list(key).annotate(n=Count("pk")))


def shred_batch(
    items: list[Item],
    *,
    scope: str,
    policy_version: int | None = None,
    keep_mail: Iterable[int] = (),
    actor: User | None = None,
    request: HttpRequest | None = None,
) -> list[DestructionRecord]:
    """`shred` for several coachees at once, in the caller's transaction: one statement per
    table for the whole batch (the purge's batches, issue 15), each coachee's own counts in
    its destruction record, one audit INSERT for all."""
    from coachregister.coachees.models import Coachee, ContactMoment
    from coachregister.complaints.models import Complaint
    from coachregister.complaints.services import files_on_shred, records_purge
    from coachregister.disclosures.models import Consent, Disclosure
    from coachregister.notes.models import CoachingSession, KeywordVersion
    from coachregister.outbox.models import OutboxMessage
    from coachregister.outbox.services import messages_forget_many
    from coachregister.retention.mailbox import mailbox_tasks_create_many
    from coachregister.retention.models import LegalHold
    from coachregister.rights.models import DataRequest, Letter, PortalLink
    from coachregister.trajectories.models import Trajectory

    if not connection.in_atomic_block:
        raise RuntimeError("shred inside the transaction that records it")
    pseudonyms = [item.pseudonym for item in items]
    counts: dict[str, dict[str, int]] = {pseudonym: {} for pseudonym in pseudonyms}

    def add(name: str, by_pseudonym: dict[str, int]) -> None:
        for pseudonym, value in by_pseudonym.items():
            _count(counts[pseudonym], name, value)

    coachees = list(Coachee.objects.filter(pseudonym__in=pseudonyms))
    if coachees:
        ids = [coachee.pk for coachee in coachees]
        by_id = {coachee.pk: coachee.pseudonym for coachee in coachees}

        def per_coachee(grouped: dict[int, int]) -> dict[str, int]:
            return {by_id[pk]: value for pk, value in grouped.items()}

        mailbox_tasks_create_many(coachees)  # reads the names while the vaults still open
        sessions = CoachingSession.objects.filter(trajectory__coachee__in=ids)
        add("keyword_versions", per_coachee(_grouped(
            KeywordVersion.objects.filter(session__in=sessions), "session__trajectory__coachee")))
        add("sessions", per_coachee(_grouped(sessions, "trajectory__coachee")))
        sessions.delete()
        for name, model, path in (("letters", Letter, "request__coachee"),
                                  ("consents", Consent, "coachee"),
                                  ("holds", LegalHold, "coachee")):
            rows = model.objects.filter(**{f"{path}__in": ids})
            add(name, per_coachee(_grouped(rows, path)))
            rows.delete()
        PortalLink.objects.filter(coachee__in=ids).delete()
        # While the coachees' keys still open: complaint files move under their own keys.
        with_complaints = set(Complaint.objects.filter(coachee__in=ids)
                              .values_list("coachee_id", flat=True))
        for coachee in coachees:
            if coachee.pk in with_complaints:
                for name, value in files_on_shred(coachee).items():
                    _count(counts[coachee.pseudonym], name, value)
        # Free text under the destroyed keys: its bytes go too; b"" reads as "(erased)".
        for model, names in ((DataRequest, _REQUEST_TEXT), (Disclosure, _DISCLOSURE_TEXT)):
            for name in names:
                model.objects.filter(coachee__in=ids, **{f"{name}__isnull": False}).update(
                    **{name: b""}
                )
        add("unsent_mail", messages_forget_many(list(by_id.values()), keep=list(keep_mail)))
        # Overwrite, then delete: the data keys first, so nothing left opens (crypto-shredding).
        doomed = Coachee.objects.filter(pk__in=ids)
        doomed.update(wrapped_key=b"", first_name_enc=b"", last_name_enc=b"", email_enc=b"",
                      phone_enc=b"")
        doomed.delete()
        for coachee in coachees:
            counts[coachee.pseudonym]["contact_details"] = 1
    if scope == Scope.PURGE:
        trajectories = Trajectory.objects.filter(coachee_pseudonym__in=pseudonyms)
        add("contact_moments", _grouped(ContactMoment.objects.filter(
            trajectory__in=trajectories), "trajectory__coachee_pseudonym"))
        add("trajectories", _grouped(trajectories, "coachee_pseudonym"))
        trajectories.delete()
        for name, queryset in (
            ("disclosure_entries", Disclosure.objects.filter(coachee_pseudonym__in=pseudonyms)),
            ("request_records", DataRequest.objects.filter(coachee_pseudonym__in=pseudonyms)),
            ("mail_records", OutboxMessage.objects.filter(coachee_pseudonym__in=pseudonyms)),
        ):
            add(name, _grouped(queryset, "coachee_pseudonym"))
            queryset.delete()
        complained = set(Complaint.objects.filter(coachee_pseudonym__in=pseudonyms)
                         .values_list("coachee_pseudonym", flat=True))
        for pseudonym in sorted(complained):
            _count(counts[pseudonym], "complaint_records", records_purge(pseudonym))
        Tombstone.objects.filter(pseudonym__in=pseudonyms).delete()
    else:
        for item in items:
            if item.expiry is not None:
                Tombstone.objects.update_or_create(pseudonym=item.pseudonym,
                                                   defaults={"expires_on": item.expiry})
    records = DestructionRecord.objects.bulk_create([
        DestructionRecord(pseudonym=item.pseudonym, scope=scope, reason=item.reason,
                          destroyed=counts[item.pseudonym], policy_version=policy_version,
                          expiry_date=item.expiry)
        for item in items
    ])
    events_record([
        {"action": f"retention.{scope}.carried_out", "object_type": "coachee",
         "object_id": record.pseudonym, "detail": {"record": record.pk, "reason": record.reason}}
        for record in records
    ], request=request, actor=actor)
    physical.checkpoint()  # runs once the transaction has committed
    return records
