from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ComplaintsConfig(AppConfig):
    name = "coachregister.complaints"
    label = "complaints"
    verbose_name = _("Complaints")

    def ready(self) -> None:
        from coachregister.coachees import access

        def complaint_open(pk: int, coachee: object) -> bool:
            """Contact details open inside the handling of this coachee's open complaint."""
            from coachregister.complaints.models import Complaint

            return Complaint.objects.filter(
                pk=pk, coachee=coachee, decided_at__isnull=True
            ).exists()

        def complaints_open(coachee: object) -> list[tuple[str, str]]:
            """The coachee's open complaints (art. 11) as tasks an opening can belong to."""
            from django.utils.translation import gettext as _

            from coachregister.complaints.models import Complaint

            return [
                (f"complaint:{c.pk}", _("Complaint K-%(number)s") % {"number": c.pk})
                for c in Complaint.objects.filter(coachee=coachee, decided_at__isnull=True)
            ]

        access.register_task("complaint", complaint_open, complaints_open)
