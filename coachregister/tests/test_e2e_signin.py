"""End to end through the real server (gunicorn) in Debian's Chromium: sign in from outside
the office with a TOTP code, accept the confidentiality statement, see the dashboard
(art. 12.2, 4.1f)."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import pytest
from django_otp.oath import totp
from playwright.sync_api import expect, sync_playwright

from coachregister.testing.server import CHROMIUM, CHROMIUM_ARGS, running_server

pytestmark = [pytest.mark.browser, pytest.mark.article("12.2")]

KEY_HEX = "3132333435363738393031323334353637383930"
SETUP = f"""
from django_otp.plugins.otp_totp.models import TOTPDevice
from coachregister.accounts import services
from coachregister.accounts.models import User
from coachregister.practice.models import PracticeSettings
practice = PracticeSettings.load()
practice.two_factor_everywhere = True
practice.save()
services.statement_publish(actor=None, request=None)
from coachregister.practice.services import regulation_publish
regulation_publish(actor=None, request=None, version="2026.1")
user = User(username="eva", full_name="Eva Eigenaar", email="eva@staff.example", role="owner")
user.set_password("a-long-test-passphrase-1")
user.save()
TOTPDevice.objects.create(user=user, name="authenticator", key="{KEY_HEX}", confirmed=True)
"""


def code() -> str:
    """The current code, as the authenticator app on the phone would show it."""
    return f"{totp(bytes.fromhex(KEY_HEX)):06d}"


def test_sign_in_with_totp_accept_statement_and_see_dashboard(tmp_path: Path) -> None:
    with running_server(tmp_path) as server:
        server.shell(SETUP)
        headers = urllib.request.urlopen(f"{server.url}/login/").headers  # noqa: S310
        assert "unsafe-inline" not in headers["Content-Security-Policy"]
        assert "script-src 'self'" in headers["Content-Security-Policy"]
        assert not any(ch.isdigit() for ch in headers.get("Server", ""))
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page()
            console: list[str] = []
            page.on("console", lambda message: console.append(message.text))
            page.goto(f"{server.url}/")
            page.fill("#id_username", "eva")
            page.fill("#id_password", "a-long-test-passphrase-1")
            page.click("button.primary")
            expect(page).to_have_url(f"{server.url}/login/verify/")
            wrong = "000000" if code() != "000000" else "111111"
            page.fill("#id_token", wrong)
            page.click("button.primary")
            expect(page.locator(".error")).to_be_visible()
            page.wait_for_timeout(1500)  # django-otp throttles for a second after a failure
            page.fill("#id_token", code())
            page.click("button.primary")
            expect(page).to_have_url(f"{server.url}/confidentiality/")
            expect(page.locator(".statement")).to_contain_text("Geheimhoudingsverklaring")
            page.check("#id_accept")
            page.click("button.primary")
            expect(page).to_have_url(f"{server.url}/")
            expect(page.locator("h1")).to_contain_text("Eva Eigenaar")
            page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
            # The strict CSP holds on every page: the browser reported no violation.
            assert not [m for m in console if "Content Security Policy" in m], console
            browser.close()
        verify = server.manage("audit", "verify")
        assert verify.stdout.startswith("OK:")
