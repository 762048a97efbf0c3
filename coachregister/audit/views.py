"""The audit browser for owners and the administrator (art. 5, 6).

Keyset pagination on `seq` (newest first): each page is one indexed range query, however
long the trail grows; no COUNT over millions of rows.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from coachregister.accounts.access import REGISTER_ROLES, roles_required
from coachregister.audit.forms import EventFilterForm
from coachregister.audit.models import Event

PAGE_SIZE = 50


def _day_start(day: object) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))  # type: ignore[arg-type]


@roles_required(*REGISTER_ROLES)
def event_list(request: HttpRequest) -> HttpResponse:
    form = EventFilterForm(request.GET or None)
    events = Event.objects.select_related("actor").order_by("-seq")
    query = request.GET.copy()
    if form.is_valid():
        data = form.cleaned_data
        if data["action"]:
            events = events.filter(action__startswith=data["action"])
        if data["actor"]:
            events = events.filter(actor=data["actor"])
        if data["outcome"]:
            events = events.filter(outcome=data["outcome"])
        if data["object_id"]:
            events = events.filter(object_id=data["object_id"])
        if data["date_from"]:
            events = events.filter(created_at__gte=_day_start(data["date_from"]))
        if data["date_until"]:
            events = events.filter(created_at__lt=_day_start(data["date_until"] + timedelta(1)))
        if data["before"]:
            events = events.filter(seq__lt=data["before"])
    page = list(events[: PAGE_SIZE + 1])
    older = None
    if len(page) > PAGE_SIZE:
        page = page[:PAGE_SIZE]
        query["before"] = str(page[-1].seq)
        older = query.urlencode()
    return render(
        request, "audit/event_list.html", {"form": form, "events": page, "older_query": older}
    )
