"""In the browser (Werkwijze, issue 14): an intake with errors puts the focus on the error
summary at the top, its links lead to the fields, and the page title says there is an error."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from coachregister.testing.server import CHROMIUM, CHROMIUM_ARGS, running_server

pytestmark = [pytest.mark.browser, pytest.mark.article("Werkwijze")]

SETUP = """
from coachregister.accounts.models import User
from coachregister.practice import services as practice
from coachregister.trajectories import services as trajectories
regulation = practice.regulation_publish(actor=None, request=None, version="2026.1")
owner = User.objects.create(username="eva", full_name="Eva", email="eva@staff.example",
                            role="owner")
coach = User.objects.create(username="anna", full_name="Anna", email="anna@staff.example",
                            role="coach")
client = trajectories.client_save(actor=owner, request=None, client=None, name="Zorggroep",
                                  quote_reference="OFF-7", quote_date="2026-11-01",
                                  regulation_version=regulation)
_trajectory, _token, code = trajectories.trajectory_open(actor=owner, request=None,
                                                         client=client, coach=coach)
print(code)
"""


def test_errors_take_the_focus_and_link_to_their_fields(tmp_path: Path) -> None:
    with running_server(tmp_path) as server, sync_playwright() as pw:
        code = server.shell(SETUP).strip().splitlines()[-1]
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_context(locale="nl-NL").new_page()
        page.goto(f"{server.url}/intake/")
        page.fill("#id_code", code)
        page.click("button.primary")
        page.fill("#id_first_name", "Zoë")
        page.fill("#id_email", "zoe@")
        page.click("form[novalidate] button.primary")
        summary = page.get_by_test_id("error-summary")
        expect(summary).to_be_visible()
        expect(summary).to_be_focused()
        assert re.match(r"^(Fout|Error): ", page.title())
        summary.locator('a[href="#id_email"]').click()
        expect(page.locator("#id_email")).to_be_in_viewport()
        assert page.evaluate("location.hash") == "#id_email"
        page.screenshot(path=str(tmp_path / "intake-errors.png"), full_page=True)
        browser.close()
