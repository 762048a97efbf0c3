from __future__ import annotations

from django.urls import path

from coachregister.practice import views

app_name = "practice"

urlpatterns = [path("settings/", views.settings_view, name="settings")]
