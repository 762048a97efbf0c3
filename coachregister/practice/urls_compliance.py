from __future__ import annotations

from django.urls import URLPattern, path

from coachregister.practice import views_compliance

urlpatterns: list[URLPattern] = [
    path("compliance/", views_compliance.overview, name="compliance"),
    path("compliance.pdf", views_compliance.overview_pdf, name="compliance_pdf"),
]
