"""Issue 9, point 4, through the real login view: a broken X-Forwarded-For chain from a trusted
proxy that sits inside an office network does not make the request "from the office"
(art. 12.2), and does not put its clients in the proxy's lockout bucket."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from coachregister.accounts.models import User
from coachregister.audit.models import Event
from coachregister.conftest import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = reverse("accounts:login")
PROXY = "192.0.2.1"  # 192.0.2.0/24 is an office network of the test practice
OFFICE_CLIENT = "192.0.2.44"


@pytest.fixture
def behind_proxy(settings: object) -> None:
    settings.TRUSTED_PROXIES = [f"{PROXY}/32"]  # type: ignore[attr-defined]


def post_login(
    username: str, *, forwarded: str | None, password: str = PASSWORD
) -> object:
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return Client().post(
        LOGIN, {"username": username, "password": password}, REMOTE_ADDR=PROXY, **extra
    )


@pytest.mark.article("12.2")
@pytest.mark.parametrize(
    ("forwarded", "recorded"),
    [
        ("garbage", None),
        ("unknown", None),
        ("", None),
        ("203.0.113.5, unknown", None),
        ("203.0.113.5, , 192.0.2.1", None),
        ("[203.0.113.5]:4711", None),
        # Left of the client's own hop nothing is read: the client is the outsider.
        ("garbage, 203.0.113.5", "203.0.113.5"),
        ("unknown, 203.0.113.5", "203.0.113.5"),
        ("203.0.113.5:4711", "203.0.113.5"),
        ("[2001:db8::5]:4711", "2001:db8::5"),
    ],
)
def test_broken_chain_from_office_proxy_needs_the_second_step(
    coach: User, behind_proxy: None, forwarded: str, recorded: str | None
) -> None:
    # Controls: the proxy's own request, and a well-formed office client behind it, pass
    # with a password; so the refusal below is not the proxy being outside the office.
    assert post_login(coach.username, forwarded=None).status_code == 302
    assert post_login(coach.username, forwarded=OFFICE_CLIENT).status_code == 302

    response = post_login(coach.username, forwarded=forwarded)
    assert response.status_code == 403
    assert not response.wsgi_request.user.is_authenticated
    failed = Event.objects.get(action="accounts.login.failed")
    assert failed.detail == {"reason": "second_factor_missing"}
    # The audit records the client's address when known, and no address (never the
    # proxy's) when it is not.
    assert failed.client_ip == recorded


@pytest.mark.article("6")
def test_broken_chains_share_one_lockout_bucket_apart_from_everyone_else(
    coach: User, behind_proxy: None, settings: object
) -> None:
    """django-axes files an unknown address as NULL and counts those attempts together
    (lib/net.py). Locking that bucket refuses no well-formed client and not the proxy."""
    limit = settings.AXES_FAILURE_LIMIT  # type: ignore[attr-defined]
    for attempt in range(limit):
        # A different, unknown username each time: only the address bucket can fill up.
        post_login(f"nobody{attempt}", forwarded="unknown", password="wrong-pass-1")
    locked = post_login(coach.username, forwarded="203.0.113.5, garbage")
    assert locked.status_code == 429
    # The same proxy, forwarding a well-formed client, and its own request: not locked.
    assert post_login(coach.username, forwarded=OFFICE_CLIENT).status_code == 302
    assert post_login(coach.username, forwarded=None).status_code == 302
    assert post_login(coach.username, forwarded="203.0.113.7").status_code == 403
