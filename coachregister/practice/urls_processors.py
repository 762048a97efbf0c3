"""Issue 13: the processors register (art. 13) and the record of processing activities
(GDPR art. 30(1)), inside the "practice" namespace."""

from __future__ import annotations

from django.urls import URLPattern, path

from coachregister.practice import views_processors as views

urlpatterns: list[URLPattern] = [
    path("processors/", views.processor_list, name="processors"),
    path("processors/add/", views.processor_add, name="processor_add"),
    path("processors/<int:pk>/", views.processor_edit, name="processor_edit"),
    path("processors/<int:pk>/retire/", views.processor_retire, name="processor_retire"),
    path("record/", views.record_view, name="record"),
    path("record/pdf/", views.record_pdf, name="record_pdf"),
    path("record/snapshots/", views.record_snapshots, name="record_snapshots"),
    path("record/snapshots/<int:pk>/", views.record_snapshot, name="record_snapshot"),
]
