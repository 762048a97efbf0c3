"""The owner's dashboard at scale (art. 10.1 is the number it exists for): every query it
makes can be answered from an index, on PostgreSQL, asked with sequential scans switched off
(a plan that still scans has no index to use). One query is the known exception: the
purge-day number compares each coachee's latest contact with the period, an aggregate over
every coachee that no index answers (README, "At 100,000 coachees")."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from coachregister.accounts.models import User
from coachregister.coachees.tests.test_list_scale import register
from coachregister.retention.models import MailboxTask, PaperDossierTask, Tombstone
from coachregister.trajectories.models import Trajectory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres, pytest.mark.article("10.1")]

# Tables that grow with the register, its erasures and its tasks.
GROWING = ("trajectories_trajectory", "coachees_coachee", "retention_tombstone",
           "retention_mailboxtask", "retention_paperdossiertask", "outbox_outboxmessage",
           "rights_datarequest", "complaints_complaint", "audit_event", "audit_listed")


def _plan(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        try:
            cursor.execute("EXPLAIN " + sql)
            return "\n".join(row[0] for row in cursor.fetchall())
        finally:
            cursor.execute("RESET enable_seqscan")


# Partial indexes: a scan of one without a condition reads only the rows it holds.
PARTIAL = ("trajectory_open_idx", "paper_task_open_idx", "mailbox_task_open_idx")


def _whole_scans(plan: str) -> list[str]:
    """The growing tables that a node of `plan` reads whole: a sequential scan, or an index
    scan with no condition on a full index."""
    nodes: list[list[str]] = []
    for line in plan.splitlines():
        if "(cost=" in line:
            nodes.append([line])
        elif nodes:
            nodes[-1].append(line)
    whole = []
    for header, *details in nodes:
        for table in GROWING:
            if f" on {table}" not in header:
                continue
            conditioned = any("Index Cond" in d or "Recheck Cond" in d for d in details)
            if "Seq Scan" in header or not (conditioned or any(p in header for p in PARTIAL)):
                whole.append(table)
    return whole


def test_every_query_of_the_owners_dashboard_but_the_purge_day_reads_an_index(
    owner: User, coach: User, client_for: Callable[[User], Client]
) -> None:
    coachees = register(owner, coach, 200)
    trajectories = list(Trajectory.objects.filter(coachee__in=coachees[:20]))
    PaperDossierTask.objects.bulk_create([PaperDossierTask(trajectory=t) for t in trajectories])
    Tombstone.objects.bulk_create([
        Tombstone(pseudonym=f"C-{n:04d}-TOMB", expires_on=timezone.localdate()
                  + timedelta(days=n)) for n in range(50)])
    MailboxTask.objects.bulk_create([
        MailboxTask(pseudonym=f"C-{n:04d}-MAIL", assigned_to=owner,
                    confirmed_at=timezone.now()) for n in range(50)])
    client = client_for(owner)
    client.get(reverse("accounts:dashboard"))  # the session's first request
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("accounts:dashboard"))
    assert response.status_code == 200
    assert len(response.context["paper_tasks"]) == 20
    scanning = []
    for query in queries.captured_queries:
        sql = query["sql"]
        if not sql.lstrip().upper().startswith("SELECT"):
            continue
        scanned = _whole_scans(_plan(sql))
        if scanned:
            scanning.append((sql, scanned))
    # The purge-day number (retention/services._candidates): the latest contact per coachee.
    assert [scanned for _sql, scanned in scanning] == [["coachees_coachee"]], scanning
    assert "MAX(" in scanning[0][0].upper() and "contactmoment" in scanning[0][0]
