"""`coachregister worker` sends the outbox (art. 3.1): one pass with --once, or until stopped."""

from __future__ import annotations

import io
import os
import signal
import threading

import pytest
from django.core.management import call_command

from coachregister.outbox import services
from coachregister.outbox.models import MessageStatus, OutboxMessage
from coachregister.outbox.tests.conftest import Inbox

pytestmark = [pytest.mark.django_db, pytest.mark.article("3.1")]


def enqueue(count: int) -> None:
    for n in range(count):
        services.message_enqueue(kind="test", to=f"c{n}@staff.example", subject="S", body="B")


def test_worker_once_sends_what_is_due(inbox: Inbox) -> None:
    enqueue(3)
    out = io.StringIO()
    call_command("worker", "--once", stdout=out)
    assert out.getvalue().strip() == "sent 3"
    assert sorted(recipients for recipients, _raw in inbox.messages) == [
        [f"c{n}@staff.example"] for n in range(3)
    ]
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {MessageStatus.SENT}

    again = io.StringIO()
    call_command("worker", "--once", stdout=again)
    assert again.getvalue().strip() == "sent 0"
    assert len(inbox.messages) == 3


def test_worker_once_with_smtp_down_keeps_the_mail(smtp_port: int) -> None:
    enqueue(2)
    out = io.StringIO()
    call_command("worker", "--once", stdout=out)  # no exception: the mail waits for a retry
    assert out.getvalue().strip() == "sent 0"
    assert list(OutboxMessage.objects.values_list("status", "attempts")) == [
        (MessageStatus.PENDING, 1),
        (MessageStatus.PENDING, 1),
    ]


def test_worker_leaves_the_signal_handlers_as_it_found_them(inbox: Inbox) -> None:
    """Called in-process (tests, another command), the worker must not keep SIGINT/SIGTERM:
    afterwards the process would no longer stop on Ctrl-C or on its supervisor's SIGTERM."""
    before = (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM))
    call_command("worker", "--once", stdout=io.StringIO())
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before


def test_worker_runs_until_sigterm_and_sends_each_mail_once(inbox: Inbox) -> None:
    enqueue(2)
    timer = threading.Timer(0.5, os.kill, args=(os.getpid(), signal.SIGTERM))
    timer.start()
    try:
        call_command("worker", "--interval", "0.05", stdout=io.StringIO())  # returns on SIGTERM
    finally:
        timer.cancel()
    assert sorted(recipients for recipients, _raw in inbox.messages) == [
        ["c0@staff.example"],
        ["c1@staff.example"],
    ]
