"""Contact details only for the coach (Werkwijze), in the browser at phone width: the coach
sees them at once; the owner sees the record without them and opens them only by stating a
reason, and the coachee finds that opening, with its reason and explanation, in the portal."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from coachregister.testing.e2e import smtp, staff_setup, staff_sign_in
from coachregister.testing.server import CHROMIUM, CHROMIUM_ARGS, running_server

pytestmark = [pytest.mark.browser, pytest.mark.article("Werkwijze")]

PHONE = {"viewport": {"width": 390, "height": 844}, "locale": "nl-NL"}
SETUP = staff_setup(("eva", "owner"), ("anna", "coach")) + """
from coachregister.coachees.vault import Contact
from coachregister.testing import factories
eva, anna = User.objects.get(username="eva"), User.objects.get(username="anna")
trajectory = factories.trajectory(eva, anna, contact=Contact(
    "Zoë", "Ødegård", "zoe@voorbeeld.example", "+31612345678"))
print(trajectory.coachee.pseudonym)
"""


def test_contact_details_open_for_the_coach_and_for_others_only_with_a_reason(
    tmp_path: Path,
) -> None:
    with smtp() as (inbox, env), running_server(tmp_path, extra_env=env) as server, \
            sync_playwright() as pw:
        pseudonym = server.shell(SETUP).strip().splitlines()[-1]
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)

        coach = browser.new_context(**PHONE).new_page()
        staff_sign_in(coach, server.url, "anna")
        coach.goto(f"{server.url}/coachees/{pseudonym}/")
        expect(coach.get_by_test_id("coachee-name")).to_have_text("Zoë Ødegård")

        owner = browser.new_context(**PHONE).new_page()
        staff_sign_in(owner, server.url, "eva")
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
        [link] = inbox.portal_links()
        coachee.goto(link)
        who = coachee.locator("[data-section=accesses]").first
        expect(who).to_contain_text("Eva")
        expect(who).to_contain_text("Belde en vroeg om een nieuwe afspraak")
        browser.close()
        assert server.manage("audit", "verify").stdout.startswith("OK")
