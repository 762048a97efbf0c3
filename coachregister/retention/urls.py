from __future__ import annotations

from django.urls import path

from coachregister.retention import views

app_name = "retention"

urlpatterns = [
    path("paper/<int:pk>/confirm/", views.paper_task_confirm, name="paper_confirm"),
]
