from __future__ import annotations

from django.urls import path

from coachregister.retention import views

app_name = "retention"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("policy/", views.policy, name="policy"),
    path("holds/new/", views.hold_new, name="hold_new"),
    path("holds/<int:pk>/lift/", views.hold_lift, name="hold_lift"),
    path("records/", views.records, name="records"),
    path("records.csv", views.records_csv, name="records_csv"),
    path("mailbox/<int:pk>/confirm/", views.mailbox_confirm, name="mailbox_confirm"),
    path("paper/<int:pk>/confirm/", views.paper_task_confirm, name="paper_confirm"),
]
