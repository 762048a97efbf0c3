from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from coachregister.outbox import services
from coachregister.outbox.tests.conftest import Inbox

pytestmark = [pytest.mark.django_db, pytest.mark.article("3.1")]


def test_worker_once_sends_what_is_due(inbox: Inbox) -> None:
    for n in range(3):
        services.message_enqueue(kind="test", to=f"c{n}@staff.example", subject="S", body="B")
    out = io.StringIO()
    call_command("worker", "--once", stdout=out)
    assert out.getvalue().strip() == "sent 3"
    assert len(inbox.messages) == 3
