"""`coachregister createowner` (art. 12.2): the first owner leaves the server with a confirmed
authenticator app and backup codes, or nothing is made at all."""

from __future__ import annotations

import base64
import io
import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import CommandError, call_command
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from coachregister.accounts.models import ConfidentialityStatement, Role, User
from coachregister.audit.models import Event
from coachregister.practice.models import PendingChange, PracticeSettings

pytestmark = [pytest.mark.django_db, pytest.mark.article("12.2")]

ARGS = ["--username", "eva", "--full-name", "Eva de Vries", "--email", "eva@praktijk.example"]
URI = re.compile(r"otpauth://totp/\S+")


def code_from(screen: str) -> str:
    """What the phone shows after scanning the printed address."""
    query = parse_qs(urlsplit(URI.search(screen).group(0)).query)
    secret = query["secret"][0]
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    return f"{totp(key):06d}"


class Phone:
    """The operator's keyboard: types the code the app shows for what was printed so far,
    or the given wrong codes."""

    def __init__(self, out: io.StringIO, wrong: list[str] | None = None) -> None:
        self.out, self.wrong, self.asked = out, wrong, 0

    def readline(self) -> str:
        self.asked += 1
        if self.wrong is not None:
            return self.wrong.pop(0) + "\n" if self.wrong else ""
        return code_from(self.out.getvalue()) + "\n"


def wrong_codes(out: io.StringIO) -> list[str]:
    right = code_from(out.getvalue()) if URI.search(out.getvalue()) else ""
    return [c for c in ("000000", "111111", "222222", "333333") if c != right][:3]


def nothing_made() -> None:
    assert not User.objects.exists()
    assert not TOTPDevice.objects.exists() and not StaticDevice.objects.exists()
    assert not ConfidentialityStatement.objects.exists()
    assert not Event.objects.exists()
    assert PracticeSettings.load().office_networks == ""
    assert not PendingChange.objects.exists()


def test_the_owner_gets_a_confirmed_app_backup_codes_statement_and_networks() -> None:
    out = io.StringIO()
    phone = Phone(out)
    call_command("createowner", *ARGS, "--office-networks", "192.0.2.0/24, 2001:db8::/48",
                 stdin=phone, stdout=out, stderr=io.StringIO())
    screen = out.getvalue()
    assert phone.asked == 1
    assert "▄" in screen or "█" in screen  # the QR code, drawn in the terminal
    owner = User.objects.get(username="eva")
    assert owner.role == Role.OWNER
    password = re.search(r"\b([A-Za-z0-9]{4}(?:-[A-Za-z0-9]{4}){3})\b", screen).group(1)
    assert owner.check_password(password)
    device = TOTPDevice.objects.get(user=owner)
    assert device.confirmed and URI.search(screen).group(0) == device.config_url
    printed = set(re.findall(r"^\s{4}(\S+)$", screen, re.MULTILINE))
    tokens = set(StaticToken.objects.filter(device__user=owner).values_list("token", flat=True))
    assert len(tokens) == 10 and tokens == printed
    statement = ConfidentialityStatement.current()
    assert statement is not None and statement.version == 1 and statement.text
    practice = PracticeSettings.load()
    pending = PendingChange.objects.filter(applied_at__isnull=True, withdrawn_at__isnull=True)
    assert practice.office_networks == "192.0.2.0/24\n2001:db8::/48" or any(
        change.values.get("office_networks") == "192.0.2.0/24\n2001:db8::/48"
        for change in pending
    )
    assert Event.objects.filter(action="accounts.two_factor.enrolled",
                                object_id=str(owner.pk)).exists()
    for event in Event.objects.all():  # no personal data in the audit trail
        assert "Eva" not in str(event.detail) and "praktijk.example" not in str(event.detail)


def test_a_statement_already_there_is_kept() -> None:
    from coachregister.accounts import services

    services.statement_publish(actor=None, request=None)
    out = io.StringIO()
    call_command("createowner", *ARGS, stdin=Phone(out), stdout=out, stderr=io.StringIO())
    assert list(ConfidentialityStatement.objects.values_list("version", flat=True)) == [1]


def test_three_wrong_codes_leave_nothing() -> None:
    out, err = io.StringIO(), io.StringIO()

    class WrongPhone(Phone):
        def readline(self) -> str:
            if self.wrong is None:
                self.wrong = wrong_codes(self.out)
            return super().readline()

    phone = WrongPhone(out)
    with pytest.raises(CommandError, match=r"Nothing has been created|Er is niets aangemaakt"):
        call_command("createowner", *ARGS, "--office-networks", "192.0.2.0/24",
                     stdin=phone, stdout=out, stderr=err)
    assert phone.asked == 3
    assert err.getvalue().count("\n") >= 3  # each wrong code was told
    assert "Password" not in out.getvalue() and "Wachtwoord" not in out.getvalue()
    nothing_made()


def test_a_wrong_code_can_be_followed_by_the_right_one() -> None:
    out, err = io.StringIO(), io.StringIO()

    class SlipPhone(Phone):
        def readline(self) -> str:
            if self.asked == 0:
                self.asked += 1
                return wrong_codes(self.out)[0] + "\n"
            time.sleep(1.1)  # django-otp throttles for a second after a failure
            return super().readline()

    phone = SlipPhone(out)
    call_command("createowner", *ARGS, stdin=phone, stdout=out, stderr=err)
    assert phone.asked == 2 and err.getvalue().strip()
    assert TOTPDevice.objects.get(user__username="eva").confirmed


def test_no_input_leaves_nothing() -> None:
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("createowner", *ARGS, stdin=io.StringIO(""), stdout=out,
                     stderr=io.StringIO())
    nothing_made()


@pytest.mark.parametrize("networks", ["192.0.2.0/33", "kantoor", "10.0.0.0/8,not-a-net", ","])
def test_invalid_office_networks_are_refused_clearly_before_anything_is_made(
    networks: str,
) -> None:
    phone = Phone(io.StringIO())
    with pytest.raises(CommandError) as refused:
        call_command("createowner", *ARGS, "--office-networks", networks, stdin=phone,
                     stdout=io.StringIO(), stderr=io.StringIO())
    assert "--office-networks" in str(refused.value)
    assert phone.asked == 0
    nothing_made()


def test_a_second_owner_is_refused() -> None:
    out = io.StringIO()
    call_command("createowner", *ARGS, stdin=Phone(out), stdout=out, stderr=io.StringIO())
    again = io.StringIO()
    with pytest.raises(CommandError):
        call_command("createowner", "--username", "piet", "--full-name", "Piet",
                     "--email", "piet@praktijk.example", stdin=Phone(again), stdout=again,
                     stderr=io.StringIO())
    assert list(User.objects.values_list("username", flat=True)) == ["eva"]
    assert TOTPDevice.objects.count() == 1
