from __future__ import annotations

from django.urls import path

from coachregister.disclosures import portal_views, views

app_name = "disclosures"

urlpatterns = [
    path("recipients/", views.recipient_list, name="recipients"),
    path("coachees/<str:pseudonym>/disclosures/", views.coachee_disclosures, name="coachee"),
    path("coachees/<str:pseudonym>/accesses/", views.who_saw, name="who_saw"),
    path("consents/<int:pk>/withdraw/", views.consent_withdraw, name="consent_withdraw"),
    path("proposals/<int:pk>/<str:action>/", views.proposal_action, name="proposal_action"),
    path("portal/disclosures/<int:pk>/", portal_views.portal_proposal, name="portal_proposal"),
]
