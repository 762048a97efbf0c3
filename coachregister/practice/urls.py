from __future__ import annotations

from django.urls import path

from coachregister.practice import views

app_name = "practice"

urlpatterns = [
    path("settings/", views.settings_view, name="settings"),
    path("purposes/add/", views.purpose_add, name="purpose_add"),
    path("purposes/<int:pk>/retire/", views.purpose_retire, name="purpose_retire"),
    path("decisions/", views.decisions, name="decisions"),
]
