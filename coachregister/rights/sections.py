"""The complete copy (art. 7.2, 7.3; GDPR art. 15): every part of what the register holds
about a coachee, one builder per section.

`rights.portal.overview` runs every builder in `SECTIONS`; the portal page, the JSON export
(GDPR art. 20) and the access letter show every section. Adding a kind of data to the register
means adding a section here; the tests check each section's content and that emptying any
one of them fails them. Each builder runs a fixed number of queries, whatever the number of
rows (no query per row), and returns only JSON-ready values (text, numbers, booleans, lists,
dicts).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING

from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from coachregister.coachees.models import Coachee

# What the trail's read actions mean, for the reader of "who saw my data".
READ_LABELS = {
    "coachees.contact.viewed": _("contact details opened"),
    "coachees.name.listed": _("name shown in a list"),
    "coachees.names.listed": _("name shown in a list"),
    "coachees.list.searched": _("looked up by your email address"),
    "notes.dossier.viewed": _("session keywords read"),
    "notes.versions.viewed": _("earlier versions of session keywords read"),
    "coachees.contact.vcard_downloaded": _("contact saved as a contact card"),
    "disclosures.proposal.exported": _("data put in a file for a recipient"),
    "rights.letter.downloaded": _("letter to you opened"),
    "rights.request.viewed": _("the corrections you asked for read"),
}


def _when(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _anonymised(user: object) -> bool:
    from coachregister.retention.others import anonymised_username

    return getattr(user, "username", "") == anonymised_username(user)  # type: ignore[arg-type]


def _name(user: object) -> str:
    """A staff member's name; empty once the account is anonymised (the reader is then told
    the role only)."""
    if user is None or _anonymised(user):
        return ""
    return str(getattr(user, "full_name", ""))


def _label(choices: object, value: str) -> str:
    return str(dict(choices.choices).get(value, value)) if value else ""  # type: ignore[attr-defined]


def identity(coachee: Coachee) -> dict[str, object]:
    from coachregister.coachees import vault

    contact = vault.open_contact(coachee)
    return {
        "pseudonym": coachee.pseudonym,
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "email": contact.email,
        "phone": contact.phone,
        "restricted": coachee.restricted,
        "language": coachee.language,
        "registered": _when(coachee.created_at),
    }


def trajectories(coachee: Coachee) -> list[dict[str, object]]:
    return [
        {
            "pseudonym": t.pseudonym,
            "client": t.client.name,
            "coach": _name(t.coach),
            "status": t.status,
            "status_label": t.get_status_display(),
            "start": str(t.started_on or ""),
            "end": str(t.ended_on or ""),
        }
        for t in coachee.trajectories.select_related("client", "coach")
    ]


def contact_moments(coachee: Coachee) -> list[dict[str, object]]:
    from coachregister.coachees.models import ContactMoment

    return [
        {
            "trajectory": m.trajectory.pseudonym,
            "date": str(m.occurred_on),
            "kind": m.kind,
            "kind_label": m.get_kind_display(),
        }
        for m in ContactMoment.objects.filter(trajectory__coachee=coachee)
        .select_related("trajectory").order_by("occurred_on", "id")
    ]


def sessions(coachee: Coachee) -> list[dict[str, object]]:
    """Every session with every version of its keywords and the reason of each amendment
    (art. 7.3: the copy, not only the latest text). A session whose keywords were erased
    (a withdrawn consent, a granted deletion) is listed without versions."""
    from coachregister.notes.models import CoachingSession, KeywordVersion
    from coachregister.notes.services import read_version

    found = (
        CoachingSession.objects.filter(trajectory__coachee=coachee)
        .select_related("trajectory")
        .prefetch_related(Prefetch(
            "versions", queryset=KeywordVersion.objects.select_related("written_by")
            .order_by("number"),
        ))
        .order_by("held_on", "id")
    )
    result = []
    for session in found:
        versions = []
        for version in session.versions.all():
            keywords, reason = read_version(coachee, version)
            versions.append({
                "number": version.number,
                "written": _when(version.written_at),
                "written_by": _name(version.written_by),
                "keywords": keywords,
                "reason": reason,
            })
        result.append({
            "trajectory": session.trajectory.pseudonym,
            "date": str(session.held_on),
            "kind": session.kind,
            "kind_label": session.get_kind_display(),
            "keywords": versions[-1]["keywords"] if versions else "",
            "versions": versions,
        })
    return result


def consents(coachee: Coachee) -> list[dict[str, object]]:
    from coachregister.disclosures.models import Consent

    return [
        {
            "purpose": c.purpose,
            "purpose_label": c.get_purpose_display(),
            "processing_purpose": c.processing_purpose.label if c.processing_purpose else "",
            "given": c.given,
            "recipient": c.recipient.name if c.recipient else "",
            "disclosure_purpose": c.disclosure_purpose,
            "text": c.text,
            "version": c.text_version,
            "method": c.method,
            "method_label": c.get_method_display(),
            "recorded": _when(c.recorded_at),
            "withdrawn": _when(c.withdrawn_at),
        }
        for c in Consent.objects.filter(coachee=coachee)
        .select_related("recipient", "coachee", "processing_purpose")
    ]


def disclosures(coachee: Coachee) -> list[dict[str, object]]:
    from coachregister.disclosures.models import Basis, Category, Disclosure

    return [
        {
            "recipient": d.recipient.name,
            "recipient_kind": d.recipient.get_kind_display(),
            "categories": d.category_list(),
            "category_labels": [_label(Category, c) for c in d.category_list()],
            "purpose": d.purpose,
            "basis": d.basis,
            "basis_label": _label(Basis, d.basis),
            "legal_ground": d.legal_ground,
            "date": _when(d.disclosed_at),
        }
        for d in Disclosure.objects.filter(coachee=coachee)
        .select_related("recipient", "coachee", "processing_purpose")
    ]


def proposals(coachee: Coachee) -> list[dict[str, object]]:
    """Disclosures prepared but not sent (art. 9.2; GDPR art. 15(1)(c): recipients to whom
    the data *will* be disclosed): to whom, why, what, and where it stands."""
    from coachregister.disclosures.models import Category, Proposal, ProposalStatus

    waiting = (ProposalStatus.ASKED, ProposalStatus.PAPER, ProposalStatus.CONSENTED,
               ProposalStatus.READY)
    return [
        {
            "recipient": p.recipient.name,
            "purpose": p.processing_purpose.label,
            "categories": p.category_list(),
            "category_labels": [_label(Category, c) for c in p.category_list()],
            "basis": p.basis,
            "status": p.status,
            "status_label": p.get_status_display(),
            "prepared": _when(p.prepared_at),
        }
        for p in Proposal.objects.filter(coachee=coachee, status__in=waiting)
        .select_related("recipient", "processing_purpose")
    ]


def requests(coachee: Coachee) -> list[dict[str, object]]:
    from coachregister.coachees.models import RestrictionGround
    from coachregister.rights.models import DataRequest, KeywordAction, RefusalGround

    return [
        {
            "reference": f"R-{r.pk}",
            "kind": r.kind,
            "kind_label": r.get_kind_display(),
            "channel_label": r.get_channel_display(),
            "received": _when(r.received_at),
            "due": _when(r.due),
            "decision": r.decision,
            "decision_label": r.get_decision_display(),
            "decided": _when(r.decided_at),
            "grounds": [_label(RefusalGround, g) for g in r.refusal_grounds.split(",") if g],
            "justification": r.justification,
            "other_form": r.other_form,
            "extended_until": _when(r.extended_until),
            "extension_reasons": r.extension_reasons,
            "restriction_ground": _label(RestrictionGround, r.restriction_ground),
            "fee": str(r.fee) if r.fee is not None else None,
            "fee_paid": _when(r.fee_paid_at),
            "keywords": _label(KeywordAction, r.keyword_action),
            "session": _when(r.session.held_on) if r.session else None,
        }
        for r in DataRequest.objects.filter(coachee=coachee).select_related("coachee", "session")
    ]


def complaints(coachee: Coachee) -> list[dict[str, object]]:
    """The coachee's complaints (art. 4.1d, 11): what they wrote, when, and our decision."""
    from coachregister.complaints.models import Complaint

    return [
        {
            "reference": f"K-{c.pk}",
            "topic": c.get_topic_display(),
            "channel": c.get_channel_display(),
            "received": _when(c.received_at),
            "acknowledged": _when(c.acknowledged_at),
            "decided": _when(c.decided_at),
            "outcome": c.get_outcome_display() if c.outcome else "",
            "text": c.text,
            "decision": c.decision_text,
        }
        for c in Complaint.objects.filter(coachee=coachee).select_related("coachee")
    ]


def restriction(coachee: Coachee) -> dict[str, object]:
    """GDPR art. 18: whether processing is restricted, since when and why."""
    from coachregister.coachees.models import RestrictionGround

    return {
        "restricted": coachee.restricted,
        "since": _when(coachee.restricted_at) if coachee.restricted else None,
        "ground": coachee.restriction_ground if coachee.restricted else "",
        "ground_label": _label(RestrictionGround, coachee.restriction_ground)
        if coachee.restricted else "",
    }


def legal_hold(coachee: Coachee) -> dict[str, object]:
    """Whether the data is kept beyond the retention period, and why (art. 10.1)."""
    from django.utils import timezone

    from coachregister.retention.models import LegalHold

    today = timezone.localdate()
    holds = [
        {
            "reason": h.reason,
            "until": _when(h.until),
            "set": _when(h.set_at),
            "lifted": _when(h.lifted_at),
            "stands": h.stands(today),
        }
        for h in LegalHold.objects.filter(coachee=coachee).order_by("set_at", "id")
    ]
    return {"on_hold": any(h["stands"] for h in holds), "holds": holds}


def retention(coachee: Coachee) -> dict[str, object]:
    """The day the data is erased under the current policy (art. 10.1)."""
    from coachregister.retention.models import RetentionPolicy
    from coachregister.retention.services import expiry_date

    policy = RetentionPolicy.current()
    return {"expiry_date": _when(expiry_date(coachee, policy)), "years": policy.years}


def mailbox(coachee: Coachee) -> list[dict[str, object]]:
    """Copies outside the register (art. 12.1): the coaches' tasks to remove the coachee's
    mails and contact from their Outlook mailbox."""
    from coachregister.retention.models import MailboxTask

    return [
        {
            "coach": _name(t.assigned_to),
            "created": _when(t.created_at),
            "removed": _when(t.confirmed_at),
        }
        for t in MailboxTask.objects.filter(pseudonym=coachee.pseudonym)
        .select_related("assigned_to").order_by("created_at", "id")
    ]


def paper_dossiers(coachee: Coachee) -> list[dict[str, object]]:
    """The paper files of each trajectory and whether they were destroyed (art. 10.1)."""
    from coachregister.retention.models import PaperDossierTask

    return [
        {
            "trajectory": t.trajectory.pseudonym,
            "created": _when(t.created_at),
            "destroyed": _when(t.confirmed_at),
            "method": t.method,
            "method_label": t.get_method_display() if t.method else "",
        }
        for t in PaperDossierTask.objects.filter(trajectory__coachee=coachee)
        .select_related("trajectory").order_by("created_at", "id")
    ]


def purposes(coachee: Coachee) -> list[dict[str, object]]:
    """The purposes the register processes data for, each with its basis (art. 2.1, 7.2)."""
    from coachregister.practice.models import ProcessingPurpose

    return [
        {"purpose": p.label, "basis": p.basis, "basis_label": p.get_basis_display()}
        for p in ProcessingPurpose.objects.filter(active=True)
    ]


def accesses(coachee: Coachee) -> list[dict[str, object]]:
    """Who saw the data (art. 5; GDPR art. 15): every read, without a cap; with the reason
    and the sealed explanation where the opening recorded one (its `ContactAccess` row),
    those rows fetched in one query."""
    from coachregister.accounts.models import Role
    from coachregister.audit.labels import action_label
    from coachregister.audit.queries import accesses_of
    from coachregister.coachees.models import AccessReason, ContactAccess

    events = list(accesses_of(coachee))
    wanted = {
        e.detail["access"] for e in events
        if isinstance(e.detail, dict) and isinstance(e.detail.get("access"), int)
    }
    explained = {
        row.pk: row.explanation
        for row in ContactAccess.objects.filter(pk__in=wanted, coachee=coachee)
        .select_related("coachee")
    } if wanted else {}
    result = []
    for e in events:
        detail = e.detail if isinstance(e.detail, dict) else {}
        reason = detail.get("reason", "") if isinstance(detail.get("reason"), str) else ""
        result.append({
            "when": _when(e.created_at),
            # After a staff account is anonymised (retention/others.py) only its role is told.
            "who": _name(e.actor),
            "role": e.actor_role,
            "role_label": _label(Role, e.actor_role),
            "what": e.action,
            # The coachee's wording where it differs, else the one table (audit/labels.py).
            "what_label": str(READ_LABELS.get(e.action) or action_label(e.action)),
            "outcome": e.outcome,
            "reason": reason,
            "reason_label": _label(AccessReason, reason),
            "explanation": explained.get(detail.get("access"), ""),  # type: ignore[arg-type]
        })
    return result


SECTIONS: dict[str, Callable[[Coachee], object]] = {
    "identity": identity,
    "trajectories": trajectories,
    "contact_moments": contact_moments,
    "sessions": sessions,
    "consents": consents,
    "disclosures": disclosures,
    "proposals": proposals,
    "requests": requests,
    "complaints": complaints,
    "restriction": restriction,
    "legal_hold": legal_hold,
    "retention": retention,
    "mailbox": mailbox,
    "paper_dossiers": paper_dossiers,
    "purposes": purposes,
    "accesses": accesses,
}


def build(coachee: Coachee) -> dict[str, object]:
    """Every section, by name, in the order above. The builders are looked up at call time,
    so a test can replace one."""
    return {name: SECTIONS[name](coachee) for name in list(SECTIONS)}
