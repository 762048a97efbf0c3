"""Art. 12.2: a locked account is protected, not closed. Five wrong passwords from five
addresses lock the account; from then on the password alone no longer signs in from outside,
but the password and the code together do, and from the office the password does. Every other
attempt gets one and the same answer, which says nothing about which part was right."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from coachregister.accounts import policy
from coachregister.accounts.models import User
from coachregister.audit.models import Event
from coachregister.conftest import OFFICE_ADDRESS, PASSWORD

pytestmark = [pytest.mark.django_db, pytest.mark.article("12.2")]

LOGIN = reverse("accounts:login")
DASHBOARD = reverse("accounts:dashboard")
WRONG = "wrong-password-77"
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')


def _addresses() -> Iterator[str]:
    """A fresh outside address for every attempt: the attacker of this test spreads their
    guesses, so the per-address lock never applies and only the account lock is at work."""
    n = 0
    while True:
        n += 1
        yield f"198.51.{100 + n // 250}.{n % 250 + 1}"


ADDRESSES = _addresses()


def outside() -> str:
    return next(ADDRESSES)


def attempt(username: str, password: str, *, address: str, token: str | None = None,
            client: Client | None = None) -> tuple[Client, object]:
    client = client or Client()
    data = {"username": username, "password": password}
    if token is not None:
        data["token"] = token
    return client, client.post(LOGIN, data, REMOTE_ADDR=address)


def lock(username: str, settings: object) -> None:
    """Wrong passwords from as many addresses as the limit: the account locks."""
    limit = settings.AXES_FAILURE_LIMIT  # type: ignore[attr-defined]
    for _ in range(limit):
        attempt(username, WRONG, address=outside())
    assert policy.account_locked(username)


def with_totp(user: User) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)


def code_for(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def wrong_code(device: TOTPDevice) -> str:
    return "000000" if code_for(device) != "000000" else "111111"


def unthrottle(device: TOTPDevice) -> None:
    """django-otp waits a second after a wrong code; a person would, too."""
    device.refresh_from_db()
    device.throttling_failure_count = 0
    device.throttling_failure_timestamp = None
    device.save()


def signed_in(client: Client, address: str) -> User | None:
    response = client.get(DASHBOARD, REMOTE_ADDR=address)
    return response.wsgi_request.user if response.status_code == 200 else None


def body(response: object, username: str) -> str:
    """The page without what differs on every render (the CSRF token) and without the
    username, which the form shows back as it was typed."""
    text = response.content.decode()  # type: ignore[attr-defined]
    return CSRF.sub("", text).replace(username, "USERNAME")


def is_locked_answer(response: object) -> bool:
    templates = [t.name for t in response.templates]  # type: ignore[attr-defined]
    return response.status_code == 429 and "accounts/login.html" in templates  # type: ignore[attr-defined]


def test_five_addresses_lock_the_account_and_the_fifth_answer_asks_for_the_code(
    coach: User, settings: object
) -> None:
    limit = settings.AXES_FAILURE_LIMIT  # type: ignore[attr-defined]
    for _ in range(limit - 1):
        _client, response = attempt(coach.username, WRONG, address=outside())
        assert response.status_code == 200
    _client, fifth = attempt(coach.username, WRONG, address=outside())
    assert is_locked_answer(fifth)
    assert 'name="token"' in fifth.content.decode()
    event = Event.objects.get(action="accounts.login.locked_out")
    assert event.actor == coach and event.detail == {"reason": "account_locked"}
    assert coach.username not in str(event.detail) and event.object_id == str(coach.pk)


def test_office_and_right_password_signs_in_while_locked(
    coach: User, settings: object
) -> None:
    lock(coach.username, settings)
    client, response = attempt(coach.username, PASSWORD, address=OFFICE_ADDRESS)
    assert response.status_code == 302 and response["Location"] == DASHBOARD
    assert signed_in(client, OFFICE_ADDRESS) == coach
    event = Event.objects.get(action="accounts.login.succeeded")
    assert event.actor == coach
    assert event.detail == {"second_factor": False, "account_locked": True}
    # The right password ended the lock: the count starts again.
    assert policy.account_failures(coach.username) == 0
    assert not policy.account_locked(coach.username)


def test_office_and_wrong_password_gets_the_locked_answer(
    coach: User, settings: object
) -> None:
    lock(coach.username, settings)
    client, response = attempt(coach.username, WRONG, address=OFFICE_ADDRESS)
    assert is_locked_answer(response)
    assert signed_in(client, OFFICE_ADDRESS) is None


def test_outside_and_right_pair_signs_in_while_locked(coach: User, settings: object) -> None:
    device = with_totp(coach)
    lock(coach.username, settings)
    address = outside()
    client, response = attempt(coach.username, PASSWORD, address=address, token=code_for(device))
    assert response.status_code == 302 and response["Location"] == DASHBOARD
    assert signed_in(client, address) == coach
    event = Event.objects.get(action="accounts.login.succeeded")
    assert event.detail == {"second_factor": True, "account_locked": True}
    assert policy.account_failures(coach.username) == 0


def test_outside_right_password_wrong_code_is_refused_and_counted(
    coach: User, settings: object
) -> None:
    device = with_totp(coach)
    lock(coach.username, settings)
    before = policy.account_failures(coach.username)
    address = outside()
    client, response = attempt(coach.username, PASSWORD, address=address, token=wrong_code(device))
    assert is_locked_answer(response)
    assert signed_in(client, address) is None
    # A wrong pair does not reset the lock; it counts as one more failure.
    assert policy.account_failures(coach.username) == before + 1
    event = Event.objects.filter(action="accounts.login.failed").latest("seq")
    assert event.actor == coach and event.outcome == "denied"
    assert event.detail == {"reason": "locked_wrong_proof", "part": "second_factor"}


def test_outside_right_password_without_code_is_refused(coach: User, settings: object) -> None:
    with_totp(coach)
    lock(coach.username, settings)
    address = outside()
    client, response = attempt(coach.username, PASSWORD, address=address)
    assert is_locked_answer(response)
    assert signed_in(client, address) is None


def test_wrong_password_right_code_is_refused_and_does_not_spend_the_code(
    coach: User, settings: object
) -> None:
    device = with_totp(coach)
    backup = StaticDevice.objects.create(user=coach, name="backup")
    StaticToken.objects.create(device=backup, token="abcd1234")
    lock(coach.username, settings)
    before = policy.account_failures(coach.username)
    address = outside()
    client, response = attempt(coach.username, WRONG, address=address, token=code_for(device))
    assert is_locked_answer(response)
    assert signed_in(client, address) is None
    _client, response = attempt(coach.username, WRONG, address=outside(), token="abcd1234")
    assert is_locked_answer(response)
    assert policy.account_failures(coach.username) == before + 2
    assert Event.objects.filter(action="accounts.login.failed", detail__part="password").count() == 2
    # The codes were never looked at: the backup code still works with the right password.
    assert StaticToken.objects.filter(device=backup, token="abcd1234").exists()
    client, response = attempt(coach.username, PASSWORD, address=address, token="abcd1234")
    assert response.status_code == 302 and signed_in(client, address) == coach


def test_locked_account_without_second_factor_outside_gets_the_same_answer(
    coach: User, settings: object
) -> None:
    lock(coach.username, settings)
    _c, right = attempt(coach.username, PASSWORD, address=outside(), token="123456")
    _c, wrong = attempt(coach.username, WRONG, address=outside(), token="123456")
    assert is_locked_answer(right) and is_locked_answer(wrong)
    assert body(right, coach.username) == body(wrong, coach.username)
    parts = Event.objects.filter(detail__reason="locked_wrong_proof").order_by("seq")
    assert [e.detail["part"] for e in parts] == ["second_factor_missing", "password"]


def test_unknown_username_locks_and_answers_the_same(coach: User, settings: object) -> None:
    device = with_totp(coach)
    lock(coach.username, settings)
    lock("nobody", settings)
    _c, unknown = attempt("nobody", PASSWORD, address=outside(), token=code_for(device))
    _c, known = attempt(coach.username, WRONG, address=outside(), token=code_for(device))
    assert is_locked_answer(unknown) and is_locked_answer(known)
    assert body(unknown, "nobody") == body(known, coach.username)
    for event in Event.objects.filter(action__startswith="accounts.login."):
        assert "nobody" not in str(event.detail) and event.object_id != "nobody"


def test_a_locked_account_answer_does_not_reveal_whether_the_password_was_right(
    coach: User, settings: object
) -> None:
    """Full response bodies, CSRF token removed: wrong password, wrong code, both wrong, no
    code, and an unknown username give the same page with the same status."""
    device = with_totp(coach)
    lock(coach.username, settings)
    lock("nobody", settings)
    cases = [
        (coach.username, WRONG, wrong_code(device)),  # both wrong
        (coach.username, PASSWORD, wrong_code(device)),  # right password, wrong code
        (coach.username, WRONG, None),  # wrong password, no code
        (coach.username, PASSWORD, None),  # right password, no code
        (coach.username, WRONG, code_for(device)),  # wrong password, right code
        ("nobody", PASSWORD, code_for(device)),  # no such account
    ]
    bodies = set()
    for username, password, token in cases:
        unthrottle(device)
        _client, response = attempt(username, password, address=outside(), token=token)
        assert is_locked_answer(response), (username == coach.username, password, token)
        bodies.add(body(response, username))
    assert len(bodies) == 1
    page = bodies.pop()
    assert PASSWORD not in page and code_for(device) not in page
    # The right pair still works after all that.
    unthrottle(device)
    address = outside()
    client, response = attempt(coach.username, PASSWORD, address=address, token=code_for(device))
    assert response.status_code == 302 and signed_in(client, address) == coach


def test_one_address_guessing_many_accounts_is_still_locked_out(
    make_user: Callable[..., User], settings: object
) -> None:
    limit = settings.AXES_FAILURE_LIMIT  # type: ignore[attr-defined]
    users = [make_user() for _ in range(limit + 1)]
    address = "198.51.99.1"
    for user in users[:limit]:
        attempt(user.username, WRONG, address=address)
    for user in users[:limit]:
        assert not policy.account_locked(user.username)  # one failure each
    client, response = attempt(users[-1].username, PASSWORD, address=address)
    assert response.status_code == 429
    assert "accounts/locked_out.html" in [t.name for t in response.templates]
    assert signed_in(client, address) is None
