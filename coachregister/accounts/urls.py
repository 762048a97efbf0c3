from __future__ import annotations

from django.urls import path

from coachregister.accounts import views

app_name = "accounts"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("login/", views.login, name="login"),
    path("login/verify/", views.login_verify, name="login_verify"),
    path("logout/", views.logout, name="logout"),
    path("account/", views.account, name="account"),
    path("account/password/", views.password_change, name="password_change"),
    path("account/two-step/", views.two_factor_enrol, name="two_factor_enrol"),
    path("account/backup-codes/", views.backup_codes, name="backup_codes"),
    path("account/sign-out-everywhere/", views.sign_out_everywhere, name="sign_out_everywhere"),
    path("account/confirm/", views.reauth_view, name="reauth"),
    path("confidentiality/", views.confidentiality, name="confidentiality"),
    path("confidentiality/publish/", views.statement_publish, name="statement_publish"),
    path("users/", views.user_list, name="user_list"),
    path("users/new/", views.user_new, name="user_new"),
    path("users/<int:pk>/", views.user_edit, name="user_edit"),
    path(
        "users/<int:pk>/<slug:action>/",
        views.user_action,
        name="user_action",
    ),
]
