from __future__ import annotations

from django.urls import path

from coachregister.complaints import views

app_name = "complaints"

urlpatterns = [
    path("", views.complaint_list, name="list"),
    path("procedure/", views.procedure, name="procedure"),
    path("<int:pk>/", views.complaint_detail, name="detail"),
    path("letters/<int:pk>/", views.letter_download, name="letter"),
    path("coachees/<str:pseudonym>/new/", views.complaint_new, name="new"),
    path("portal/", views.portal_complaints, name="portal"),
    path("portal/letters/<int:pk>/", views.portal_letter, name="portal_letter"),
]
