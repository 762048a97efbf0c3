"""Objects of the processors register for the authorization matrix (tests/test_role_matrix.py)
and the form fuzzing: made on first use inside the test's transaction, through the services."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone


def processor_pk() -> int:
    """An active processor (art. 13), the same for the own and the foreign side: the register
    is the practice's, not a coachee's."""
    from coachregister.accounts.models import Role, User
    from coachregister.practice.models import Processor
    from coachregister.practice.processors import processor_add

    found = Processor.objects.filter(active=True, name="Matrix hosting").first()
    if found is not None:
        return found.pk
    return processor_add(
        actor=User.objects.filter(role=Role.OWNER).order_by("pk").first(), request=None,
        name="Matrix hosting", service="hosting", agreement_name="Verwerkersovereenkomst",
        storage_location="Nederland", data_categories="Het register",
        breach_contact="security@hosting.example",
        next_review=timezone.localdate() + timedelta(days=90),
    ).pk


def snapshot_pk() -> int:
    """A dated snapshot of the record of processing activities (GDPR art. 30)."""
    from coachregister.practice.models import ProcessingRecordSnapshot
    from coachregister.practice.record import snapshot_if_changed

    snapshot_if_changed()
    return ProcessingRecordSnapshot.objects.order_by("-made_at", "-id").first().pk
