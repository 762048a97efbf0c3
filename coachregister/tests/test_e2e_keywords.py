"""In the browser (art. 3.1): the coach writes keywords with the coachee's first name and is
refused with the message; writes them without it and sees them saved in the dossier."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from coachregister.testing.server import CHROMIUM, CHROMIUM_ARGS, running_server

pytestmark = [pytest.mark.browser, pytest.mark.article("3.1")]

PASSWORD = "a-long-test-passphrase-1"
SETUP = f"""
from coachregister.accounts import services
from coachregister.accounts.models import User
from coachregister.practice import services as practice
from coachregister.testing import factories
from coachregister.coachees.vault import Contact
practice.practice_update(actor=None, request=None, office_networks="127.0.0.0/8")
services.statement_publish(actor=None, request=None)
for username, role in [("eva", "owner"), ("anna", "coach")]:
    user = User(username=username, full_name=username.title(), email=username + "@staff.example",
                role=role)
    user.set_password("{PASSWORD}")
    user.save()
trajectory = factories.trajectory(User.objects.get(username="eva"),
                                  User.objects.get(username="anna"),
                                  contact=Contact("Zoë", "Ødegård", "zoe@voorbeeld.example",
                                                  "+31612345678"))
print(trajectory.pseudonym)
"""


def test_name_refused_then_saved_in_the_dossier(tmp_path: Path) -> None:
    with running_server(tmp_path) as server, sync_playwright() as pw:
        pseudonym = server.shell(SETUP).strip().splitlines()[-1]
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_context(locale="nl-NL").new_page()
        page.goto(f"{server.url}/login/")
        page.fill("#id_username", "anna")
        page.fill("#id_password", PASSWORD)
        page.click("button.primary")
        page.check("#id_accept")
        page.click("button.primary")
        page.goto(f"{server.url}/dossiers/{pseudonym}/")
        page.get_by_role("link", name="Nieuwe sessie").click()
        page.select_option("#id_kind", "video")
        page.fill("#id_keywords", "zoe wil minder overwerken, grenzen stellen")
        page.click("button.primary")
        error = page.locator("#id_keywords_error")
        expect(error).to_contain_text(re.compile("naam|name"))
        expect(error).to_contain_text("\u201czoe\u201d")  # the coach is told which word (issue 14)
        expect(page.locator("#id_keywords")).to_have_value(
            "zoe wil minder overwerken, grenzen stellen")  # nothing the coach typed is lost
        # The words are for the coach's page only: the server's log does not carry them.
        logged = server.log.read_text()
        assert "zoe wil" not in logged and "\u201czoe\u201d" not in logged
        page.fill("#id_keywords", "wil minder overwerken, grenzen stellen")
        page.click("button.primary")
        expect(page).to_have_url(f"{server.url}/dossiers/{pseudonym}/")
        expect(page.get_by_test_id("keywords")).to_have_text(
            "wil minder overwerken, grenzen stellen")
        page.screenshot(path=str(tmp_path / "dossier.png"), full_page=True)
        browser.close()
