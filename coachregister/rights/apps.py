from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RightsConfig(AppConfig):
    name = "coachregister.rights"
    label = "rights"
    verbose_name = _("Rights")

    def ready(self) -> None:
        from coachregister.coachees import access

        def request_open(pk: int, coachee: object) -> bool:
            """Contact details open inside the handling of this coachee's open request."""
            from coachregister.rights.models import DataRequest

            return DataRequest.objects.filter(
                pk=pk, coachee=coachee, decided_at__isnull=True
            ).exists()

        def requests_open(coachee: object) -> list[tuple[str, str]]:
            from django.utils.translation import gettext as _

            from coachregister.rights.models import DataRequest

            return [
                (f"request:{r.pk}", _("Request %(number)s (%(kind)s)") % {
                    "number": r.pk, "kind": r.get_kind_display()})
                for r in DataRequest.objects.filter(coachee=coachee, decided_at__isnull=True)
            ]

        access.register_task("request", request_open, requests_open)
