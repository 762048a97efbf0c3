"""The request pages as staff meet them (art. 7.1): "received on" starts at today, and a
decided request no longer counts days left."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from coachregister.accounts.models import User
from coachregister.rights import services as rights
from coachregister.rights.models import Kind
from coachregister.testing import factories

pytestmark = [pytest.mark.django_db, pytest.mark.article("7.1")]


def test_received_on_starts_at_today(
    owner: User, coach: User, client_for: Callable[[User], Client]
) -> None:
    coachee = factories.trajectory(owner, coach).coachee
    page = client_for(owner).get(reverse("rights:new", args=[coachee.pseudonym]),
                                 {"kind": "access"})
    today = timezone.localdate().isoformat()
    assert f'name="received_at" value="{today}T' in page.content.decode()


def test_a_decided_request_shows_no_days_left(
    owner: User, coach: User, client_for: Callable[[User], Client]
) -> None:
    coachee = factories.trajectory(owner, coach).coachee
    data_request = rights.request_register(
        actor=owner, request=None, coachee=coachee, kind=Kind.ACCESS, channel="email",
        verification="reply from the email on file")
    url = reverse("rights:detail", args=[data_request.pk])
    client = client_for(owner)
    assert 'data-testid="days-left"' in client.get(url).content.decode()
    rights.request_decide(actor=owner, request=None, data_request=data_request,
                          decision="granted")
    assert 'data-testid="days-left"' not in client.get(url).content.decode()
