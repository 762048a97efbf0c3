from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IncidentsConfig(AppConfig):
    name = "coachregister.incidents"
    label = "incidents"
    verbose_name = _("Incidents")

    def ready(self) -> None:
        from coachregister.coachees import access

        def incident_open(pk: int, coachee: object) -> bool:
            """Art. 4.1c, GDPR art. 34: inside the handling of an open incident that affects
            this coachee, owners and the administrator open the contact details (to notify)."""
            from coachregister.incidents.models import AffectedCoachee

            return AffectedCoachee.objects.filter(
                incident_id=pk, coachee=coachee, incident__closed_at__isnull=True
            ).exists()

        def incidents_open(coachee: object) -> list[tuple[str, str]]:
            """The open incidents that affect the coachee (art. 4.1c, GDPR 34) as tasks: to
            notify them, owners and the administrator open the contact details inside one."""
            from django.utils.translation import gettext as _

            from coachregister.incidents.models import AffectedCoachee

            return [
                (f"incident:{a.incident_id}",
                 _("Incident INC-%(number)s") % {"number": a.incident_id})
                for a in AffectedCoachee.objects.filter(
                    coachee=coachee, incident__closed_at__isnull=True)
            ]

        access.register_task("incident", incident_open, incidents_open)
