from __future__ import annotations

from django.urls import include, path
from django.views.i18n import set_language

from coachregister.accounts.access import public

urlpatterns = [
    path("i18n/setlang/", public(set_language), name="set_language"),
    path("audit/", include("coachregister.audit.urls")),
    path("practice/", include("coachregister.practice.urls")),
    path("trajectories/", include("coachregister.trajectories.urls")),
    path("retention/", include("coachregister.retention.urls")),
    path("complaints/", include("coachregister.complaints.urls")),
    path("incidents/", include("coachregister.incidents.urls")),
    path("", include("coachregister.notes.urls")),
    path("", include("coachregister.disclosures.urls")),
    path("", include("coachregister.rights.urls")),
    path("", include("coachregister.coachees.urls")),
    path("", include("coachregister.accounts.urls")),
]

handler403 = "coachregister.views.forbidden"
handler404 = "coachregister.views.not_found"
handler500 = "coachregister.views.server_error"
