from __future__ import annotations

from django.urls import path

from coachregister.practice import views_regulation as views

# Art. 2, Werkwijze: the regulation generated, previewed, published and shown.
urlpatterns = [
    path("regulation/", views.regulation, name="regulation"),
    path("regulation/publish/", views.regulation_publish, name="regulation_publish"),
    path("regulation/withdraw/", views.pending_withdraw, name="regulation_withdraw"),
    path("regulation/versions/", views.regulation_versions, name="regulation_versions"),
    path("privacy/", views.regulation_public, name="regulation_public"),
]
