"""Copies outside the register (art. 12.1): the coach's "Remove from your mailbox" card. An
open task shows the name (each showing audited, with the pseudonym only); after
confirmation or expiry only the pseudonym is left. Only the assignee confirms."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from coachregister.accounts.models import User
from coachregister.audit.models import Event
from coachregister.retention import mailbox
from coachregister.retention.models import MailboxTask
from coachregister.testing import factories
from coachregister.testing.factories import ANNE

pytestmark = pytest.mark.django_db


def _task(owner: User, coach: User) -> MailboxTask:
    trajectory = factories.trajectory(owner, coach)
    (task,) = mailbox.mailbox_tasks_create(coachee=trajectory.coachee)
    return task


def _english(client: Client) -> Client:
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.mark.article("12.1")
def test_the_name_is_shown_and_audited_then_gone_after_confirmation(
    owner: User, coach: User, client_for: Callable[[User], Client]
) -> None:
    task = _task(owner, coach)
    client = _english(client_for(coach))
    page = client.get(reverse("accounts:dashboard"))
    html = page.content.decode()
    assert "Remove from your mailbox" in html
    assert ANNE.full_name in html and task.pseudonym in html
    assert reverse("retention:mailbox_confirm", args=[task.pk]) in html
    viewed = Event.objects.get(action="retention.mailbox_task.viewed")
    assert viewed.actor == coach and viewed.object_id == task.pseudonym
    assert viewed.detail == {"task": task.pk}
    assert ANNE.first_name not in str(viewed.detail) + viewed.object_id

    response = client.post(reverse("retention:mailbox_confirm", args=[task.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("accounts:dashboard")
    task.refresh_from_db()
    assert task.confirmed_at is not None and task.wrapped_key is None
    assert Event.objects.filter(action="retention.mailbox_task.confirmed", actor=coach,
                                object_id=task.pseudonym).exists()
    after = client.get(reverse("accounts:dashboard")).content.decode()
    assert ANNE.first_name not in after and ANNE.last_name not in after
    assert task.pseudonym in after and "removal confirmed on" in after
    assert reverse("retention:mailbox_confirm", args=[task.pk]) not in after
    assert Event.objects.filter(action="retention.mailbox_task.viewed").count() == 1


@pytest.mark.article("12.1")
def test_an_expired_task_shows_the_pseudonym_only(
    owner: User, coach: User, client_for: Callable[[User], Client]
) -> None:
    task = _task(owner, coach)
    with time_machine.travel(timezone.now() + timedelta(days=31)):
        assert mailbox.mailbox_tasks_expire() == 1
    html = _english(client_for(coach)).get(reverse("accounts:dashboard")).content.decode()
    assert task.pseudonym in html and "expired without confirmation" in html
    assert ANNE.first_name not in html and ANNE.last_name not in html
    assert not Event.objects.filter(action="retention.mailbox_task.viewed").exists()


@pytest.mark.article("5.1")
@pytest.mark.parametrize("role_fixture", ["owner", "administrator", "other_coach",
                                          "third_party", "auditor"])
def test_only_the_assignee_confirms_or_sees_the_name(
    role_fixture: str, request: pytest.FixtureRequest, owner: User, coach: User,
    client_for: Callable[[User], Client],
) -> None:
    task = _task(owner, coach)
    user = request.getfixturevalue(role_fixture)
    client = client_for(user)
    assert ANNE.last_name.encode() not in client.get(reverse("accounts:dashboard")).content
    response = client.post(reverse("retention:mailbox_confirm", args=[task.pk]))
    assert response.status_code == 403
    task.refresh_from_db()
    assert task.confirmed_at is None and task.wrapped_key is not None
    assert Event.objects.filter(action="accounts.access.denied", actor=user,
                                object_id=task.pseudonym).exists()


@pytest.mark.article("12.1")
def test_an_administrator_sees_the_tasks_assigned_to_them(
    owner: User, coach: User, administrator: User, client_for: Callable[[User], Client]
) -> None:
    """A coach who has left: the task goes to the administrator (mailbox._assignee)."""
    trajectory = factories.trajectory(owner, coach)
    coach.is_active = False
    coach.save(update_fields=["is_active"])
    (task,) = mailbox.mailbox_tasks_create(coachee=trajectory.coachee)
    assert task.assigned_to == administrator
    client = client_for(administrator)
    assert ANNE.full_name.encode() in client.get(reverse("accounts:dashboard")).content
    assert client.post(reverse("retention:mailbox_confirm", args=[task.pk])).status_code == 302
    task.refresh_from_db()
    assert task.confirmed_at is not None


@pytest.mark.article("5.1")
def test_anonymous_cannot_confirm(outsider: Client, owner: User, coach: User) -> None:
    task = _task(owner, coach)
    response = outsider.post(reverse("retention:mailbox_confirm", args=[task.pk]))
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    task.refresh_from_db()
    assert task.confirmed_at is None


@pytest.mark.article("12.1")
def test_the_retention_page_lists_tasks_by_state_without_names(
    owner: User, coach: User, client_for: Callable[[User], Client]
) -> None:
    open_task, confirmed, expired = (_task(owner, coach) for _ in range(3))
    mailbox.mailbox_task_confirm(actor=coach, request=None, task=confirmed)
    MailboxTask.objects.filter(pk=expired.pk).update(
        created_at=timezone.now() - timedelta(days=31))
    assert mailbox.mailbox_tasks_expire() == 1
    page = client_for(owner).get(reverse("retention:overview"))
    assert [t.pk for t in page.context["open_tasks"]] == [open_task.pk]
    assert [t.pk for t in page.context["confirmed_tasks"]] == [confirmed.pk]
    assert [t.pk for t in page.context["expired_tasks"]] == [expired.pk]
    assert ANNE.last_name.encode() not in page.content
    assert not Event.objects.filter(action="retention.mailbox_task.viewed").exists()


@pytest.mark.article("12.1")
def test_the_dashboard_query_count_does_not_grow_with_the_tasks(
    owner: User, coach: User, client_for: Callable[[User], Client]
) -> None:
    trajectory = factories.trajectory(owner, coach)
    client = client_for(coach)

    def tasks(n: int) -> None:
        for _ in range(n):
            mailbox.mailbox_tasks_create(coachee=trajectory.coachee)

    tasks(10)
    client.get(reverse("accounts:dashboard"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("accounts:dashboard"))
    tasks(90)
    with CaptureQueriesContext(connection) as many:
        page = client.get(reverse("accounts:dashboard"))
    assert len(page.context["mailbox_tasks"]) == 100
    assert Event.objects.filter(action="retention.mailbox_task.viewed").count() == 10 + 10 + 100

    def split(queries: CaptureQueriesContext) -> tuple[int, int]:
        """(audit inserts, the rest): the audit events of one page are one bulk insert, which
        SQLite cuts into batches of its variable limit; every other query is fixed."""
        sqls = [q["sql"] for q in queries.captured_queries]
        audit = [sql for sql in sqls if sql.startswith('INSERT INTO "audit_event"')]
        return len(audit), len(sqls) - len(audit)

    (few_audit, few_rest), (many_audit, many_rest) = split(few), split(many)
    assert many_rest == few_rest, [q["sql"] for q in many.captured_queries]
    assert few_audit == 1 and many_audit <= 2
