"""Writes for the practice settings, each with its audit event (art. 2, 12.2)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from coachregister.audit.services import event_record
from coachregister.keys import keyring
from coachregister.lib import crypto, net
from coachregister.practice.models import (
    DecisionEntry,
    PendingChange,
    PracticeSettings,
    ProcessingPurpose,
    PurposeBasis,
    RegulationVersion,
    validate_networks,
)

if TYPE_CHECKING:
    from coachregister.accounts.models import User


def _published() -> bool:
    """A promise exists once a regulation is published (Werkwijze): before that, settings
    act at once and the first publication states them."""
    return RegulationVersion.objects.exists()


def pending_open(target: str) -> PendingChange | None:
    """The one open pending change of a target ("practice", "retention", "purposes" or
    "complaints"), if any."""
    return PendingChange.objects.filter(
        target=target, applied_at=None, withdrawn_at=None
    ).order_by("id").first()


def pending_merge(
    *, actor: User | None, request: HttpRequest | None, target: str,
    waiting: dict[str, Any], acting: set[str],
) -> PendingChange | None:
    """Merge weakening values into the one open pending change of `target` (art. 2): the
    newest proposal per field wins. Fields in `acting` were just changed to a value that acts
    at once: a pending value for them is superseded and dropped. Call inside a transaction."""
    change = (PendingChange.objects.select_for_update()
              .filter(target=target, applied_at=None, withdrawn_at=None).order_by("id").first())
    if change is None and not waiting:
        return None
    values = dict(change.values) if change is not None else {}
    dropped = sorted(field for field in acting if field in values and field not in waiting)
    for field in dropped:
        del values[field]
    values.update({field: (str(value) if isinstance(value, Decimal) else value)
                   for field, value in waiting.items()})
    if change is None:
        change = PendingChange.objects.create(target=target, values=values, proposed_by=actor)
    elif values != change.values:
        change.values = values
        change.proposed_by = actor
        change.proposed_at = timezone.now()
        if not values:  # everything in it was superseded by a change that acts at once
            change.withdrawn_at = timezone.now()
        change.save()
    else:
        return change
    event_record(
        action="practice.pending_change.withdrawn" if not values
        else "practice.pending_change.proposed",
        request=request, actor=actor, object_type="pending_change", object_id=str(change.pk),
        detail={"target": target, "fields": ",".join(sorted(values)),
                "superseded": ",".join(dropped)},
    )
    return change if change.is_open else None


def pending_withdraw(
    *, actor: User, request: HttpRequest | None, change: PendingChange
) -> PendingChange:
    """Withdraw a pending change before publication (art. 2): the promise in force stays."""
    if actor.role != "owner":
        raise PermissionDenied(_("Only an owner withdraws a pending change."))
    with transaction.atomic():
        change = PendingChange.objects.select_for_update().get(pk=change.pk)
        if not change.is_open:
            raise ValidationError(_("This change is no longer waiting."))
        change.withdrawn_at = timezone.now()
        change.save(update_fields=["withdrawn_at"])
        event_record(
            action="practice.pending_change.withdrawn", request=request, actor=actor,
            object_type="pending_change", object_id=str(change.pk),
            detail={"target": change.target, "fields": ",".join(sorted(change.values))},
        )
    return change


def practice_update(
    *, actor: User | None, request: HttpRequest | None, **values: Any
) -> PracticeSettings:
    """Change settings. Only owners set policy (art. 1.4, 10.1); `actor=None` is the setup
    command run by the operator on the server.

    Art. 2, 12.2: once a regulation is published, a change that weakens one of its promises
    (promises.weakening) does not act: it waits as a PendingChange until the regulation that
    states it is published. Added office networks wait while removed ones go at once."""
    from coachregister.practice import promises

    if actor is not None and actor.role != "owner":
        raise PermissionDenied(_("Only an owner changes the practice settings."))
    with transaction.atomic():
        practice = PracticeSettings.load()
        practice = PracticeSettings.objects.select_for_update().get(pk=practice.pk)
        published = _published()
        changed = []
        waiting: dict[str, Any] = {}
        for field, value in values.items():
            old = getattr(practice, field)
            if old == value:
                continue
            if published and promises.weakening("practice", field, old, value):
                if field == "office_networks":
                    # The removals act now; the additions wait.
                    validate_networks(value)
                    before = {str(n) for n in practice.office_network_list()}
                    kept = [line.strip() for line in value.splitlines() if line.strip()
                            and str(net.parse_networks([line])[0]) in before]
                    waiting[field] = value
                    value = "\n".join(kept)
                    if value == old:
                        continue
                else:
                    waiting[field] = value
                    continue
            setattr(practice, field, value)
            changed.append(field)
        if changed:
            practice.full_clean()
            practice.save()
            event_record(
                action="practice.settings.changed",
                request=request,
                actor=actor,
                object_type="practice",
                object_id=str(practice.pk),
                detail={"fields": ",".join(sorted(changed))},
            )
        if published:
            pending_merge(actor=actor, request=request, target="practice", waiting=waiting,
                          acting=set(changed) - set(waiting))
    return practice


def regulation_text(
    source: PracticeSettings | dict[str, Any] | None = None, *, language: str = "nl",
    promises: dict[str, Any] | None = None, version: str = "",
) -> str:
    """The full regulation generated from the promises (art. 2; Dutch is binding, English a
    translation). `source` may be the promises, settings (possibly unsaved, for a preview)
    or nothing (the settings in force)."""
    from django.template.loader import render_to_string
    from django.utils.translation import override

    from coachregister.practice import promises as promise_module

    if promises is None:
        if isinstance(source, dict):
            promises = source
        elif source is not None:
            promises = promise_module.from_settings(source)
        else:
            promises = promise_module.current()
    language = "en" if language == "en" else "nl"
    with override(language):
        text = render_to_string(
            f"practice/regulation/{language}.txt",
            _regulation_context(promises, language, version),
        )
    # The templates are written for legibility; the text keeps single blank lines.
    lines = [line.rstrip() for line in text.strip().splitlines()]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()


_WORDS = {
    "nl": ["nul", "één", "twee", "drie", "vier", "vijf", "zes", "zeven", "acht", "negen",
           "tien", "elf", "twaalf"],
    "en": ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
           "ten", "eleven", "twelve"],
}


def _regulation_context(promises: dict[str, Any], language: str, version: str) -> dict:
    """The promises with their labels and small numbers in words, for the templates."""
    from coachregister.practice.models import ProcessorService, PurposeBasis, TransferBasis

    words = _WORDS[language]

    def word(n: Any) -> str:
        n = int(n)
        return words[n] if 0 <= n < len(words) else str(n)

    services = dict(ProcessorService.choices)
    transfers = dict(TransferBasis.choices)
    bases = dict(PurposeBasis.choices)
    processors = [
        {**p, "service_label": str(services.get(p["service"], p["service"])),
         "transfer_label": str(transfers.get(p["transfer_basis"], p["transfer_basis"]))}
        for p in promises.get("processors", [])
    ]
    purposes = [
        {**p, "label": (str(ProcessingPurpose(code=p["code"]).label)
                        if p["code"] else p["name"]),
         "basis_label": str(bases.get(p["basis"], p["basis"]))}
        for p in promises.get("purposes", [])
    ]
    fee = Decimal(str(promises.get("further_copy_fee") or 0))
    return {
        "p": promises,
        "version": version,
        "address_line": ", ".join(
            line.strip() for line in str(promises.get("address") or "").splitlines()
            if line.strip()),
        "processors": processors,
        "mail_processors": [p for p in processors if p["service"] == "mail_storage"],
        "purposes": purposes,
        "fee": fee,
        "fee_text": f"{fee:.2f}".replace(".", "," if language == "nl" else "."),
        "answer_weeks": word(promises["answer_weeks"]),
        "extension_months": word(promises["extension_months"]),
        "retention_years": word(promises["retention_years"]),
        "purge_window_years": word(promises["purge_window_years"]),
        "client_contact_years": word(promises["client_contact_years"]),
        "staff_years": word(promises["staff_years"]),
        "audit_years": word(promises["audit_years"]),
        "complaints": promises.get("complaints", {}),
    }


def next_label() -> str:
    """"YYYY.N": the year of publication and the next number within it."""
    year = timezone.localdate().year
    n = RegulationVersion.objects.filter(version__startswith=f"{year}.").count() + 1
    while RegulationVersion.objects.filter(version=f"{year}.{n}").exists():
        n += 1
    return f"{year}.{n}"


def _apply_pending(
    *, actor: User | None, request: HttpRequest | None, regulation: RegulationVersion,
) -> list[PendingChange]:
    """Art. 2: the waiting changes act now that the regulation stating them is published.
    Practice settings are saved; a retention change becomes a new policy version, as
    retention.services.policy_set makes one; waiting purposes come into use (art. 2.2) and
    the longer complaint terms apply to complaints received from now on (art. 11.2)."""
    from coachregister.complaints.models import ComplaintProcedure
    from coachregister.retention.models import RetentionPolicy

    applied = []
    now = timezone.now()
    for change in (PendingChange.objects.select_for_update()
                   .filter(applied_at=None, withdrawn_at=None).order_by("id")):
        if change.target == "practice":
            practice = PracticeSettings.objects.select_for_update().get(
                pk=PracticeSettings.load().pk)
            for field, value in change.values.items():
                setattr(practice, field, value)
            practice.full_clean()
            practice.save()
            event_record(
                action="practice.settings.changed", request=request, actor=actor,
                object_type="practice", object_id=str(practice.pk),
                detail={"fields": ",".join(sorted(change.values)), "published": True},
            )
        elif change.target == "retention":
            last = RetentionPolicy.objects.select_for_update().order_by("-version").first()
            base = last or RetentionPolicy(version=0)
            fields = {name: getattr(base, name) for name in (
                "years", "statute", "client_contact_years", "staff_years", "audit_years",
                "idle_months")}
            fields.update(change.values)
            fields["audit_years"] = max(int(fields["audit_years"]), int(fields["years"]))
            policy = RetentionPolicy.objects.create(
                version=(last.version if last else 0) + 1, created_by=actor, **fields)
            event_record(
                action="retention.policy.changed", request=request, actor=actor,
                object_type="retention_policy", object_id=str(policy.version),
                detail={"years": policy.years, "audit_years": policy.audit_years,
                        "client_contact_years": policy.client_contact_years,
                        "staff_years": policy.staff_years,
                        "with_statute": bool(policy.statute), "published": True},
            )
        elif change.target == "purposes":
            waiting = [int(pk) for pk in change.values.get("activate", [])]
            for purpose in ProcessingPurpose.objects.select_for_update().filter(
                    pk__in=waiting, active=False).order_by("pk"):
                purpose.active = True
                purpose.save(update_fields=["active"])
                event_record(
                    action="practice.purpose.activated", request=request, actor=actor,
                    object_type="purpose", object_id=str(purpose.pk),
                    detail={"published": True},
                )
        elif change.target == "complaints":
            procedure = ComplaintProcedure.objects.select_for_update().get(
                pk=ComplaintProcedure.load().pk)
            for field, value in change.values.items():
                setattr(procedure, field, value)
            procedure.updated_at, procedure.updated_by = now, actor
            procedure.full_clean()
            procedure.save()
            event_record(
                action="complaints.procedure.saved", request=request, actor=actor,
                object_type="procedure", object_id=str(procedure.pk),
                detail={"changed": ",".join(sorted(change.values)), "published": True},
            )
        change.applied_at = now
        change.regulation = regulation
        change.save(update_fields=["applied_at", "regulation"])
        applied.append(change)
    return applied


def regulation_publish(
    *, actor: User | None, request: HttpRequest | None, version: str | None = None,
    material: bool | None = None,
) -> RegulationVersion:
    """Publish the regulation (art. 2, Werkwijze): the waiting changes act, the text is
    generated in Dutch (binding) and English from the resulting settings and kept with its
    promises. A change is material when a material promise differs from the previous
    version's (or when the owner says so); then each coachee still in the register is told
    by mail (GDPR 13(3), 14(4) by analogy: a changed processing is made known), and the
    portal shows the date of the change."""
    from coachregister.practice import promises as promise_module

    if actor is not None and actor.role != "owner":
        raise PermissionDenied(_("Only an owner publishes the privacy regulation."))
    version = (version or "").strip()
    if len(version) > 20:
        raise ValidationError(_("A version label has at most 20 characters."))
    with transaction.atomic():
        previous = RegulationVersion.objects.select_for_update().order_by(
            "-published_at", "-id").first()
        version = version or next_label()
        if RegulationVersion.objects.filter(version=version).exists():
            raise ValidationError(_("This version already exists."))
        try:
            # A concurrent publication may take the same (automatic) label between the check
            # above and this insert: the unique version refuses it, the savepoint keeps the
            # transaction usable, and the owner gets a message instead of an error page.
            with transaction.atomic():
                regulation = RegulationVersion.objects.create(
                    version=version, text="", published_by=actor)
        except IntegrityError:
            raise ValidationError(_("This version already exists.")) from None
        applied = _apply_pending(actor=actor, request=request, regulation=regulation)
        promises = promise_module.current()
        # A version published before promises were stored has none to compare with: then
        # nothing counts as changed, and the change is material only if the owner says so.
        changed = (promise_module.material_difference(previous.promises, promises)
                   if previous is not None and previous.promises else [])
        regulation.text = regulation_text(promises, language="nl", version=version)
        regulation.text_en = regulation_text(promises, language="en", version=version)
        regulation.promises = promise_module.as_json(promises)
        regulation.material = previous is not None and (bool(material) or bool(changed))
        regulation.save(update_fields=["text", "text_en", "promises", "material"])
        event_record(
            action="practice.regulation.published", request=request, actor=actor,
            object_type="regulation", object_id=version,
            detail={"material": regulation.material, "changed": ",".join(changed),
                    "applied": ",".join(str(c.pk) for c in applied)},
        )
        if regulation.material:
            told, failed = _tell_coachees(regulation, changed, request=request, actor=actor)
            event_record(
                action="practice.regulation.coachees_told", request=request, actor=actor,
                object_type="regulation", object_id=version,
                detail={"count": told, "failed": failed},
            )
    return regulation


REGULATION_MAIL_KIND = "regulation_changed"

# Plain words for what changed, in the mail (no list of setting names).
_TOPICS = {
    "answer_weeks": "answer", "extension_allowed": "answer", "extension_months": "answer",
    "further_copy_fee": "fee", "unknown_requester_days": "retention",
    "retention_years": "retention", "retention_statute": "retention",
    "purge_window_years": "retention", "client_contact_years": "retention",
    "staff_years": "retention", "audit_years": "retention", "backup_age_days": "retention",
    "epoch_days": "retention", "erasure_bound_days": "retention",
    "office_networks": "security", "two_factor_everywhere": "security",
    "coach_mail_includes_contact_details": "access", "processors": "processors",
    "purposes": "purposes", "complaints": "complaints",
}


def _topic_labels() -> dict[str, str]:
    return {
        "answer": _("how quickly we answer your requests"),
        "fee": _("the cost of a further copy of your data"),
        "retention": _("how long we keep data"),
        "security": _("how our staff sign in to the register"),
        "access": _("who receives your contact details"),
        "processors": _("the service providers that process data for us"),
        "purposes": _("the purposes for which we process data"),
        "complaints": _("the complaints procedure"),
    }


def _tell_coachees(
    regulation: RegulationVersion, changed: list[str], *, request: HttpRequest | None,
    actor: User | None,
) -> tuple[int, int]:
    """One mail per coachee still in the register (an erased coachee has no row and is not
    mailed), in the coachee's language, pointing to the portal and the public text. The
    mail names the pseudonym so an erasure finds it. A restricted coachee's data is only
    stored (art. 8, GDPR 18(2)): no mail; the portal shows the change. Each use of a
    coachee's email is an event on that coachee (pseudonym only), written in batches; a
    coachee whose details cannot be opened is counted, not fatal to the publication."""
    from django.conf import settings as django_settings
    from django.template.loader import render_to_string
    from django.urls import reverse
    from django.utils.translation import override

    from coachregister.audit.services import events_record
    from coachregister.coachees import vault
    from coachregister.coachees.models import Coachee
    from coachregister.outbox.services import message_enqueue
    from coachregister.retention.models import Tombstone

    practice = PracticeSettings.load()
    base = django_settings.COACHREGISTER_BASE_URL.rstrip("/")
    erased = Tombstone.objects.values_list("pseudonym", flat=True)
    count = failed = 0
    events: list[dict[str, Any]] = []
    coachees = (Coachee.objects.exclude(pseudonym__in=erased).filter(restricted=False)
                .order_by("pk"))
    for coachee in coachees.iterator(chunk_size=500):
        try:
            contact = vault.open_contact(coachee)
        except (ValueError, LookupError):  # a key gone in the middle of an erasure
            failed += 1
            continue
        language = "en" if coachee.language == "en" else "nl"
        with override(language):
            labels = _topic_labels()
            topics = sorted({labels[_TOPICS[key]] for key in changed if key in _TOPICS})
            body = render_to_string("practice/regulation/mail_changed.txt", {
                "contact": contact, "practice": practice, "regulation": regulation,
                "topics": topics,
                "portal_link": base + reverse("rights:portal_start"),
                "public_link": base + reverse("practice:regulation_public")
                + f"?lang={language}",
            })
            subject = _("Our privacy regulation has changed")
        message_enqueue(kind=REGULATION_MAIL_KIND, to=contact.email, subject=subject,
                        body=body, coachee_pseudonym=coachee.pseudonym)
        events.append({"action": "practice.regulation.coachee_told", "object_type": "coachee",
                       "object_id": coachee.pseudonym,
                       "detail": {"regulation": regulation.version}})
        count += 1
        if len(events) >= 500:
            events_record(events, request=request, actor=actor)
            events = []
    events_record(events, request=request, actor=actor)
    return count, failed


def purposes_waiting(*, lock: bool = False) -> list[int]:
    """The purposes added since the last publication, waiting for the version that states
    them (art. 2.2): the "activate" list of the open "purposes" pending change."""
    changes = PendingChange.objects.filter(target="purposes", applied_at=None,
                                           withdrawn_at=None).order_by("id")
    if lock:
        changes = changes.select_for_update()
    change = changes.first()
    return [int(pk) for pk in change.values.get("activate", [])] if change is not None else []


def purpose_add(
    *, actor: User, request: HttpRequest | None, name: str, basis: str
) -> ProcessingPurpose:
    """Add a purpose the register allows, with its basis (art. 2.1, 2.2). Only owners decide
    what the practice processes data for (art. 1.4).

    Art. 2.2: a new purpose is first stated in a new version of the regulation. Once a
    regulation is published, the purpose is added out of use and waits in the open
    "purposes" PendingChange; publishing the next version puts it in use. Before the first
    publication it is in use at once (the first version states it)."""
    if actor.role != "owner":
        raise PermissionDenied(_("Only an owner changes the purposes the register allows."))
    name = " ".join(name.split())
    if not name:
        raise ValidationError(_("Name the purpose."))
    if basis not in PurposeBasis.values:
        raise ValidationError(_("Choose the basis of the purpose."))
    with transaction.atomic():
        published = _published()
        waiting = purposes_waiting(lock=True) if published else []
        if ProcessingPurpose.objects.filter(name__iexact=name).filter(
                Q(active=True) | Q(pk__in=waiting)).exists():
            raise ValidationError(_("This purpose is already on the list."))
        purpose = ProcessingPurpose.objects.create(name=name, basis=basis,
                                                   active=not published)
        event_record(
            action="practice.purpose.added", request=request, actor=actor,
            object_type="purpose", object_id=str(purpose.pk),
            detail={"basis": basis, **({"waiting": True} if published else {})},
        )
        if published:
            pending_merge(actor=actor, request=request, target="purposes",
                          waiting={"activate": [*waiting, purpose.pk]}, acting=set())
    return purpose


def purpose_retire(
    *, actor: User, request: HttpRequest | None, purpose: ProcessingPurpose
) -> ProcessingPurpose:
    """Take a purpose off the list for new consents and disclosures (art. 2.1). It stays in
    the database: earlier records keep naming it. The practice's own purpose stays. Fewer
    purposes is a stronger promise: it acts at once; a purpose still waiting for publication
    (art. 2.2) leaves the waiting list and will not come into use."""
    if actor.role != "owner":
        raise PermissionDenied(_("Only an owner changes the purposes the register allows."))
    with transaction.atomic():
        purpose = ProcessingPurpose.objects.select_for_update().get(pk=purpose.pk)
        if purpose.code == ProcessingPurpose.BUILTIN_COACHING:
            raise ValidationError(_("The practice's own purpose cannot be retired."))
        waiting = purposes_waiting(lock=True)
        if purpose.pk in waiting:
            rest = [pk for pk in waiting if pk != purpose.pk]
            pending_merge(actor=actor, request=request, target="purposes",
                          waiting={"activate": rest} if rest else {}, acting={"activate"})
            event_record(
                action="practice.purpose.retired", request=request, actor=actor,
                object_type="purpose", object_id=str(purpose.pk), detail={"waiting": True},
            )
        if purpose.active:
            purpose.active = False
            purpose.save(update_fields=["active"])
            event_record(
                action="practice.purpose.retired", request=request, actor=actor,
                object_type="purpose", object_id=str(purpose.pk),
            )
    return purpose


# --- decisions in unforeseen cases (art. 4.1e) -------------------------------------------------

DECISION_KEY = "decisions"
DECISION_OBJECT = "decision"
DECISION_FIELDS = ("question", "decision", "reasoning")
MAX_DECISION_TEXT = 4000
DECISION_YEARS = 7  # art. 10.1: the retention period


def _decision_aad(field: str) -> str:
    return f"{DECISION_KEY}:{field}"


def decision_text(entry: DecisionEntry, field: str) -> str:
    """One of the entry's texts, decrypted with the register key it names."""
    key = keyring.register_key_by_id(entry.key_id)
    return crypto.decrypt_text(key, bytes(getattr(entry, f"{field}_enc")), _decision_aad(field))


def decision_guard(text: str, pseudonyms: list[str]) -> None:
    """The name guard (art. 3.1) for text about no single coachee: no email address or phone
    number at all, and for each coachee concerned, not their name or contact details."""
    from coachregister.coachees.models import Coachee
    from coachregister.lib import nameguard
    from coachregister.notes.services import GUARD_MESSAGES, guard

    found = nameguard.check(text, nameguard.Person("", ""))
    if found:
        raise ValidationError([ValidationError(GUARD_MESSAGES[kind], code="name_guard")
                               for kind in found])
    for pseudonym in pseudonyms:
        guard(Coachee.objects.get(pseudonym=pseudonym), text)


def _clean_pseudonyms(value: str) -> list[str]:
    from coachregister.coachees.models import Coachee

    pseudonyms = sorted({p.strip().upper() for p in value.replace(";", ",").split(",")
                         if p.strip()})
    known = set(Coachee.objects.filter(pseudonym__in=pseudonyms)
                .values_list("pseudonym", flat=True))
    if set(pseudonyms) - known:
        raise ValidationError(_("Each pseudonym must be that of a coachee in the register."))
    return pseudonyms


def decision_record(
    *, actor: User, request: HttpRequest | None, decided_on: date, question: str,
    decision: str, reasoning: str, pseudonyms: str = "",
) -> DecisionEntry:
    """Art. 4.1e: the owners decide in cases the regulation does not foresee, and the decision
    is logged. The texts pass the name guard and are encrypted under a register key; the
    entry cannot be changed afterwards (there is no update service and a trigger refuses
    any UPDATE)."""
    if actor.role != "owner":
        raise PermissionDenied(_("Only an owner records decisions in unforeseen cases."))
    texts = {"question": question.strip(), "decision": decision.strip(),
             "reasoning": reasoning.strip()}
    if not all(texts.values()):
        raise ValidationError(_("Fill in the question, the decision and the reasoning."))
    if any(len(text) > MAX_DECISION_TEXT for text in texts.values()):
        raise ValidationError(_("Each text can hold at most 4000 characters."))
    if decided_on > timezone.localdate():
        raise ValidationError(_("A decision cannot be dated in the future."))
    concerned = _clean_pseudonyms(pseudonyms)
    for text in texts.values():
        decision_guard(text, concerned)
    key_id, key = keyring.register_key(DECISION_KEY)
    with transaction.atomic():
        entry = DecisionEntry.objects.create(
            decided_on=decided_on, key_id=key_id, pseudonyms=",".join(concerned),
            recorded_by=actor,
            **{f"{field}_enc": crypto.encrypt_text(key, text, _decision_aad(field))
               for field, text in texts.items()},
        )
        event_record(
            action="practice.decision.recorded", request=request, actor=actor,
            object_type=DECISION_OBJECT, object_id=str(entry.pk),
            detail={"pseudonyms": len(concerned)},
        )
    return entry


def _audit_window_open(auditor: User) -> bool:
    """The certification auditor reads during the window of an engagement (art. 5.4)."""
    from coachregister.audit.models import Engagement

    now = timezone.now()
    return Engagement.objects.filter(auditor=auditor, window_from__lte=now,
                                     window_until__gt=now).exists()


def decisions_read(*, actor: User, request: HttpRequest | None) -> list[dict[str, object]]:
    """The log, decrypted, for the owners, the administrator and the auditor (art. 4.1e,
    5.4); every reading is audited."""
    if actor.role not in ("owner", "administrator", "auditor") or (
        actor.role == "auditor" and not _audit_window_open(actor)
    ):
        raise PermissionDenied(_("You cannot read the decision log."))
    entries = list(DecisionEntry.objects.select_related("recorded_by"))
    event_record(action="practice.decisions.viewed", request=request, actor=actor,
                 object_type=DECISION_OBJECT, detail={"count": len(entries)})
    return [
        {"entry": entry, **{field: decision_text(entry, field) for field in DECISION_FIELDS}}
        for entry in entries
    ]


def decisions_purge(today: date | None = None) -> int:
    """Art. 10.1, 10.2: entries older than the retention period are removed."""
    today = today or timezone.localdate()
    try:
        limit = today.replace(year=today.year - DECISION_YEARS)
    except ValueError:  # 29 February
        limit = today.replace(year=today.year - DECISION_YEARS, day=28)
    with transaction.atomic():
        # From when it was recorded: a date typed in cannot make an entry disappear early.
        count, _rows = DecisionEntry.objects.filter(recorded_at__date__lt=limit).delete()
        if count:
            event_record(action="practice.decisions.purged", object_type=DECISION_OBJECT,
                         detail={"count": count})
    return count
