"""The main road in the browser (Werkwijze, art. 3.1, 5.1): staff open a trajectory, the
employee completes the intake in a fresh browser, the coach gets the mail on a real SMTP
server, signs in and sees the new coachee; a second coach cannot."""

from __future__ import annotations

import re
from email import message_from_bytes
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import Browser, Page, expect, sync_playwright

from coachregister.testing.server import CHROMIUM, CHROMIUM_ARGS, free_port, running_server

pytestmark = [pytest.mark.browser, pytest.mark.article("3.1")]

PASSWORD = "a-long-test-passphrase-1"
SETUP = f"""
from coachregister.accounts import services
from coachregister.accounts.models import User
from coachregister.practice import services as practice
from coachregister.trajectories import services as trajectories
practice.practice_update(actor=None, request=None, office_networks="127.0.0.0/8")
services.statement_publish(actor=None, request=None)
regulation = practice.regulation_publish(actor=None, request=None, version="2026.1")
for username, name, role in [("eva", "Eva Eigenaar", "owner"), ("anna", "Anna Coach", "coach"),
                             ("ben", "Ben Coach", "coach")]:
    user = User(username=username, full_name=name, email=username + "@staff.example", role=role)
    user.set_password("{PASSWORD}")
    user.save()
owner = User.objects.get(username="eva")
trajectories.client_save(actor=owner, request=None, client=None, name="Zorggroep Oost",
                         quote_reference="OFF-7", quote_date="2026-11-01",
                         regulation_version=regulation)
"""


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        self.messages.append((list(envelope.rcpt_tos), envelope.content))  # type: ignore[attr-defined]
        return "250 OK"


def sign_in(browser: Browser, url: str, username: str) -> Page:
    page = browser.new_context(locale="nl-NL").new_page()
    page.goto(f"{url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button.primary")
    if page.url.endswith("/confidentiality/"):
        page.check("#id_accept")
        page.click("button.primary")
    expect(page.locator("h1")).to_contain_text("Welkom")
    return page


def test_open_intake_mail_coach_sees_other_coach_does_not(tmp_path: Path) -> None:
    inbox = Inbox()
    smtp_port = free_port()
    smtp = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    try:
        env = {"EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(smtp_port)}
        with running_server(tmp_path, extra_env=env) as server, sync_playwright() as pw:
            server.shell(SETUP)
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)

            # 1. Staff open a trajectory for Anna and get the invitation.
            staff = sign_in(browser, server.url, "eva")
            staff.goto(f"{server.url}/trajectories/new/")
            staff.select_option("#id_client", label="Zorggroep Oost")
            staff.select_option("#id_coach", label="Anna Coach")
            staff.click("button.primary")
            link = staff.get_by_test_id("invitation-link").inner_text().strip()
            assert "/intake/" in link

            # 2. The employee, in a fresh browser, gives their own details.
            coachee = browser.new_context(locale="nl-NL").new_page()
            coachee.goto(link)
            expect(coachee).to_have_url(f"{server.url}/intake/form/")  # token left the URL
            expect(coachee.locator(".statement")).to_contain_text("Privacyreglement")
            coachee.fill("#id_first_name", "Zoë")
            coachee.fill("#id_last_name", "van der Berg")
            coachee.fill("#id_email", "zoe.vdberg@voorbeeld.example")
            coachee.fill("#id_phone", "06 12345678")
            coachee.click("button.primary")  # the regulation box not ticked yet
            expect(coachee.locator(".error")).to_be_visible()
            coachee.check("#id_regulation_read")
            coachee.check("#id_keyword_consent")
            coachee.click("button.primary")
            expect(coachee).to_have_url(f"{server.url}/intake/done/")
            coachee.goto(link)  # single use
            expect(coachee.locator("h1")).to_contain_text("werkt niet")

            # 3. The worker sends the coach's mail through the real SMTP server (and the
            # owners' daily audit digest, which names no one).
            assert "sent 2" in server.manage("worker", "--once").stdout
            assert len(inbox.messages) == 2
            [raw] = [raw for to, raw in inbox.messages if to == ["anna@staff.example"]]
            [digest] = [raw for to, raw in inbox.messages if to != ["anna@staff.example"]]
            assert b"Zo" not in digest and b"612345678" not in digest
            body = message_from_bytes(raw).get_payload(decode=True).decode()
            assert "Zoë" not in body and "zoe.vdberg" not in body and "612345678" not in body
            mail_link = re.search(r"http://\S+/trajectories/T-[0-9A-Z-]+/", body).group(0)

            # 4. Anna follows the link, opens the contact details and sees the coachee.
            anna = sign_in(browser, server.url, "anna")
            anna.goto(mail_link)
            anna.get_by_role("link", name="Contactgegevens tonen").click()
            expect(anna.get_by_test_id("coachee-name")).to_have_text("Zoë van der Berg")
            expect(anna.locator("body")).to_contain_text("06 12345678")  # shown in the Dutch national format
            pseudonym_url = anna.url
            anna.goto(f"{server.url}/coachees/")
            expect(anna.locator("table")).to_contain_text("Zoë van der Berg")

            # 5. Ben, another coach, cannot.
            ben = sign_in(browser, server.url, "ben")
            response = ben.goto(pseudonym_url)
            assert response is not None and response.status == 403
            expect(ben.locator("body")).not_to_contain_text("Zoë")
            ben.goto(f"{server.url}/coachees/")
            expect(ben.locator("table")).not_to_contain_text("Zoë")
            assert ben.goto(mail_link).status == 403
            browser.close()
        assert server.manage("audit", "verify").stdout.startswith("OK")
    finally:
        smtp.stop()
