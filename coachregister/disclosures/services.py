"""Consents and disclosures (art. 1.10, 9.1; GDPR art. 7): personal data leaves the practice
only with a legal duty or a consent in force for that recipient and purpose, never for a
restricted coachee, and every disclosure is in the register with its basis."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from coachregister.audit.services import event_record
from coachregister.coachees import vault
from coachregister.coachees.models import Coachee
from coachregister.disclosures import sealed
from coachregister.disclosures.models import (
    SEALED_DISCLOSURE,
    Basis,
    Category,
    Consent,
    Disclosure,
    Method,
    Proposal,
    ProposalStatus,
    Purpose,
    Recipient,
    RecipientKind,
)
from coachregister.outbox.services import message_enqueue
from coachregister.practice.models import ProcessingPurpose
from coachregister.trajectories.access import require_manager

if TYPE_CHECKING:
    from coachregister.accounts.models import User

COACHEE = "coachee"


def recipient_save(
    *,
    actor: User,
    request: HttpRequest | None,
    name: str,
    kind: str,
    email: str = "",
    recipient: Recipient | None = None,
) -> Recipient:
    require_manager(actor)
    with transaction.atomic():
        created = recipient is None
        recipient = recipient or Recipient()
        recipient.name, recipient.kind, recipient.email = name, kind, email
        recipient.full_clean()
        recipient.save()
        event_record(
            action="disclosures.recipient.saved",
            request=request,
            actor=actor,
            object_type="recipient",
            object_id=str(recipient.pk),
            detail={"created": created},
        )
    return recipient


def consent_record(
    *,
    actor: User | None,
    request: HttpRequest | None,
    coachee: Coachee,
    recipient: Recipient,
    processing_purpose: ProcessingPurpose,
    text: str,
    text_version: str,
    method: str,
) -> Consent:
    """Consent of the coachee to a disclosure: to whom, for which purpose on the practice's
    list (art. 2.1), in which words, how given. Only two roads exist (art. 9.1): the coachee
    in the portal (no staff member, method portal) and a signed paper form recorded by staff
    (method paper), which counts only once an owner has confirmed it (`consent_confirm`)."""
    if actor is None:
        if method != Method.PORTAL:
            raise ValidationError(_("Without a staff member a consent is given in the portal."))
    else:
        require_manager(actor)
        if method != Method.PAPER:
            raise ValidationError(
                _("Staff record only a consent the coachee signed on paper; any other "
                  "consent to a disclosure is given by the coachee in the portal.")
            )
    if not text.strip():
        raise ValidationError(_("Record the exact text the coachee agreed to."))
    _purpose_check(processing_purpose)
    _recipient_check(recipient)
    with transaction.atomic():
        consent = Consent.objects.create(
            coachee=coachee,
            purpose=Purpose.DISCLOSURE,
            recipient=recipient,
            processing_purpose=processing_purpose,
            given=True,
            text=text.strip(),
            text_version=text_version,
            method=method,
            recorded_by=actor,
        )
        event_record(
            action="disclosures.consent.given",
            request=request,
            actor=actor,
            object_type=COACHEE,
            object_id=coachee.pseudonym,
            detail={"consent": consent.pk, "recipient": recipient.pk, "method": method},
        )
    return consent


def consent_confirm(*, actor: User, request: HttpRequest | None, consent: Consent) -> Consent:
    """An owner confirms a signed paper consent (art. 9.1): another person than who recorded
    it, so no one alone turns a paper into a basis for a disclosure."""
    if actor.role != "owner":
        raise PermissionDenied(_("Only an owner confirms a paper consent."))
    with transaction.atomic():
        consent = Consent.objects.select_for_update().get(pk=consent.pk)
        if consent.method != Method.PAPER or consent.purpose != Purpose.DISCLOSURE:
            raise ValidationError(_("Only a paper consent to a disclosure is confirmed."))
        if consent.recorded_by_id == actor.pk:
            raise ValidationError(
                _("Another person than who recorded the paper consent confirms it.")
            )
        if consent.confirmed_at is None:
            consent.confirmed_by, consent.confirmed_at = actor, timezone.now()
            consent.save(update_fields=["confirmed_by", "confirmed_at"])
            event_record(
                action="disclosures.consent.confirmed",
                request=request,
                actor=actor,
                object_type=COACHEE,
                object_id=consent.coachee.pseudonym,
                detail={"consent": consent.pk},
            )
    return consent


def consent_counts(consent: Consent) -> bool:
    """Whether a consent is a basis for a disclosure (art. 9.1): in force, and given by the
    coachee in the portal or on paper confirmed by an owner who did not record it."""
    if not consent.in_force or consent.purpose != Purpose.DISCLOSURE:
        return False
    if consent.method == Method.PORTAL:
        return True
    return (
        consent.method == Method.PAPER
        and consent.confirmed_by_id is not None
        and consent.confirmed_by_id != consent.recorded_by_id
    )


def consent_withdraw(
    *, actor: User | None, request: HttpRequest | None, consent: Consent
) -> Consent:
    """As easy as giving: one step, by staff on the coachee's word or (later) in the portal.
    It stops future disclosures on this basis; what was disclosed stays in the register."""
    if actor is not None:
        require_manager(actor)
        if consent.purpose in (Purpose.SESSION_KEYWORDS, Purpose.KEYWORDS_KEPT):
            # GDPR 7(3), 17(1)(b): withdrawing keyword consent comes with the coachee's own
            # choice between erasing the keywords and keeping them (the portal's page).
            raise ValidationError(
                _("The coachee withdraws consent for keywords in the portal, where they also "
                  "choose whether the existing keywords are erased.")
            )
    with transaction.atomic():
        consent = Consent.objects.select_for_update().get(pk=consent.pk)
        if consent.withdrawn_at is None:
            from coachregister.retention import journal

            with journal.effect(
                journal.Effect.CONSENT_WITHDRAWN, consent.coachee.pseudonym,
                {"consent": consent.pk},
            ):
                consent.withdrawn_at = timezone.now()
                consent.save(update_fields=["withdrawn_at"])
                # Art. 9.2: a disclosure consented to but not yet sent is no longer sent.
                Proposal.objects.filter(
                    consent=consent, status__in=[ProposalStatus.CONSENTED, ProposalStatus.PAPER]
                ).update(status=ProposalStatus.CANCELLED)
            event_record(
                action="disclosures.consent.withdrawn",
                request=request,
                actor=actor,
                object_type=COACHEE,
                object_id=consent.coachee.pseudonym,
                detail={"consent": consent.pk, "purpose": consent.purpose},
            )
    return consent


def disclosure_record(
    *,
    actor: User,
    request: HttpRequest | None,
    coachee: Coachee,
    recipient: Recipient,
    categories: list[str],
    processing_purpose: ProcessingPurpose,
    basis: str,
    legal_ground: str = "",
    consent: Consent | None = None,
) -> Disclosure:
    """Record (and so allow) one disclosure, or refuse it with the reason (art. 1.10, 9.1).
    Staff send through a proposal (`proposal_send`), which ends here."""
    require_manager(actor)
    categories = _categories_check(categories)
    _recipient_check(recipient)
    _purpose_check(processing_purpose)
    coachee = Coachee.objects.get(pk=coachee.pk)
    _restriction_check(coachee)
    if basis == Basis.LEGAL_DUTY:
        if not legal_ground.strip():
            raise ValidationError(_("Name the statute or order that requires the disclosure."))
        consent = None
    elif basis == Basis.CONSENT:
        legal_ground = ""
        if consent is None:
            raise ValidationError(_("Choose the coachee's consent that covers this disclosure."))
        consent = Consent.objects.get(pk=consent.pk)
        if consent.withdrawn_at is not None or not consent.given:
            raise ValidationError(
                _("This consent has been withdrawn: it no longer allows a disclosure.")
            )
        if (
            consent.coachee_id != coachee.pk
            or consent.purpose != Purpose.DISCLOSURE
            or consent.recipient_id != recipient.pk
            or consent.processing_purpose_id != processing_purpose.pk
        ):
            raise ValidationError(_("This consent does not cover this recipient and purpose."))
        if not consent_counts(consent):
            raise ValidationError(
                _("Only the coachee's consent in the portal, or a paper consent confirmed by "
                  "an owner, allows a disclosure.")
            )
    else:
        raise ValidationError(
            _("A disclosure needs a basis: a legal duty or the coachee's consent.")
        )
    with transaction.atomic():
        disclosure = Disclosure.objects.create(
            coachee=coachee,
            coachee_pseudonym=coachee.pseudonym,
            recipient=recipient,
            categories=",".join(categories),
            processing_purpose=processing_purpose,
            basis=basis,
            legal_ground_enc=sealed.seal(coachee, SEALED_DISCLOSURE["legal_ground"], legal_ground),
            consent=consent,
            disclosed_by=actor,
        )
        event_record(
            action="disclosures.disclosure.recorded",
            request=request,
            actor=actor,
            object_type=COACHEE,
            object_id=coachee.pseudonym,
            detail={"disclosure": disclosure.pk, "recipient": recipient.pk, "basis": basis},
        )
    return disclosure


def recipients_of(coachee: Coachee) -> list[Recipient]:
    """Everyone the coachee's data went to (art. 8.4: they are told of corrections)."""
    return list(Recipient.objects.filter(disclosures__coachee=coachee).distinct().order_by("name"))


# --- checks shared by every road (art. 2.1, 9.1) ------------------------------------------


def _categories_check(categories: list[str]) -> list[str]:
    categories = sorted(set(categories))
    if not categories or any(c not in Category.values for c in categories):
        raise ValidationError(_("Choose which categories of data are disclosed."))
    return categories


def _recipient_check(recipient: Recipient) -> None:
    """Art. 9.1: the client organisation that pays for the coaching never receives personal
    data of the coachee, whatever the category and whatever the coachee agrees to."""
    if recipient.kind == RecipientKind.CLIENT:
        raise ValidationError(
            _("A client organisation never receives a coachee's personal data: not the "
              "contact details, not the trajectory data, not the session keywords.")
        )


def _purpose_check(purpose: ProcessingPurpose | None) -> None:
    """Art. 2.1, 2.2: only a purpose on the practice's list, and still in use."""
    if purpose is None or not ProcessingPurpose.objects.filter(
        pk=purpose.pk, active=True
    ).exists():
        raise ValidationError(_("Choose a purpose from the practice's list of purposes."))


def _restriction_check(coachee: Coachee) -> None:
    if coachee.restricted:
        raise ValidationError(
            _("Processing of this coachee's data is restricted: nothing may be disclosed.")
        )


# --- proposals: prepared by staff, seen and answered by the coachee (art. 9.1, 9.2) -------

SEALED_PROPOSAL = {"content": "proposal_content", "legal_ground": "proposal_legal_ground"}
SENDABLE = (ProposalStatus.CONSENTED, ProposalStatus.READY)


def proposal_content(proposal: Proposal) -> dict[str, Any]:
    """What the recipient would receive, built from the data as it is now. The ONE source of
    both the coachee's preview in the portal and the file staff send (art. 9.2): what the
    coachee saw is what leaves. Labels in Dutch, the language of the file."""
    coachee = proposal.coachee
    categories = proposal.category_list()
    with override("nl"):
        content: dict[str, Any] = {
            "coachee": coachee.pseudonym,
            "recipient": proposal.recipient.name,
            "purpose": str(proposal.processing_purpose.label),
            "basis": proposal.basis,
            "categories": categories,
        }
    if proposal.basis == Basis.LEGAL_DUTY:
        content["legal_ground"] = proposal.legal_ground
    if Category.CONTACT in categories:
        contact = vault.open_contact(coachee)
        content["contact"] = {
            "first_name": contact.first_name,
            "last_name": contact.last_name,
            "email": contact.email,
            "phone": contact.phone,
        }
    if Category.TRAJECTORY in categories:
        content["trajectories"] = [
            {
                "pseudonym": t.pseudonym,
                "status": t.status,
                "start": str(t.started_on or ""),
                "end": str(t.ended_on or ""),
            }
            for t in coachee.trajectories.order_by("created_at", "pk")
        ]
    if Category.KEYWORDS in categories:
        from coachregister.notes.models import CoachingSession
        from coachregister.notes.services import read_version

        sessions = (
            CoachingSession.objects.filter(trajectory__coachee=coachee)
            .order_by("held_on", "pk")
            .prefetch_related("versions")
        )
        content["sessions"] = [
            {"date": str(s.held_on), "keywords": read_version(coachee, versions[-1])[0]}
            for s in sessions
            if (versions := list(s.versions.all()))
        ]
    return content


def content_digest(content: dict[str, Any]) -> str:
    """A fingerprint of the content: named in the consent's text version, so the consent
    record says which content it covered without holding any of it."""
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def consent_statement(proposal: Proposal) -> str:
    """The statement the coachee agrees to: who receives and why, no personal data."""
    return _(
        "I agree that the practice provides the data shown to me to %(recipient)s, for this "
        "purpose: %(purpose)s."
    ) % {"recipient": proposal.recipient.name, "purpose": proposal.processing_purpose.label}


def _seal_content(proposal: Proposal, content: dict[str, Any]) -> bytes | None:
    return sealed.seal(
        proposal.coachee, SEALED_PROPOSAL["content"], json.dumps(content, ensure_ascii=False)
    )


def consented_content(proposal: Proposal) -> dict[str, Any] | None:
    """The content the coachee consented to (or that was sent), or None."""
    text = sealed.unseal(proposal.coachee, SEALED_PROPOSAL["content"], proposal.content_enc)
    try:
        return json.loads(text) if text else None
    except json.JSONDecodeError:  # "(erased)"
        return None


def _notice_send(proposal: Proposal) -> None:
    """Tell the coachee there is something to look at in the portal. The mail holds nothing
    about the disclosure: only the greeting and the way to the portal (art. 9.2). Nothing
    goes to a coachee whose data is restricted since (art. 8.1, GDPR art. 18)."""
    coachee = proposal.coachee
    if Coachee.objects.filter(pk=coachee.pk, restricted=True).exists():
        return
    contact = vault.open_contact(coachee)
    link = settings.COACHREGISTER_BASE_URL.rstrip("/") + reverse("rights:portal_start")
    with override("nl"):
        body = render_to_string(
            "disclosures/mail_proposal_notice.txt", {"contact": contact, "link": link}
        )
        subject = _("Something to look at in your portal")
    message_enqueue(
        kind="proposal_notice", to=contact.email, subject=subject, body=body,
        coachee_pseudonym=coachee.pseudonym,
    )


def _proposal_event(action: str, proposal: Proposal, request: HttpRequest | None,
                    actor: User | None, **detail: Any) -> None:
    event_record(
        action=f"disclosures.proposal.{action}",
        request=request,
        actor=actor,
        object_type=COACHEE,
        object_id=proposal.coachee.pseudonym,
        detail={"proposal": proposal.pk, **detail},
    )


def proposal_prepare(
    *,
    actor: User,
    request: HttpRequest | None,
    coachee: Coachee,
    recipient: Recipient,
    processing_purpose: ProcessingPurpose,
    categories: list[str],
    basis: str,
    legal_ground: str = "",
) -> Proposal:
    """Staff prepare a disclosure (art. 9.1). With a legal duty (the statute named) it is
    ready at once; otherwise the coachee is asked in the portal and nothing leaves before
    they consent (art. 9.2)."""
    require_manager(actor)
    categories = _categories_check(categories)
    _recipient_check(recipient)
    _purpose_check(processing_purpose)
    coachee = Coachee.objects.get(pk=coachee.pk)
    _restriction_check(coachee)
    if basis == Basis.LEGAL_DUTY:
        if not legal_ground.strip():
            raise ValidationError(_("Name the statute or order that requires the disclosure."))
        status = ProposalStatus.READY
    elif basis == Basis.CONSENT:
        legal_ground = ""
        status = ProposalStatus.ASKED
    else:
        raise ValidationError(
            _("A disclosure needs a basis: a legal duty or the coachee's consent.")
        )
    with transaction.atomic():
        proposal = Proposal.objects.create(
            coachee=coachee,
            recipient=recipient,
            processing_purpose=processing_purpose,
            categories=",".join(categories),
            basis=basis,
            legal_ground_enc=sealed.seal(coachee, SEALED_PROPOSAL["legal_ground"], legal_ground),
            status=status,
            prepared_by=actor,
        )
        if status == ProposalStatus.ASKED:
            _notice_send(proposal)
        _proposal_event("prepared", proposal, request, actor, recipient=recipient.pk,
                        basis=basis, categories=",".join(categories), status=status)
    return proposal


def _asked(proposal: Proposal) -> Proposal:
    proposal = Proposal.objects.select_for_update().select_related(
        "coachee", "recipient", "processing_purpose"
    ).get(pk=proposal.pk)
    if proposal.status != ProposalStatus.ASKED:
        raise ValidationError(_("This disclosure no longer waits for an answer."))
    _restriction_check(proposal.coachee)
    return proposal


def _consent_take(
    proposal: Proposal,
    content: dict[str, Any],
    actor: User | None,
    request: HttpRequest | None,
    method: str,
) -> Consent:
    """Record the consent to this proposal's `content` (its text version names the content's
    fingerprint) and keep that content sealed, to compare with what is sent (art. 9.2)."""
    given = consent_record(
        actor=actor,
        request=request,
        coachee=proposal.coachee,
        recipient=proposal.recipient,
        processing_purpose=proposal.processing_purpose,
        text=consent_statement(proposal),
        text_version=f"P{proposal.pk}-{content_digest(content)[:10]}",
        method=method,
    )
    proposal.consent = given
    proposal.content_enc = _seal_content(proposal, content)
    return given


def proposal_answer(
    *,
    request: HttpRequest | None,
    coachee: Coachee,
    proposal: Proposal,
    consent: bool,
    digest: str = "",
) -> Proposal:
    """The coachee's answer in the portal (art. 9.2). Consenting covers the content whose
    digest the preview showed: if the data changed meanwhile, the coachee is shown the new
    content first. The consented content is kept sealed, to compare at sending."""
    with transaction.atomic():
        proposal = _asked(proposal)
        if proposal.coachee_id != coachee.pk:
            raise PermissionDenied
        proposal.answered_at = timezone.now()
        if not consent:
            proposal.status = ProposalStatus.REFUSED
            proposal.save(update_fields=["status", "answered_at"])
            _proposal_event("refused", proposal, request, None)
            return proposal
        content = proposal_content(proposal)
        current = content_digest(content)
        if digest != current:
            raise ValidationError(
                _("Your data changed since this page was opened. Look at it again before "
                  "you answer.")
            )
        given = _consent_take(proposal, content, None, request, Method.PORTAL)
        proposal.status = ProposalStatus.CONSENTED
        proposal.save(update_fields=["consent", "content_enc", "status", "answered_at"])
        _proposal_event("consented", proposal, request, None, consent=given.pk)
    return proposal


def proposal_paper_record(
    *, actor: User, request: HttpRequest | None, proposal: Proposal
) -> Proposal:
    """The coachee signed the printed content on paper; staff record it (art. 9.1). It counts
    only after an owner, another person, confirms it (`proposal_paper_confirm`)."""
    require_manager(actor)
    with transaction.atomic():
        proposal = _asked(proposal)
        given = _consent_take(proposal, proposal_content(proposal), actor, request,
                              Method.PAPER)
        proposal.status = ProposalStatus.PAPER
        proposal.answered_at = timezone.now()
        proposal.save(update_fields=["consent", "content_enc", "status", "answered_at"])
        _proposal_event("paper_recorded", proposal, request, actor, consent=given.pk)
    return proposal


def proposal_paper_confirm(
    *, actor: User, request: HttpRequest | None, proposal: Proposal
) -> Proposal:
    """An owner confirms the paper consent someone else recorded (art. 9.1)."""
    if actor.role != "owner":
        raise PermissionDenied(_("Only an owner confirms a paper consent."))
    with transaction.atomic():
        proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
        if proposal.status != ProposalStatus.PAPER or proposal.consent is None:
            raise ValidationError(_("This disclosure has no paper consent to confirm."))
        consent_confirm(actor=actor, request=request, consent=proposal.consent)
        proposal.status = ProposalStatus.CONSENTED
        proposal.save(update_fields=["status"])
        _proposal_event("paper_confirmed", proposal, request, actor)
    return proposal


def _ask_again(proposal: Proposal, request: HttpRequest | None, actor: User) -> None:
    with transaction.atomic():
        proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
        proposal.status = ProposalStatus.ASKED
        proposal.consent = None
        proposal.content_enc = None
        proposal.answered_at = None
        proposal.save(update_fields=["status", "consent", "content_enc", "answered_at"])
        _notice_send(proposal)
        _proposal_event("asked_again", proposal, request, actor)


def proposal_send(
    *, actor: User, request: HttpRequest | None, proposal: Proposal
) -> tuple[Disclosure, dict[str, Any]]:
    """Send a consented (or legally required) disclosure: rebuild the content; if it is not
    what the coachee consented to (the data changed after consent), refuse and ask the
    coachee again (art. 9.2). Else the register entry is made (art. 1.10) and the content
    returned for the file that goes to the recipient; the export is audited as a reading of
    the coachee's data, so it shows in "who saw my data"."""
    require_manager(actor)
    proposal = Proposal.objects.select_related(
        "coachee", "recipient", "processing_purpose", "consent"
    ).get(pk=proposal.pk)
    if proposal.status not in SENDABLE:
        raise ValidationError(
            _("Only a disclosure the coachee consented to, or one a legal duty requires, is "
              "sent.")
        )
    _restriction_check(proposal.coachee)
    _recipient_check(proposal.recipient)
    content = proposal_content(proposal)
    if proposal.status == ProposalStatus.CONSENTED and consented_content(proposal) != content:
        _ask_again(proposal, request, actor)
        raise ValidationError(
            _("The data changed after the coachee consented: nothing was sent, and the "
              "coachee has been asked again.")
        )
    with transaction.atomic():
        locked = Proposal.objects.select_for_update().get(pk=proposal.pk)
        if locked.status != proposal.status:
            raise ValidationError(_("This disclosure changed meanwhile; look again."))
        disclosure = disclosure_record(
            actor=actor,
            request=request,
            coachee=proposal.coachee,
            recipient=proposal.recipient,
            categories=proposal.category_list(),
            processing_purpose=proposal.processing_purpose,
            basis=proposal.basis,
            legal_ground=proposal.legal_ground,
            consent=proposal.consent,
        )
        proposal.disclosure = disclosure
        proposal.status = ProposalStatus.SENT
        proposal.content_enc = _seal_content(proposal, content)
        proposal.save(update_fields=["disclosure", "status", "content_enc"])
        _proposal_event("sent", proposal, request, actor, disclosure=disclosure.pk)
        _proposal_event("exported", proposal, request, actor, disclosure=disclosure.pk,
                        categories=proposal.categories)
    return disclosure, content
