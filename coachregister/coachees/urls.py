from __future__ import annotations

from django.urls import path

from coachregister.coachees import views

app_name = "coachees"

urlpatterns = [
    path("intake/", views.intake_start, name="intake_start"),
    path("intake/form/", views.intake_form, name="intake_form"),
    path("intake/done/", views.intake_done, name="intake_done"),
    path("intake/<str:token>/", views.intake_link, name="intake_link"),
    path("coachees/", views.coachee_list, name="list"),
    path("coachees/<str:pseudonym>/", views.coachee_contact, name="contact"),
    path("coachees/<str:pseudonym>/vcard/", views.coachee_vcard, name="vcard"),
]
