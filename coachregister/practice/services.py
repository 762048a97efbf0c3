"""Writes for the practice settings, each with its audit event (art. 2, 12.2)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from coachregister.audit.services import event_record
from coachregister.keys import keyring
from coachregister.lib import crypto
from coachregister.practice.models import (
    DecisionEntry,
    PracticeSettings,
    ProcessingPurpose,
    PurposeBasis,
    RegulationVersion,
)

if TYPE_CHECKING:
    from coachregister.accounts.models import User


def practice_update(
    *, actor: User | None, request: HttpRequest | None, **values: Any
) -> PracticeSettings:
    """Change settings. Only owners set policy (art. 1.4, 10.1); `actor=None` is the setup
    command run by the operator on the server."""
    if actor is not None and actor.role != "owner":
        raise PermissionDenied(_("Only an owner changes the practice settings."))
    with transaction.atomic():
        practice = PracticeSettings.load()
        practice = PracticeSettings.objects.select_for_update().get(pk=practice.pk)
        changed = []
        for field, value in values.items():
            if getattr(practice, field) != value:
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
    return practice


def regulation_text(practice: PracticeSettings) -> str:
    """The regulation as generated from the settings (Dutch, the binding language)."""
    from django.template.loader import render_to_string
    from django.utils.translation import override

    with override("nl"):
        return render_to_string("practice/regulation.txt", {"practice": practice}).strip()


def regulation_publish(
    *, actor: User | None, request: HttpRequest | None, version: str
) -> RegulationVersion:
    """Publish the regulation as generated now, under a new version label."""
    if actor is not None and actor.role != "owner":
        raise PermissionDenied(_("Only an owner publishes the privacy regulation."))
    with transaction.atomic():
        if RegulationVersion.objects.filter(version=version).exists():
            raise ValidationError(_("This version already exists."))
        regulation = RegulationVersion.objects.create(
            version=version, text=regulation_text(PracticeSettings.load())
        )
        event_record(
            action="practice.regulation.published", request=request, actor=actor,
            object_type="regulation", object_id=version,
        )
    return regulation


def purpose_add(
    *, actor: User, request: HttpRequest | None, name: str, basis: str
) -> ProcessingPurpose:
    """Add a purpose the register allows, with its basis (art. 2.1, 2.2). Only owners decide
    what the practice processes data for (art. 1.4)."""
    if actor.role != "owner":
        raise PermissionDenied(_("Only an owner changes the purposes the register allows."))
    name = " ".join(name.split())
    if not name:
        raise ValidationError(_("Name the purpose."))
    if basis not in PurposeBasis.values:
        raise ValidationError(_("Choose the basis of the purpose."))
    with transaction.atomic():
        if ProcessingPurpose.objects.filter(name__iexact=name, active=True).exists():
            raise ValidationError(_("This purpose is already on the list."))
        purpose = ProcessingPurpose.objects.create(name=name, basis=basis)
        event_record(
            action="practice.purpose.added", request=request, actor=actor,
            object_type="purpose", object_id=str(purpose.pk), detail={"basis": basis},
        )
    return purpose


def purpose_retire(
    *, actor: User, request: HttpRequest | None, purpose: ProcessingPurpose
) -> ProcessingPurpose:
    """Take a purpose off the list for new consents and disclosures (art. 2.1). It stays in
    the database: earlier records keep naming it. The practice's own purpose stays."""
    if actor.role != "owner":
        raise PermissionDenied(_("Only an owner changes the purposes the register allows."))
    with transaction.atomic():
        purpose = ProcessingPurpose.objects.select_for_update().get(pk=purpose.pk)
        if purpose.code == ProcessingPurpose.BUILTIN_COACHING:
            raise ValidationError(_("The practice's own purpose cannot be retired."))
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
