from __future__ import annotations

from django.urls import path

from coachregister.notes import views

app_name = "notes"

urlpatterns = [
    path("dossiers/<str:pseudonym>/", views.dossier, name="dossier"),
    path("dossiers/<str:pseudonym>/sessions/new/", views.session_new, name="session_new"),
    path("sessions/<int:pk>/", views.session_edit, name="session_edit"),
    path("sessions/<int:pk>/versions/", views.session_versions, name="session_versions"),
]
