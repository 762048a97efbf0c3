"""Counts for the certification audit (art. 5.4): no personal data, only numbers per coach
and per client for a period."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Count, Q

from coachregister.trajectories.models import Status, Trajectory


@dataclass
class Row:
    label: str
    started: int = 0
    ended: int = 0
    broken_off: int = 0


@dataclass
class Report:
    date_from: date
    date_until: date
    per_coach: list[Row] = field(default_factory=list)
    per_client: list[Row] = field(default_factory=list)
    total: Row = field(default_factory=lambda: Row(""))


def _counts(group: str, label: str, date_from: date, date_until: date) -> list[Row]:
    in_start = Q(started_on__range=(date_from, date_until))
    in_end = Q(ended_on__range=(date_from, date_until))
    rows = (
        Trajectory.objects.values(group, label)
        .annotate(
            started=Count("pk", filter=in_start),
            ended=Count("pk", filter=in_end & Q(status=Status.ENDED)),
            broken_off=Count("pk", filter=in_end & Q(status=Status.BROKEN_OFF)),
        )
        .filter(Q(started__gt=0) | Q(ended__gt=0) | Q(broken_off__gt=0))
        .order_by(label)
    )
    return [Row(r[label], r["started"], r["ended"], r["broken_off"]) for r in rows]


def period_report(date_from: date, date_until: date) -> Report:
    report = Report(date_from, date_until)
    report.per_coach = _counts("coach_id", "coach__full_name", date_from, date_until)
    report.per_client = _counts("client_id", "client__name", date_from, date_until)
    report.total = Row(
        "",
        sum(r.started for r in report.per_coach),
        sum(r.ended for r in report.per_coach),
        sum(r.broken_off for r in report.per_coach),
    )
    return report
