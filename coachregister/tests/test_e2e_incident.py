"""A data breach in the browser (art. 4.1c, 13.6; GDPR art. 33): the owner registers the
incident, finds the affected coachees from what a user viewed in a period, downloads the
content of the authority's notification form (pdftotext shows the counts) and records the
submission with its reference number."""

from __future__ import annotations

import json
import re
import subprocess
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect, sync_playwright

from coachregister.testing.e2e import smtp, staff_setup, staff_sign_in
from coachregister.testing.server import CHROMIUM, CHROMIUM_ARGS, running_server

pytestmark = [pytest.mark.browser, pytest.mark.article("4.1c")]

# Anna viewed two of her coachees in the period; the controls: her read of a third before
# the period, and Bob's read of his own coachee in it.
SETUP = staff_setup(("eva", "owner"), ("anna", "coach"), ("bob", "coach")) + """
import json
from datetime import timedelta
import time_machine
from django.utils import timezone
from coachregister.audit.services import event_record
from coachregister.testing import factories
eva, anna, bob = (User.objects.get(username=n) for n in ("eva", "anna", "bob"))
mine = [factories.trajectory(eva, anna, contact=factories.person(n)) for n in range(3)]
his = factories.trajectory(eva, bob, contact=factories.person(3))
for trajectory in mine[:2]:
    event_record(action="coachees.contact.viewed", actor=anna, object_type="coachee",
                 object_id=trajectory.coachee_pseudonym)
with time_machine.travel(timezone.now() - timedelta(days=2), tick=False):
    event_record(action="notes.dossier.viewed", actor=anna, object_type="trajectory",
                 object_id=mine[2].pseudonym)
event_record(action="coachees.contact.viewed", actor=bob, object_type="coachee",
             object_id=his.coachee_pseudonym)
print(json.dumps({"anna": anna.pk,
                  "coachees": [t.coachee_pseudonym for t in mine + [his]]}))
"""


def _moment(at: datetime) -> str:
    return at.astimezone(ZoneInfo("Europe/Amsterdam")).strftime("%Y-%m-%dT%H:%M")


def test_owner_registers_selects_affected_downloads_the_form_and_records_it(
    tmp_path: Path,
) -> None:
    with smtp() as (_inbox, env), running_server(tmp_path, extra_env=env) as server, \
            sync_playwright() as pw:
        world = json.loads(server.shell(SETUP).strip().splitlines()[-1])
        viewed, before, his = world["coachees"][:2], world["coachees"][2], world["coachees"][3]
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_context(locale="nl-NL", accept_downloads=True).new_page()
        staff_sign_in(page, server.url, "eva")

        page.goto(f"{server.url}/incidents/new/")
        page.fill("#id_summary", "Een medewerker meldt dat een collega zonder reden dossiers "
                                 "opende.")
        page.check("input[name=reported_by][value=staff]")
        page.check("input[name=data_categories][value=contact]")
        page.fill("#id_consequences", "Inzage in contactgegevens door een onbevoegde.")
        page.click("button.primary")
        expect(page.get_by_test_id("incident-clock")).to_be_visible()
        page.check("input[name='assess-risk'][value=risk]")
        page.fill("#id_assess-reasons", "Contactgegevens ingezien zonder reden.")
        page.locator("form[action$='/assess/'] button").click()
        expect(page.get_by_test_id("risk")).to_be_visible()

        page.get_by_test_id("affected-link").click()
        expect(page.get_by_test_id("paper-cannot")).to_be_visible()
        now = datetime.now(ZoneInfo("UTC"))
        page.select_option("#id_viewed-user", str(world["anna"]))
        page.fill("#id_viewed-since", _moment(now - timedelta(hours=6)))
        page.fill("#id_viewed-until", _moment(now + timedelta(minutes=5)))
        page.get_by_test_id("select-viewed").click()
        expect(page.get_by_test_id("affected-count")).to_contain_text("2")
        listed = page.get_by_test_id("affected-list").inner_text()
        assert all(p in listed for p in viewed)
        assert before not in listed and his not in listed

        page.goto(page.url.replace("/affected/", "/authority-form/"))
        expect(page.get_by_test_id("people")).to_contain_text("2")
        with page.expect_download() as download:
            page.get_by_test_id("authority-pdf").click()
        pdf = tmp_path / "melding.pdf"
        download.value.save_as(pdf)
        text = " ".join(subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True,
                                       text=True, check=True).stdout.split())
        assert re.search(r"\b2 (personen|people)\b", text), text
        # two trajectories and their two intake contact moments
        assert re.search(r"\b4 (registraties|records)\b", text), text
        assert "zonder reden dossiers" in text

        page.goto(page.url.replace("/authority-form/", "/"))
        page.fill("#id_notify-submitted_at", _moment(datetime.now(ZoneInfo("UTC"))))
        page.fill("#id_notify-reference", "AP-2026-104233")
        page.locator("form[action$='/notify/'] button").click()
        expect(page.get_by_test_id("notification-row")).to_contain_text("AP-2026-104233")
        browser.close()
        assert server.manage("audit", "verify").stdout.startswith("OK")
