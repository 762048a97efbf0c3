"""The second factor (art. 12.2): TOTP from an authenticator app, and single-use backup codes."""

from __future__ import annotations

import segno
from django_otp import devices_for_user
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from coachregister.accounts.models import User

BACKUP_CODE_COUNT = 10
TOTP_NAME = "authenticator"
BACKUP_NAME = "backup"


def issuer(device: TOTPDevice | None = None) -> str:
    """The name an authenticator app shows above the code: the practice's own name."""
    from coachregister.practice.models import PracticeSettings

    return PracticeSettings.load().name


def has_second_factor(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def pending_totp(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=False).first()


def qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// URI as an inline SVG QR code (no script, no style: CSP-safe)."""
    return segno.make(device.config_url, error="m").svg_inline(scale=5, border=2, dark="#111")


def manual_key(device: TOTPDevice) -> str:
    """The base32 secret in groups of four, for typing into an app by hand."""
    import base64

    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def backup_device(user: User) -> StaticDevice | None:
    return StaticDevice.objects.filter(user=user, name=BACKUP_NAME).first()


def confirmed_devices(user: User) -> list[object]:
    return list(devices_for_user(user, confirmed=True))
