from __future__ import annotations

from django.urls import path

from coachregister.trajectories import views

app_name = "trajectories"

urlpatterns = [
    path("", views.trajectory_list, name="list"),
    path("new/", views.trajectory_new, name="new"),
    path("report/", views.report, name="report"),
    path("clients/", views.client_list, name="client_list"),
    path("clients/new/", views.client_edit, name="client_new"),
    path("clients/<int:pk>/", views.client_edit, name="client_edit"),
    path("clients/<int:pk>/regulation.pdf", views.client_regulation_pdf,
         name="client_regulation_pdf"),
    path("clients/<int:pk>/regulation-sent/", views.client_regulation_sent,
         name="client_regulation_sent"),
    path("<str:pseudonym>/", views.trajectory_detail, name="detail"),
    path("<str:pseudonym>/<slug:action>/", views.trajectory_action, name="action"),
]
