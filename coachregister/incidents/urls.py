from __future__ import annotations

from django.urls import path

from coachregister.incidents import views, views_notices

app_name = "incidents"

urlpatterns = [
    path("", views.incident_list, name="list"),
    path("new/", views.incident_new, name="new"),
    path("<int:pk>/", views.incident_detail, name="detail"),
    path("<int:pk>/edit/", views.incident_edit, name="edit"),
    path("<int:pk>/assess/", views.incident_assess, name="assess"),
    path("<int:pk>/notify/", views.authority_notify, name="notify"),
    path("<int:pk>/close/", views.incident_close, name="close"),
    # Affected coachees, the authority's form, the coachee notices, containment (issue 12).
    path("<int:pk>/affected/", views_notices.affected, name="affected"),
    path("<int:pk>/authority-form/", views_notices.authority_form, name="authority_form"),
    path("<int:pk>/authority-form.pdf", views_notices.authority_pdf, name="authority_pdf"),
    path("<int:pk>/notice/", views_notices.notice, name="notice"),
    path("<int:pk>/notice/exception/", views_notices.notice_exception, name="notice_exception"),
    path("<int:pk>/notice/prepare/", views_notices.notice_prepare, name="notice_prepare"),
    path("<int:pk>/notice/confirm/", views_notices.notice_confirm, name="notice_confirm"),
    path("<int:pk>/containment/<str:action>/", views_notices.containment_action,
         name="containment"),
]
