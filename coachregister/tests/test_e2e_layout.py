"""Screens that hold on a phone and on a desktop (art. 5.1: every role reaches its pages; issue
14): every role (owner, administrator, coach, third party, auditor, and the coachee in the
portal) walks through its main pages at 390 px and at 1280 px wide. On every page the
document is no wider than the window (no sideways scrolling), and a screenshot is saved into
`var/screenshots/` (or COACHREGISTER_SCREENSHOTS) for a reviewer to look at.

The data are chosen to stretch the layout: a long email address and a long client name.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from coachregister.testing.e2e import PASSWORD, smtp, staff_setup
from coachregister.testing.server import CHROMIUM, CHROMIUM_ARGS, Server, running_server

pytestmark = [pytest.mark.browser, pytest.mark.article("5.1")]

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(os.environ.get("COACHREGISTER_SCREENSHOTS") or REPO / "var" / "screenshots")
WIDTHS = {"390": {"width": 390, "height": 844}, "1280": {"width": 1280, "height": 800}}
LONG_EMAIL = "zoe.van.den.berg-oudenhoven@een-heel-lange-domeinnaam-voorbeeld.example"

SETUP = staff_setup(("eva", "owner"), ("bas", "administrator"), ("anna", "coach")) + f"""
import json
from datetime import timedelta
from django.utils import timezone
from coachregister.audit.engagements import engagement_open
from coachregister.coachees.vault import Contact
from coachregister.notes.services import session_record
from coachregister.rights import services as rights
from coachregister.testing import factories
from coachregister.trajectories import services as trajectories
eva, anna = User.objects.get(username="eva"), User.objects.get(username="anna")
ict = User(username="ict", full_name="IT Ondersteuning Noord-Holland B.V.",
           email="support@ict.example", role="third_party", contract_reference="C-2026-17",
           contract_end=timezone.localdate() + timedelta(days=60))
ict.set_password("{PASSWORD}")
ict.save()
olga = User(username="olga", full_name="Olga Auditor", email="olga@audit.example",
            role="auditor")
olga.set_password("{PASSWORD}")
olga.save()
client = factories.client(eva, "Zorggroep Noord-Hollandse Kust en Achterland Coöperatief U.A.")
trajectory = factories.trajectory(eva, anna, contact=Contact(
    "Zoë", "van den Berg-Oudenhoven", "{LONG_EMAIL}", "+31612345678"))
session = session_record(actor=anna, request=None, trajectory=trajectory,
                         held_on=trajectory.started_on, kind="video", duration_minutes=45,
                         keywords="perfectionisme, werkdruk, grenzen stellen, zwemmen")
waiting, _token, _code = trajectories.trajectory_open(actor=eva, request=None, client=client,
                                                       coach=anna)
data_request = rights.request_register(
    actor=eva, request=None, coachee=trajectory.coachee, kind="access", channel="letter",
    verification="identiteitsbewijs gezien")
services.third_party_scope_set(actor=eva, request=None, user=ict, trajectories=[trajectory])
now = timezone.now()
engagement = engagement_open(actor=eva, request=None, auditor=olga,
                             window_from=now - timedelta(days=1),
                             window_until=now + timedelta(days=30), sample_size=5)
print(json.dumps({{
    "trajectory": trajectory.pseudonym, "coachee": trajectory.coachee.pseudonym,
    "waiting": waiting.pseudonym, "request": data_request.pk, "engagement": engagement.pk,
    "session": session.pk,
}}))
"""


def pages_of(role: str, ids: dict[str, object]) -> list[tuple[str, str]]:
    """(name, path) of the main pages of a role, in the order a user would go."""
    t, c = ids["trajectory"], ids["coachee"]
    common = [("dashboard", "/"), ("account", "/account/")]
    runner = [
        ("trajectories", "/trajectories/"), ("trajectory", f"/trajectories/{t}/"),
        ("coachees", "/coachees/"), ("dossier", f"/dossiers/{t}/"),
        ("requests", "/requests/"), ("request", f"/requests/{ids['request']}/"),
        ("request-new", f"/coachees/{c}/requests/new/"),
        ("request-correction", f"/coachees/{c}/requests/new/?kind=rectification"),
        ("audit-trail", "/audit/"), ("users", "/users/"), ("settings", "/practice/settings/"),
        ("clients", "/trajectories/clients/"), ("retention", "/retention/"),
        ("incidents", "/incidents/"), ("complaints", "/complaints/"),
        ("recipients", "/recipients/"), ("audits", "/audit/engagements/"),
        ("report", "/trajectories/report/"),
    ]
    return {
        "owner": common + runner,
        "administrator": common + runner[:12],
        "coach": [
            *common, ("trajectories", "/trajectories/"), ("trajectory", f"/trajectories/{t}/"),
            ("coachees", "/coachees/"), ("contact", f"/coachees/{c}/"),
            ("dossier", f"/dossiers/{t}/"), ("session", f"/sessions/{ids['session']}/"),
        ],
        "third_party": [*common, ("trajectory", f"/trajectories/{t}/")],
        "auditor": [
            *common, ("audits", "/audit/engagements/"),
            ("engagement", f"/audit/engagements/{ids['engagement']}/"),
            ("report", "/trajectories/report/"), ("dossier", f"/dossiers/{t}/"),
        ],
    }[role]


def fits(page: Page) -> tuple[int, int]:
    return page.evaluate(
        "() => [document.documentElement.scrollWidth, window.innerWidth]")


# For the failure message: the deepest elements that stick out to the right.
WIDE = """() => Array.from(document.querySelectorAll('body *'))
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1
               && !Array.from(e.children).some(
                    c => c.getBoundingClientRect().right > window.innerWidth + 1))
  .slice(0, 5).map(e => e.tagName.toLowerCase() + '.' + e.className + ' '
                        + Math.round(e.getBoundingClientRect().right))"""


class Walk:
    """Visits pages of one role at one width: checks the width, keeps a screenshot."""

    def __init__(self, page: Page, server: Server, role: str, width: str) -> None:
        self.page, self.server, self.role, self.width = page, server, role, width
        self.visited: list[str] = []
        self.problems: list[object] = []
        self.csp_errors: list[str] = []
        page.on("console", lambda msg: self.csp_errors.append(msg.text)
                if "Content Security Policy" in msg.text else None)

    def check(self, name: str) -> None:
        scroll_width, inner_width = fits(self.page)
        if scroll_width > inner_width:  # all pages are walked; the test fails at the end
            self.problems.append((name, self.page.url, scroll_width, inner_width,
                                  self.page.evaluate(WIDE)))
        self.page.screenshot(path=SCREENSHOTS / f"{self.width}-{self.role}-{name}.png",
                             full_page=True)
        self.visited.append(name)

    def visit(self, name: str, path: str) -> None:
        response = self.page.goto(f"{self.server.url}{path}")
        if response is None or response.status >= 400:
            self.problems.append((name, path, response and response.status))
        self.check(name)


@pytest.fixture(scope="module")
def screenshots() -> Iterator[Path]:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for old in SCREENSHOTS.glob("*.png"):
        old.unlink()
    yield SCREENSHOTS


def sign_in(page: Page, url: str, username: str) -> None:
    """Sign in from the office; the confidentiality statement is asked only the first time
    (each role signs in once per width)."""
    page.goto(f"{url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button.primary")
    page.wait_for_load_state()
    if page.locator("#id_accept").count():
        page.check("#id_accept")
        page.click("button.primary")
        page.wait_for_load_state()
    assert "/login/" not in page.url, page.url


def staff_walk(browser: Browser, server: Server, ids: dict[str, object], role: str,
               username: str, width: str) -> Walk:
    context = browser.new_context(locale="nl-NL", viewport=WIDTHS[width],
                                  permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    walk = Walk(page, server, role, width)
    sign_in(page, server.url, username)
    expect(page.locator("nav[aria-label]")).to_be_visible()
    for name, path in pages_of(role, ids):
        walk.visit(name, path)
    if role == "owner":
        for step in (invitation, dashboard_requests, decide_asks_first):
            try:
                step(walk, ids)
            except (AssertionError, PlaywrightError) as failed:  # reported with the others
                walk.problems.append((step.__name__, repr(failed)[:500]))
    context.close()
    return walk


def invitation(walk: Walk, ids: dict[str, object]) -> None:
    """The invitation page: the whole link in view, a copy button that works under the CSP,
    the code in large type."""
    page = walk.page
    page.goto(f"{walk.server.url}/trajectories/{ids['waiting']}/")
    page.get_by_role("button", name="Nieuwe uitnodiging maken").click()
    link = page.get_by_test_id("invitation-link")
    expect(link).to_contain_text("/intake/")
    box = link.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= fits(page)[1]
    code_size = page.get_by_test_id("invitation-code").evaluate(
        "e => parseFloat(getComputedStyle(e).fontSize)")
    body_size = page.evaluate("() => parseFloat(getComputedStyle(document.body).fontSize)")
    assert code_size >= 1.5 * body_size
    copy = page.get_by_test_id("copy-link")
    expect(copy).to_be_visible()  # the static script ran: the CSP allowed it
    copy.click()
    expect(page.locator("#invitation-link-status")).not_to_be_empty()
    copied = page.evaluate("() => navigator.clipboard.readText()")
    assert copied == link.inner_text().strip()
    walk.check("invitation")


def decide_asks_first(walk: Walk, ids: dict[str, object]) -> None:
    """Deciding cannot be undone: the refusal grounds appear once "refused" is chosen (CSS
    only), and the decision is carried out only after a page that says what it will do."""
    page = walk.page
    page.goto(f"{walk.server.url}/requests/{ids['request']}/")
    grounds = page.locator(".field:has(#id_grounds)")
    expect(grounds).to_be_hidden()
    page.check("input[name=decision][value=refused]")
    expect(grounds).to_be_visible()
    walk.check("request-refusing")
    page.check("input[name=grounds][value=a]")
    page.fill("#id_justification", "Het belang van een ander weegt zwaarder.")
    page.locator("form.decide button.primary").click()
    expect(page.get_by_test_id("confirm")).to_be_visible()
    walk.check("decide-confirm")
    page.get_by_test_id("confirm-back").click()  # nothing is decided
    expect(page.locator("form.decide")).to_be_visible()


def dashboard_requests(walk: Walk, ids: dict[str, object]) -> None:
    """At 1280 px the dashboard's request table shows the date owed and the days left
    without scrolling inside its card."""
    if walk.width != "1280":
        return
    page = walk.page
    page.goto(f"{walk.server.url}/")
    expect(page.get_by_test_id("days-left").first).to_be_visible()
    # The cell of the first open request, its table and the card around it.
    sizes = page.evaluate("""() => {
      const cell = document.querySelector('[data-testid=days-left]');
      const table = cell.closest('table'), card = table.parentElement;
      const due = cell.previousElementSibling.getBoundingClientRect();
      const days = cell.getBoundingClientRect(), box = card.getBoundingClientRect();
      return {table: [table.scrollWidth, table.clientWidth],
              card: [card.scrollWidth, card.clientWidth],
              right: [due.right, days.right, box.right], due: due.width};
    }""")
    assert sizes["table"][0] <= sizes["table"][1], sizes
    assert sizes["card"][0] <= sizes["card"][1], sizes
    assert sizes["due"] > 0 and max(sizes["right"]) <= 1280, sizes
    assert sizes["right"][1] <= sizes["right"][2], sizes  # inside the card, not cut off


def coachee_walk(browser: Browser, server: Server, inbox: object, width: str) -> Walk:
    context = browser.new_context(locale="nl-NL", viewport=WIDTHS[width])
    page = context.new_page()
    walk = Walk(page, server, "coachee", width)
    for name, path in [("intake", "/intake/"), ("regulation", "/practice/privacy/"),
                       ("login", "/login/"), ("portal-start", "/portal/")]:
        walk.visit(name, path)
    page.fill("#id_email", LONG_EMAIL)
    page.click("button.primary")
    expect(page.get_by_test_id("portal-sent")).to_be_visible()
    walk.check("portal-sent")
    before = len(inbox.portal_links())  # type: ignore[attr-defined]
    server.manage("worker", "--once")
    link = inbox.portal_links()[before]  # type: ignore[attr-defined]
    page.goto(link)
    expect(page.locator("h1")).to_be_visible()
    assert "/portal/home/" in page.url
    walk.check("portal-home")
    page.get_by_test_id("kind-rectification").click()
    expect(page.get_by_test_id("request-kind")).to_be_visible()
    walk.check("portal-request")
    page.fill("#id_phone", "06 87654321")
    page.locator("#request button.primary").click()
    expect(page.get_by_test_id("confirm")).to_be_visible()  # sending cannot be undone
    walk.check("portal-confirm")
    page.get_by_test_id("confirm-yes").click()
    expect(page.locator("ul.messages .success")).to_be_visible()
    walk.check("portal-request-sent")
    walk.visit("portal-complaint", "/complaints/portal/")
    context.close()
    return walk


def test_every_role_has_pages_that_fit_at_390_and_1280(tmp_path: Path,
                                                       screenshots: Path) -> None:
    with smtp() as (inbox, env), running_server(tmp_path, extra_env=env) as server, \
            sync_playwright() as pw:
        ids = json.loads(server.shell(SETUP).strip().splitlines()[-1])
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        walks: list[Walk] = []
        for width in WIDTHS:
            for role, username in [("owner", "eva"), ("administrator", "bas"),
                                   ("coach", "anna"), ("third_party", "ict"),
                                   ("auditor", "olga")]:
                walks.append(staff_walk(browser, server, ids, role, username, width))
            walks.append(coachee_walk(browser, server, inbox, width))
        browser.close()
    problems = {f"{w.role}@{w.width}": w.problems for w in walks if w.problems}
    assert not problems, json.dumps(problems, indent=1, default=str)
    for walk in walks:
        assert walk.visited, (walk.role, walk.width)
        assert walk.csp_errors == [], (walk.role, walk.width, walk.csp_errors)
    shots = {p.name for p in screenshots.glob("*.png")}
    assert {"390-owner-invitation.png", "1280-owner-dashboard.png",
            "390-coachee-portal-home.png", "390-coach-dossier.png"} <= shots
    assert all(re.match(r"(390|1280)-[a-z_]+-[a-z-]+\.png$", name) for name in shots)
