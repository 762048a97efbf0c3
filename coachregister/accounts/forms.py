"""Forms for accounts. They validate; the services write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from coachregister.accounts import access
from coachregister.accounts.models import Role, User


class LoginForm(forms.Form):
    username = forms.CharField(
        label=_("Username"), max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label=_("Password"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class TokenForm(forms.Form):
    token = forms.CharField(
        label=_("Code"),
        max_length=16,
        help_text=_("The 6-digit code from your authenticator app, or one of your backup codes."),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )

    def clean_token(self) -> str:
        return "".join(self.cleaned_data["token"].split())


class ConfidentialityForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    accept = forms.BooleanField(
        label=_("I have read the statement and will keep personal data confidential."),
        error_messages={"required": _("Tick the box to accept the statement.")},
    )


class UserForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["username", "full_name", "email", "role", "contract_reference", "contract_end"]
        widgets = {"contract_end": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}

    def __init__(self, *args: Any, actor: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        allowed = access.assignable_roles(actor)
        self.fields["role"].choices = [c for c in Role.choices if c[0] in allowed]
        self.fields["contract_reference"].help_text = _("Only for a third party (art. 5.3).")
        self.fields["contract_end"].help_text = _(
            "Only for a third party: after this date the account no longer signs in."
        )
        if self.instance.pk:
            self.fields["username"].disabled = True

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("role") == Role.THIRD_PARTY:
            if not data.get("contract_reference"):
                self.add_error("contract_reference", _("A third party needs a contract reference."))
            if not data.get("contract_end"):
                self.add_error("contract_end", _("A third party needs a contract end date."))
        return data
