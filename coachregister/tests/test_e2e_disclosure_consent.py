"""A disclosure on the coachee's consent in the browser, on a phone (art. 9.2): the
administrator prepares a disclosure of contact details to a doctor; the coachee sees in the
portal exactly what would be sent, asks for a correction of the phone number from that page;
the administrator grants it; the coachee sees the corrected number and consents; staff send
it, and the file carries the corrected number."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from coachregister.lib.display import phone_display
from coachregister.testing.e2e import smtp, staff_setup, staff_sign_in
from coachregister.testing.server import CHROMIUM, CHROMIUM_ARGS, running_server

pytestmark = [pytest.mark.browser, pytest.mark.article("9.2")]

OLD_PHONE = "+31612345678"
NEW_PHONE = "+31687654321"
PHONE = {"width": 390, "height": 844}
SETUP = staff_setup(("eva", "owner"), ("ada", "administrator"), ("anna", "coach")) + f"""
from coachregister.coachees.vault import Contact
from coachregister.disclosures import services as disclosures
from coachregister.testing import factories
eva, anna = User.objects.get(username="eva"), User.objects.get(username="anna")
trajectory = factories.trajectory(eva, anna, contact=Contact(
    "Zoë", "Ødegård", "zoe@voorbeeld.example", "{OLD_PHONE}"))
disclosures.recipient_save(actor=eva, request=None, name="Bedrijfsarts Noord", kind="doctor")
factories.purpose(eva, "Verzuimbegeleiding")
print("PSEUDONYM=" + trajectory.coachee.pseudonym)
"""


def test_disclosure_consent_road(tmp_path: Path) -> None:
    with smtp() as (inbox, env), running_server(tmp_path, extra_env=env) as server, \
            sync_playwright() as pw:
        pseudonym = re.search(r"PSEUDONYM=(\S+)", server.shell(SETUP)).group(1)
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)

        # The administrator prepares the disclosure of contact details to the doctor.
        staff = browser.new_context(locale="nl-NL", viewport=PHONE,
                                    accept_downloads=True).new_page()
        staff_sign_in(staff, server.url, "ada")
        disclosures_url = f"{server.url}/coachees/{pseudonym}/disclosures/"
        staff.goto(disclosures_url)
        staff.select_option("#id_proposal-recipient", label="Bedrijfsarts Noord")
        staff.select_option("#id_proposal-processing_purpose", label="Verzuimbegeleiding")
        staff.check("input[name='proposal-categories'][value='contact']")
        staff.check("input[name='proposal-basis'][value='consent']")
        staff.locator("form:has(#id_proposal-recipient) button[type=submit]").click()
        expect(staff.get_by_test_id("proposal-row")).to_contain_text("Bedrijfsarts Noord")
        expect(staff.get_by_test_id("proposal-send")).to_have_count(0)  # not consented

        # The coachee signs in to the portal as always; the notice told them to look.
        coachee = browser.new_context(locale="nl-NL", viewport=PHONE).new_page()
        coachee.goto(f"{server.url}/portal/")
        coachee.fill("#id_email", "zoe@voorbeeld.example")
        coachee.click("button.primary")
        server.manage("worker", "--once")
        notices = [b for b in inbox.bodies if "/portal/" in b and "/portal/enter/" not in b]
        assert notices, inbox.bodies  # the notice: the way to the portal, no data
        assert all(OLD_PHONE not in b and "Bedrijfsarts" not in b for b in notices)
        [link] = inbox.portal_links()
        coachee.goto(link)
        coachee.get_by_test_id("proposal-link").click()
        expect(coachee.get_by_test_id("preview-recipient")).to_have_text("Bedrijfsarts Noord")
        expect(coachee.locator("main")).to_contain_text("Verzuimbegeleiding")  # why
        expect(coachee.get_by_test_id("preview-phone")).to_have_text(phone_display(OLD_PHONE))
        width = coachee.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], width  # no sideways scrolling on a phone

        # A correction first, from the preview itself.
        coachee.fill("#id_correction-phone", NEW_PHONE)
        coachee.get_by_test_id("ask-correction").click()
        expect(coachee.get_by_test_id("correction-pending")).to_be_visible()

        # The administrator grants it on the request's page.
        staff.goto(f"{server.url}/requests/")
        staff.locator("table.requests a").first.click()
        staff.check("input[name=decision][value=granted]")
        staff.locator("form:has(input[name=decision]) button.primary").click()
        staff.get_by_test_id("confirm-yes").click()
        expect(staff.locator("body")).to_contain_text("Brief (pdf)")

        # The coachee sees the corrected number in the preview, and consents.
        coachee.reload()
        expect(coachee.get_by_test_id("preview-phone")).to_have_text(phone_display(NEW_PHONE))
        coachee.get_by_test_id("consent").click()
        expect(coachee.get_by_test_id("preview-status")).to_have_attribute(
            "data-status", "consented")

        # Staff send it: the file is the content the coachee consented to.
        staff.goto(disclosures_url)
        with staff.expect_download() as download:
            staff.get_by_test_id("proposal-send").click()
        exported = tmp_path / "export.json"
        download.value.save_as(exported)
        data = json.loads(exported.read_text(encoding="utf-8"))
        assert data["contact"]["phone"] == NEW_PHONE
        assert data["recipient"] == "Bedrijfsarts Noord"
        assert data["categories"] == ["contact"] and "sessions" not in data
        staff.goto(disclosures_url)
        expect(staff.get_by_test_id("proposal-row")).to_have_attribute("data-status", "sent")
        browser.close()
        assert server.manage("audit", "verify").stdout.startswith("OK")
