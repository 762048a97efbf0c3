"""The owner sees the erasure bound and the oldest living epoch (issue 9, finding 1)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from coachregister.accounts.models import User
from coachregister.keys import keyring

pytestmark = [pytest.mark.django_db, pytest.mark.article("8.3")]


def test_the_owner_sees_the_bound_and_the_oldest_epoch(
    owner: User, coach: User, client_for: Callable[[User], Client], own_keys: object
) -> None:
    epoch = keyring.current_epoch()
    page = client_for(owner).get("/").content.decode()
    assert f"na {keyring.erasure_bound_days()} dagen" in page
    assert epoch.created_at.astimezone(timezone.get_current_timezone()).strftime("%Y") in page
    assert "controleer of de worker draait" not in page
    assert "Wisgrens" not in client_for(coach).get("/").content.decode()
    later = timezone.now() + timedelta(days=keyring.erasure_bound_days() + 2)
    with time_machine.travel(later, tick=False):
        page = client_for(owner).get("/").content.decode()
    assert "controleer of de worker draait" in page
