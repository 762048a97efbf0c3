"""User management pages: owners and the administrator only; others refused and audited."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from coachregister.accounts.models import Role, User
from coachregister.audit.models import Event
from coachregister.conftest import ROLE_FIXTURES, confirm_recently

pytestmark = [pytest.mark.django_db, pytest.mark.article("5.1")]

ALLOWED = {"owner", "administrator"}


@pytest.mark.parametrize("role_fixture", ROLE_FIXTURES)
def test_user_pages_per_role(
    role_fixture: str, request: pytest.FixtureRequest, client_for: Callable[[User], Client],
    coach: User,
) -> None:
    user = request.getfixturevalue(role_fixture)
    client = client_for(user)
    urls = [
        reverse("accounts:user_list"),
        reverse("accounts:user_new"),
        reverse("accounts:user_edit", args=[coach.pk]),
        reverse("practice:settings"),
    ]
    for url in urls:
        response = client.get(url)
        if role_fixture in ALLOWED:
            assert response.status_code == 200, url
        else:
            assert response.status_code == 403, url
    if role_fixture not in ALLOWED:
        denied = Event.objects.filter(action="accounts.access.denied", actor=user)
        assert denied.count() == len(urls)
        assert set(denied.values_list("outcome", flat=True)) == {"denied"}
    # Confirmed a moment ago (art. 12.2), so only the role decides.
    post = confirm_recently(client).post(
        reverse("accounts:user_action", args=[coach.pk, "deactivate"])
    )
    coach.refresh_from_db()
    assert coach.is_active is (role_fixture not in ALLOWED)
    assert post.status_code == (302 if role_fixture in ALLOWED else 403)


def test_anonymous_is_sent_to_login(outsider: Client, coach: User) -> None:
    response = outsider.get(reverse("accounts:user_edit", args=[coach.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_create_user_shows_password_once(owner: User, client_for: Callable[[User], Client]) -> None:
    client = client_for(owner)
    response = client.post(reverse("accounts:user_new"), {
        "username": "nieuwe.coach", "full_name": "Nieuwe Coach", "email": "nc@staff.example",
        "role": Role.COACH,
    })
    assert response.status_code == 200
    user = User.objects.get(username="nieuwe.coach")
    password = response.context["password"]
    assert user.check_password(password) and password in response.content.decode()


def test_bad_input_gets_messages_and_stores_nothing(
    owner: User, client_for: Callable[[User], Client]
) -> None:
    before = (User.objects.count(), Event.objects.count())
    response = client_for(owner).post(reverse("accounts:user_new"), {
        "username": "x y", "full_name": "", "email": "not-an-email", "role": Role.THIRD_PARTY,
    })
    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.errors) >= {"username", "full_name", "email", "contract_reference",
                                "contract_end"}
    assert (User.objects.count(), Event.objects.count()) == before


def test_administrator_cannot_edit_an_owner(
    administrator: User, owner: User, client_for: Callable[[User], Client]
) -> None:
    client = client_for(administrator)
    assert client.get(reverse("accounts:user_edit", args=[owner.pk])).status_code == 403
    response = client.post(reverse("accounts:user_action", args=[owner.pk, "reset-password"]))
    assert response.status_code == 403
    assert Event.objects.filter(action="accounts.access.denied", object_id=str(owner.pk)).count() == 2


def test_administrator_role_choices_exclude_owner_and_administrator(
    administrator: User, client_for: Callable[[User], Client]
) -> None:
    form = client_for(administrator).get(reverse("accounts:user_new")).context["form"]
    assert {value for value, _label in form.fields["role"].choices} == {
        "", Role.COACH, Role.THIRD_PARTY, Role.AUDITOR
    }
    response = client_for(administrator).post(reverse("accounts:user_new"), {
        "username": "baas", "full_name": "Baas", "email": "b@staff.example",
        "role": Role.OWNER,
    })
    assert response.status_code == 200 and not User.objects.filter(username="baas").exists()


def test_user_list_query_count_does_not_grow(
    owner: User, make_user: Callable[..., User], client_for: Callable[[User], Client]
) -> None:
    client = client_for(owner)
    url = reverse("accounts:user_list")
    for _ in range(3):
        make_user(Role.COACH)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for _ in range(30):
        make_user(Role.THIRD_PARTY)
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many) == len(few)

