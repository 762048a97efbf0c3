from __future__ import annotations

from django.urls import path

from coachregister.rights import inquiry_views, portal_views, views

app_name = "rights"

urlpatterns = [
    path("requests/", views.request_list, name="list"),
    path("requests/<int:pk>/", views.request_detail, name="detail"),
    path("requests/<int:pk>/inquiry/checked/", inquiry_views.inquiry_checked,
         name="inquiry_checked"),
    path("requests/<int:pk>/inquiry/answer/", inquiry_views.inquiry_answer,
         name="inquiry_answer"),
    path("requests/<int:pk>/fee-paid/", views.fee_paid, name="fee_paid"),
    path("letters/<int:pk>/", views.letter_download, name="letter"),
    path("coachees/<str:pseudonym>/requests/new/", views.request_new, name="new"),
    path(
        "coachees/<str:pseudonym>/restriction/lift/",
        views.restriction_lift,
        name="restriction_lift",
    ),
    path("portal/", portal_views.portal_start, name="portal_start"),
    path("portal/ask/", inquiry_views.portal_inquiry, name="portal_inquiry"),
    path("portal/home/", portal_views.portal_home, name="portal_home"),
    path("portal/export/", portal_views.portal_json, name="portal_json"),
    path("portal/leave/", portal_views.portal_leave, name="portal_leave"),
    path("portal/letters/<int:pk>/", portal_views.portal_letter, name="portal_letter"),
    path(
        "portal/consents/<int:pk>/withdraw/", portal_views.portal_withdraw, name="portal_withdraw"
    ),
    path(
        "portal/keywords/withdraw/",
        portal_views.portal_keywords_withdraw,
        name="portal_keywords_withdraw",
    ),
    path("portal/enter/<str:token>/", portal_views.portal_enter, name="portal_enter"),
]
