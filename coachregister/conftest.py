"""The shared test harness (DESIGN.md): one user per role, signed-in clients, the clock.

The test client's address (127.0.0.1) is inside the test practice's office network, so a
password suffices unless a test says otherwise (REMOTE_ADDR=..., or `outside_office`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from coachregister.accounts import services as account_services
from coachregister.accounts.middleware import SESSION_LOGIN_AT
from coachregister.accounts.models import ConfidentialityAcceptance, Role, User
from coachregister.practice.models import PracticeSettings

OFFICE_ADDRESS = "127.0.0.1"
OUTSIDE_ADDRESS = "203.0.113.9"
PASSWORD = "correct-horse-battery-staple-42"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test names the one article of the regulation it proves (the traceability table
    counts them). PostgreSQL-only tests are deselected, not skipped, on SQLite; CI runs both
    engines."""
    wrong = [
        item.nodeid for item in items
        if len({m.args[0] for m in item.iter_markers("article")}) != 1
    ]
    if wrong:
        raise pytest.UsageError(
            "each test carries exactly one article marker: " + ", ".join(wrong[:20])
        )
    if connection.vendor == "postgresql":
        return
    keep = [item for item in items if item.get_closest_marker("postgres") is None]
    if len(keep) != len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in keep])
        items[:] = keep


@pytest.fixture(autouse=True)
def _audit_triggers_for_flush(request: pytest.FixtureRequest) -> Iterator[None]:
    """Transactional tests end with a flush, which the append-only triggers refuse; drop them
    just before it (this fixture is set up after the database one, so it is torn down
    first). The post_migrate handler that the flush fires puts them back."""
    marker = request.node.get_closest_marker("django_db")
    transactional = bool(marker and marker.kwargs.get("transaction")) or any(
        name in request.fixturenames for name in ("transactional_db", "live_server")
    )
    if transactional:
        request.getfixturevalue("_django_db_helper")
    yield
    if transactional:
        from coachregister.audit import triggers

        triggers.drop(connection)


@pytest.fixture
def practice(db: None) -> PracticeSettings:
    settings = PracticeSettings.load()
    settings.name = "Testpraktijk"
    settings.office_networks = "127.0.0.0/8\n192.0.2.0/24"
    settings.save()
    return settings


@pytest.fixture
def statement(practice: PracticeSettings) -> object:
    return account_services.statement_publish(actor=None, request=None)


@pytest.fixture
def make_user(statement: object) -> Callable[..., User]:
    counter = iter(range(1, 10_000))

    def make(role: str = Role.COACH, *, accepted: bool = True, **fields: object) -> User:
        n = next(counter)
        defaults: dict[str, object] = {
            "username": f"{role}{n}",
            "full_name": f"{role.title()} {n}",
            "email": f"{role}{n}@staff.example",
            "role": role,
        }
        if role == Role.THIRD_PARTY:
            defaults["contract_reference"] = f"C-{n}"
            defaults["contract_end"] = timezone.localdate() + timedelta(days=30)
        defaults.update(fields)
        user = User(**defaults)
        user.set_password(PASSWORD)
        user.save()
        if accepted:
            ConfidentialityAcceptance.objects.create(user=user, statement=statement)
        return user

    return make


@pytest.fixture
def owner(make_user: Callable[..., User]) -> User:
    return make_user(Role.OWNER)


@pytest.fixture
def administrator(make_user: Callable[..., User]) -> User:
    return make_user(Role.ADMINISTRATOR)


@pytest.fixture
def coach(make_user: Callable[..., User]) -> User:
    """The coach of the trajectory (later issues give this coach the trajectory)."""
    return make_user(Role.COACH)


@pytest.fixture
def other_coach(make_user: Callable[..., User]) -> User:
    """A coach without the trajectory."""
    return make_user(Role.COACH)


@pytest.fixture
def third_party(make_user: Callable[..., User]) -> User:
    return make_user(Role.THIRD_PARTY)


@pytest.fixture
def auditor(make_user: Callable[..., User]) -> User:
    return make_user(Role.AUDITOR)


@pytest.fixture
def outsider() -> Client:
    """Someone without an account: an anonymous client."""
    return Client()


def sign_in(client: Client, user: User) -> Client:
    """A session as after a real sign-in from the office (login time set for the timeouts)."""
    client.force_login(user, backend="coachregister.accounts.backends.StaffBackend")
    session = client.session
    session[SESSION_LOGIN_AT] = time.time()
    session.save()
    return client


def confirm_recently(client: Client) -> Client:
    """As if the signed-in user had just confirmed it is them (accounts/reauth.py): sensitive
    actions (a password reset, a role change, publishing, the sign-in policy) are open for
    `settings.REAUTH_MINUTES` from now."""
    from coachregister.accounts.reauth import SESSION_KEY

    session = client.session
    session[SESSION_KEY] = time.time()
    session.save()
    return client


@pytest.fixture
def client_for() -> Callable[[User], Client]:
    def make(user: User) -> Client:
        return sign_in(Client(), user)

    return make


ROLE_FIXTURES = ["owner", "administrator", "coach", "other_coach", "third_party", "auditor"]


@pytest.fixture
def own_keys(settings: object, tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> object:
    """A key directory of the test's own, for tests that rotate or replace keys (and for the
    servers they start): the session's shared epochs stay untouched."""
    path = tmp_path / "keys"  # type: ignore[operator]
    settings.COACHREGISTER_KEY_DIR = path  # type: ignore[attr-defined]
    monkeypatch.setenv("COACHREGISTER_KEY_DIR", str(path))
    return path


@pytest.fixture(autouse=True)
def _own_evidence(settings: object, tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test its own evidence directory: anchors written for one test's database must
    not stand against the next test's trail."""
    path = tmp_path / "evidence"  # type: ignore[operator]
    settings.COACHREGISTER_EVIDENCE_DIR = path  # type: ignore[attr-defined]
    monkeypatch.setenv("COACHREGISTER_EVIDENCE_DIR", str(path))
