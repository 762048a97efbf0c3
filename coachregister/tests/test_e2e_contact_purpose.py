"""Contact details only for the coach (Werkwijze), in the browser at phone width: the coach
sees them at once; the owner sees the record without them and opens them only by stating a
reason, and the coachee finds that opening, with its reason and explanation, in the portal."""

from __future__ import annotations

import re
from email import message_from_bytes
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import Page, expect, sync_playwright

from coachregister.testing.server import CHROMIUM, CHROMIUM_ARGS, free_port, running_server

pytestmark = [pytest.mark.browser, pytest.mark.article("Werkwijze")]

PASSWORD = "a-long-test-passphrase-1"
PHONE = {"viewport": {"width": 390, "height": 844}, "locale": "nl-NL"}
SETUP = f"""
from coachregister.accounts import services
from coachregister.accounts.models import User
from coachregister.coachees.vault import Contact
from coachregister.practice import services as practice
from coachregister.testing import factories
practice.practice_update(actor=None, request=None, office_networks="127.0.0.0/8")
services.statement_publish(actor=None, request=None)
for username, role in [("eva", "owner"), ("anna", "coach")]:
    user = User(username=username, full_name=username.title(), email=username + "@staff.example",
                role=role)
    user.set_password("{PASSWORD}")
    user.save()
eva, anna = User.objects.get(username="eva"), User.objects.get(username="anna")
trajectory = factories.trajectory(eva, anna, contact=Contact(
    "Zoë", "Ødegård", "zoe@voorbeeld.example", "+31612345678"))
print(trajectory.coachee.pseudonym)
"""


class Inbox:
    def __init__(self) -> None:
        self.bodies: list[str] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        mail = message_from_bytes(envelope.content)  # type: ignore[attr-defined]
        self.bodies.append(mail.get_payload(decode=True).decode())
        return "250 OK"


def sign_in(page: Page, url: str, username: str) -> None:
    page.goto(f"{url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button.primary")
    page.check("#id_accept")
    page.click("button.primary")


def test_contact_details_open_for_the_coach_and_for_others_only_with_a_reason(
    tmp_path: Path,
) -> None:
    inbox, port = Inbox(), free_port()
    smtp = Controller(inbox, hostname="127.0.0.1", port=port)
    smtp.start()
    try:
        env = {"EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(port)}
        with running_server(tmp_path, extra_env=env) as server, sync_playwright() as pw:
            pseudonym = server.shell(SETUP).strip().splitlines()[-1]
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)

            coach = browser.new_context(**PHONE).new_page()
            sign_in(coach, server.url, "anna")
            coach.goto(f"{server.url}/coachees/{pseudonym}/")
            expect(coach.get_by_test_id("coachee-name")).to_have_text("Zoë Ødegård")

            owner = browser.new_context(**PHONE).new_page()
            sign_in(owner, server.url, "eva")
            owner.goto(f"{server.url}/coachees/")
            expect(owner.locator("main")).not_to_contain_text("Zoë")
            owner.goto(f"{server.url}/coachees/{pseudonym}/")
            expect(owner.get_by_test_id("contact-closed")).to_be_visible()
            expect(owner.locator("main")).not_to_contain_text("Ødegård")
            owner.select_option("#id_reason", "coachee_asked")
            owner.click("form button[type=submit] >> nth=-1")  # without an explanation
            expect(owner.locator(".errors")).to_be_visible()
            expect(owner.locator("main")).not_to_contain_text("Ødegård")
            owner.select_option("#id_reason", "coachee_asked")
            owner.fill("#id_explanation", "Belde en vroeg om een nieuwe afspraak")
            owner.click("form button[type=submit] >> nth=-1")
            expect(owner.get_by_test_id("coachee-name")).to_have_text("Zoë Ødegård")
            # The form and the details fit the phone (the staff menu's width is issue 14's).
            width = owner.evaluate("document.querySelector('main').scrollWidth")
            assert width <= 390, f"the page's content scrolls sideways at 390 px ({width})"

            coachee = browser.new_context(**PHONE).new_page()
            coachee.goto(f"{server.url}/portal/")
            coachee.fill("#id_email", "zoe@voorbeeld.example")
            coachee.click("button.primary >> nth=0")
            server.manage("worker", "--once")
            [link] = [found.group(0) for body in inbox.bodies
                      if (found := re.search(r"http://\S+/portal/enter/\S+/", body))]
            coachee.goto(link)
            who = coachee.locator("[data-section=accesses]").first
            expect(who).to_contain_text("Eva")
            expect(who).to_contain_text("Belde en vroeg om een nieuwe afspraak")
            browser.close()
        assert server.manage("audit", "verify").stdout.startswith("OK")
    finally:
        smtp.stop()
