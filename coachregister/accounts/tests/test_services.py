"""Roles and their changes (art. 1.4-1.7, 4.1b), each audited without personal data."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from coachregister.accounts import services
from coachregister.accounts.models import Role, User
from coachregister.audit import chain
from coachregister.audit.models import Event

pytestmark = pytest.mark.django_db


def create(actor: User, role: str, username: str = "nieuw", **extra: object) -> User:
    user, _password = services.user_create(
        actor=actor, request=None, username=username, full_name="Nieuwe Collega",
        email="nieuw@staff.example", role=role, **extra,
    )
    return user


@pytest.mark.article("4.1b")
def test_owner_appoints_the_administrator_and_the_previous_one_steps_down(
    owner: User, administrator: User
) -> None:
    new = create(owner, Role.ADMINISTRATOR)
    administrator.refresh_from_db()
    assert new.role == Role.ADMINISTRATOR and administrator.role == Role.COACH
    assert list(User.objects.filter(role=Role.ADMINISTRATOR)) == [new]
    change = Event.objects.get(action="accounts.role.changed")
    assert change.object_id == str(administrator.pk) and change.actor == owner
    assert change.detail == {"from_role": "administrator", "to_role": "coach"}


@pytest.mark.article("4.1b")
@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMINISTRATOR])
def test_administrator_cannot_appoint_owner_or_administrator(
    administrator: User, role: str
) -> None:
    with pytest.raises(PermissionDenied):
        create(administrator, role)
    assert not User.objects.filter(username="nieuw").exists()


@pytest.mark.parametrize("role", [Role.COACH, Role.THIRD_PARTY, Role.AUDITOR])
@pytest.mark.article("4.1b")
def test_no_one_but_the_register_roles_manage_users(
    make_user: Callable[..., User], role: str
) -> None:
    with pytest.raises(PermissionDenied):
        create(make_user(role), Role.COACH)


@pytest.mark.article("5.3")
def test_third_party_needs_contract_reference_and_end(owner: User) -> None:
    with pytest.raises(ValidationError):
        create(owner, Role.THIRD_PARTY)
    user = create(owner, Role.THIRD_PARTY, contract_reference="C-7",
                  contract_end=timezone.localdate() + timedelta(days=3))
    assert user.contract_reference == "C-7"


@pytest.mark.article("4.1b")
def test_role_change_is_audited_with_roles_only(owner: User, coach: User) -> None:
    services.user_update(
        actor=owner, request=None, user=coach, full_name=coach.full_name, email=coach.email,
        role=Role.AUDITOR,
    )
    coach.refresh_from_db()
    assert coach.role == Role.AUDITOR
    event = Event.objects.get(action="accounts.role.changed")
    assert event.detail == {"from_role": "coach", "to_role": "auditor"}
    assert coach.full_name not in str(event.detail) and coach.email not in str(event.detail)


@pytest.mark.article("1.4")
def test_the_last_owner_stays(owner: User) -> None:
    with pytest.raises(ValidationError):
        services.user_update(actor=owner, request=None, user=owner, full_name=owner.full_name,
                             email=owner.email, role=Role.COACH)
    with pytest.raises(ValidationError):
        services.user_set_active(actor=owner, request=None, user=owner, active=False)
    second = create(owner, Role.OWNER, username="tweede")
    services.user_set_active(actor=second, request=None, user=owner, active=False)
    owner.refresh_from_db()
    assert not owner.is_active


@pytest.mark.article("12.2")
def test_invalid_password_writes_nothing(owner: User) -> None:
    before = Event.objects.count()
    with pytest.raises(ValidationError):
        services.user_create(actor=owner, request=None, username="kort", full_name="K",
                             email="k@staff.example", role=Role.COACH, password="short")
    assert not User.objects.filter(username="kort").exists()
    assert Event.objects.count() == before


@pytest.mark.article("4.1b")
def test_duplicate_username_is_refused_case_insensitively(owner: User) -> None:
    create(owner, Role.COACH, username="Sam")
    with pytest.raises(ValidationError):
        create(owner, Role.COACH, username="sam")


@pytest.mark.article("12.2")
def test_password_reset_ends_sessions_and_is_audited(owner: User, coach: User) -> None:
    old_hash = coach.get_session_auth_hash()
    password = services.user_reset_password(actor=owner, request=None, user=coach)
    coach.refresh_from_db()
    assert coach.check_password(password)
    assert coach.get_session_auth_hash() != old_hash
    assert Event.objects.filter(action="accounts.password.reset", object_id=str(coach.pk)).exists()


@pytest.mark.article("1.4")
def test_bootstrap_owner_only_once(db: None, statement: object) -> None:
    user, password = services.owner_bootstrap(
        username="eerste", full_name="Eerste Eigenaar", email="e@staff.example"
    )
    assert user.role == Role.OWNER and user.check_password(password)
    with pytest.raises(ValidationError):
        services.owner_bootstrap(username="tweede", full_name="T", email="t@staff.example")


@pytest.mark.article("6")
def test_account_events_keep_the_chain_intact(owner: User, coach: User) -> None:
    create(owner, Role.COACH)
    services.user_sign_out_everywhere(actor=owner, request=None, user=coach)
    assert chain.verify(chain.iter_rows()).ok


@pytest.mark.article("6")
def test_no_event_carries_a_name_email_or_username(
    owner: User, client_for: Callable[..., object]
) -> None:
    """A whole working day of account events, then a scan of every column of the trail."""
    from django.test import Client

    from coachregister.conftest import PASSWORD

    user = create(owner, Role.COACH, username="jan.jansen")
    services.user_update(actor=owner, request=None, user=user, full_name="Jan Jansen-de Vries",
                         email="jan.jansen@staff.example", role=Role.AUDITOR)
    services.user_reset_password(actor=owner, request=None, user=user)
    Client().post("/login/", {"username": "jan.jansen", "password": "wrong-password-1"})
    Client().post("/login/", {"username": "onbekend@example.org", "password": PASSWORD})
    secrets = ["jan.jansen", "Jansen", "jan.jansen@staff.example", "onbekend@example.org",
               owner.full_name, owner.email, owner.username]
    for row in Event.objects.values():
        text = " ".join(str(value) for value in row.values())
        for secret in secrets:
            assert secret not in text, (row["action"], secret)
