"""A real SMTP server (aiosmtpd) on 127.0.0.1 for the outbox tests: the worker talks SMTP to
it through Django's own SMTP backend, as it does to the practice's mail server."""

from __future__ import annotations

import email
import email.policy
import threading
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any

import pytest
from aiosmtpd.controller import Controller

from coachregister.testing.server import free_port

if TYPE_CHECKING:
    from pytest_django.fixtures import Settings

FROM = "coachregister@praktijk.example"


class Inbox:
    """A real SMTP server's handler that keeps what it receives: (envelope recipients, raw
    message). Several workers may deliver at once, hence the lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            self.messages.append((list(envelope.rcpt_tos), bytes(envelope.content)))
        return "250 OK"

    def parsed(self) -> list[tuple[list[str], EmailMessage]]:
        with self._lock:
            received = list(self.messages)
        result = []
        for recipients, raw in received:
            message = email.message_from_bytes(raw, policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            result.append((recipients, message))
        return result


def body_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    # SMTP carries lines as CRLF and the MIME text ends with one; compare the text itself.
    return str(part.get_content()).replace("\r\n", "\n").removesuffix("\n")


@pytest.fixture
def smtp_port(settings: Settings) -> int:
    """A free port with nothing listening (yet); Django's SMTP backend points at it (the test
    runner's locmem backend would never open a socket)."""
    port = free_port()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.DEFAULT_FROM_EMAIL = FROM
    return port


@pytest.fixture
def start_inbox(smtp_port: int) -> Iterator[Callable[[], Inbox]]:
    """Starts the SMTP server on `smtp_port` when called, so a test can begin with it down."""
    controllers: list[Controller] = []

    def start() -> Inbox:
        box = Inbox()
        controller = Controller(
            box, hostname="127.0.0.1", port=smtp_port, server_hostname="localhost"
        )
        controller.start()
        controllers.append(controller)
        return box

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture
def inbox(start_inbox: Callable[[], Inbox]) -> Inbox:
    """The SMTP server, up."""
    return start_inbox()
