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


class LockedLoginForm(LoginForm):
    """Sign-in while the account is locked (art. 12.2): the password and the code in one form,
    so that one answer covers every wrong part. From the office the code is not needed."""

    token = forms.CharField(
        label=_("Code"),
        max_length=16,
        required=False,
        help_text=_("The 6-digit code from your authenticator app, or one of your backup codes."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    def clean_token(self) -> str:
        return "".join(self.cleaned_data["token"].split())


class ReauthForm(forms.Form):
    """"Confirm it is you" before a sensitive action: the password, or the code of the
    second factor where the user has one; both while the account is locked."""

    password = forms.CharField(
        label=_("Your password"), strip=False, required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )
    token = forms.CharField(
        label=_("Or the code from your authenticator app"),
        max_length=16,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    def __init__(self, *args: Any, has_second_factor: bool, locked: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.locked = locked and has_second_factor
        if not has_second_factor:
            del self.fields["token"]
        elif self.locked:
            self.fields["token"].label = _("The code from your authenticator app")

    def clean_token(self) -> str:
        return "".join(self.cleaned_data.get("token", "").split())

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        password, token = data.get("password"), data.get("token")
        if self.locked and not (password and token):
            raise forms.ValidationError(
                _("After several failed attempts, give both your password and the code.")
            )
        if not password and not token:
            raise forms.ValidationError(_("Give your password to confirm."))
        return data


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

    # Art. 1.4: an owner may change everything, other owners included; a new owner is made
    # only with this box ticked, so a slip of the role list cannot make one.
    confirm_owner = forms.BooleanField(
        label=_("I confirm: this person becomes an owner, with every power in the register."),
        required=False,
    )

    def __init__(self, *args: Any, actor: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        allowed = access.assignable_roles(actor)
        choices = [c for c in Role.choices if c[0] in allowed]
        if not self.instance.pk:  # a new account: no role is preset, it is chosen
            choices = [("", _("Choose a role")), *choices]
        else:
            del self.fields["confirm_owner"]
        self.fields["role"].choices = choices
        self.fields["contract_reference"].help_text = _("Only for a third party (art. 5.3).")
        self.fields["contract_end"].help_text = _(
            "Only for a third party: after this date the account no longer signs in."
        )
        if self.instance.pk:
            self.fields["username"].disabled = True

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if (data.get("role") == Role.OWNER and "confirm_owner" in self.fields
                and not data.get("confirm_owner")):
            self.add_error("confirm_owner", _("Tick the box to make a new owner."))
        data.pop("confirm_owner", None)
        if data.get("role") == Role.THIRD_PARTY:
            if not data.get("contract_reference"):
                self.add_error("contract_reference", _("A third party needs a contract reference."))
            if not data.get("contract_end"):
                self.add_error("contract_end", _("A third party needs a contract end date."))
        return data


class _TrajectoryIds(forms.ModelMultipleChoiceField):
    """Ids only: anything but a short run of digits (text, NUL bytes, a number too large for
    the database) is refused before it reaches a query."""

    def clean(self, value: Any) -> Any:
        for item in value or []:
            if not (isinstance(item, str) and item.isascii() and item.isdigit() and len(item) < 19):
                raise forms.ValidationError(
                    self.error_messages["invalid_pk_value"], code="invalid_pk_value"
                )
        return super().clean(value)


class ScopeForm(forms.Form):
    """The trajectories in a third party's contract scope (art. 5.3). A value that is not a
    trajectory is a form error, and the scope stays as it was."""

    trajectories = _TrajectoryIds(
        queryset=None,
        required=False,
        error_messages={
            "invalid_choice": _("Choose trajectories from the list."),
            "invalid_pk_value": _("Choose trajectories from the list."),
            "invalid_list": _("Choose trajectories from the list."),
        },
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from coachregister.trajectories.models import Trajectory

        super().__init__(*args, **kwargs)
        self.fields["trajectories"].queryset = Trajectory.objects.all()
