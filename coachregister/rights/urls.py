from __future__ import annotations

from django.urls import path

from coachregister.rights import views

app_name = "rights"

urlpatterns = [
    path("requests/", views.request_list, name="list"),
    path("requests/<int:pk>/", views.request_detail, name="detail"),
    path("letters/<int:pk>/", views.letter_download, name="letter"),
    path("coachees/<str:pseudonym>/requests/new/", views.request_new, name="new"),
]
