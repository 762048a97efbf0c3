from __future__ import annotations

from django.urls import include, path

from coachregister.practice import views

app_name = "practice"

urlpatterns = [
    path("settings/", views.settings_view, name="settings"),
    path("purposes/add/", views.purpose_add, name="purpose_add"),
    path("purposes/<int:pk>/retire/", views.purpose_retire, name="purpose_retire"),
    path("decisions/", views.decisions, name="decisions"),
    # Issue 13: each part in its own module (processors and the record of processing
    # activities, the regulation, the compliance overview).
    path("", include("coachregister.practice.urls_processors")),
    path("", include("coachregister.practice.urls_regulation")),
    path("", include("coachregister.practice.urls_compliance")),
]
