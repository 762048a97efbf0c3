"""What the browser tests share: a practice with staff made through the services, a real
SMTP server that keeps what it receives, and the steps of signing in (staff) and of opening
the portal by its mailed link (coachee)."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from email import message_from_bytes

from aiosmtpd.controller import Controller
from playwright.sync_api import Page

from coachregister.testing.server import free_port

PASSWORD = "a-long-test-passphrase-1"
LINK = re.compile(r"http://\S+/portal/enter/\S+/")


def staff_setup(*users: tuple[str, str]) -> str:
    """Python for `server.shell`: office networks (a password suffices from 127.0.0.1), the
    confidentiality statement, and a staff member per (username, role), named after it."""
    return f"""
from coachregister.accounts import services
from coachregister.accounts.models import User
from coachregister.practice import services as practice
practice.practice_update(actor=None, request=None, office_networks="127.0.0.0/8")
services.statement_publish(actor=None, request=None)
for username, role in {list(users)!r}:
    user = User(username=username, full_name=username.title(), email=username + "@staff.example",
                role=role)
    user.set_password("{PASSWORD}")
    user.save()
"""


class Inbox:
    """The bodies of the mails the SMTP server received, in order."""

    def __init__(self) -> None:
        self.bodies: list[str] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        mail = message_from_bytes(envelope.content)  # type: ignore[attr-defined]
        self.bodies.append(mail.get_payload(decode=True).decode())
        return "250 OK"

    def portal_links(self) -> list[str]:
        return [found.group(0) for body in self.bodies if (found := LINK.search(body))]


@contextlib.contextmanager
def smtp() -> Iterator[tuple[Inbox, dict[str, str]]]:
    """A running SMTP server: its inbox and the environment that points the register at it."""
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, {"EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(port)}
    finally:
        controller.stop()


def staff_sign_in(page: Page, url: str, username: str) -> None:
    """Sign in from the office (no second step) and accept the confidentiality statement."""
    page.goto(f"{url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button.primary")
    page.check("#id_accept")
    page.click("button.primary")
