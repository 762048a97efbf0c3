"""The whole access road in the browser (art. 7, 9.2): the coachee asks for a link, opens the
portal, asks for access; the administrator grants it; the coachee downloads the PDF, which
pdftotext shows to contain the purposes, recipients, retention and the coachee's keywords."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from coachregister.testing.e2e import smtp, staff_setup, staff_sign_in
from coachregister.testing.server import CHROMIUM, CHROMIUM_ARGS, running_server

pytestmark = [pytest.mark.browser, pytest.mark.article("7.1")]

SETUP = staff_setup(("eva", "owner"), ("anna", "coach")) + """
from coachregister.coachees.vault import Contact
from coachregister.disclosures import services as disclosures
from coachregister.notes.services import session_record
from coachregister.testing import factories
eva, anna = User.objects.get(username="eva"), User.objects.get(username="anna")
trajectory = factories.trajectory(eva, anna, contact=Contact(
    "Zoë", "Ødegård", "zoe@voorbeeld.example", "+31612345678"))
session_record(actor=anna, request=None, trajectory=trajectory, held_on=trajectory.started_on,
               kind="video", duration_minutes=45, keywords="perfectionisme en zwemmen")
doctor = disclosures.recipient_save(actor=eva, request=None, name="Bedrijfsarts Noord",
                                    kind="doctor")
disclosures.disclosure_record(actor=eva, request=None, coachee=trajectory.coachee,
                              recipient=doctor, categories=["contact"],
                              processing_purpose=factories.purpose(eva),
                              basis="legal_duty", legal_ground="Wet X")
"""


def test_access_road(tmp_path: Path) -> None:
    with smtp() as (inbox, env), running_server(tmp_path, extra_env=env) as server, \
            sync_playwright() as pw:
        server.shell(SETUP)
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        coachee = browser.new_context(locale="nl-NL", accept_downloads=True).new_page()
        coachee.goto(f"{server.url}/portal/")
        coachee.fill("#id_email", "zoe@voorbeeld.example")
        coachee.click("button.primary")
        expect(coachee.get_by_test_id("portal-sent")).to_be_visible()
        # The request only queued a look-up (the same work for any address); the worker's
        # pass finds the coachee, queues the link and sends it.
        assert not any("/portal/enter/" in body for body in inbox.bodies)
        server.manage("worker", "--once")
        # One link mail among the others (the coach's notice, the audit checkpoint).
        [link] = inbox.portal_links()
        coachee.goto(link)
        expect(coachee.locator("h1")).to_contain_text("Uw gegevens")
        coachee.get_by_test_id("kind-access").click()
        coachee.click("button.primary")
        # Sending cannot be undone: the portal says what it means and asks first.
        expect(coachee.get_by_test_id("confirm")).to_be_visible()
        coachee.get_by_test_id("confirm-yes").click()
        expect(coachee.locator("body")).to_contain_text("antwoord uiterlijk")
        expect(coachee.locator("ul.messages")).to_be_visible()

        staff = browser.new_context(locale="nl-NL").new_page()
        staff_sign_in(staff, server.url, "eva")
        staff.goto(f"{server.url}/requests/")
        staff.locator("table.requests a").first.click()
        staff.check("input[name=decision][value=granted]")
        staff.click("button.primary")
        staff.get_by_test_id("confirm-yes").click()
        expect(staff.locator("body")).to_contain_text("Brief (pdf)")

        coachee.reload()
        with coachee.expect_download() as download:
            coachee.get_by_test_id("letter-link").click()
        pdf = tmp_path / "letter.pdf"
        download.value.save_as(pdf)
        text = " ".join(subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True,
                                       text=True, check=True).stdout.split())
        assert "Doel" in text and "balans" in text  # the purposes
        assert "Bedrijfsarts Noord" in text  # the recipients
        assert "7 jaar na het laatste contact" in text  # retention
        assert "perfectionisme en zwemmen" in text  # the coachee's keywords
        assert "Autoriteit Persoonsgegevens" in text
        browser.close()
        assert server.manage("audit", "verify").stdout.startswith("OK")
