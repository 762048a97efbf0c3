"""The audit browser for owners and the administrator (art. 5, 6).

Keyset pagination on `seq` (newest first): each page is one indexed range query, however
long the trail grows; no COUNT over millions of rows.
"""

from __future__ import annotations

import csv
import json
import re
from typing import cast

from django.db import transaction
from django.db.models import QuerySet, prefetch_related_objects
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from coachregister.accounts.access import REGISTER_ROLES, roles_required
from coachregister.accounts.models import User
from coachregister.audit import display, labels
from coachregister.audit.forms import EventFilterForm
from coachregister.audit.models import Event
from coachregister.audit.services import event_record

PAGE_SIZE = 50
_PSEUDONYM = re.compile(r"[CT]-[0-9A-Z]{4}-[0-9A-Z]{4}")
_PSEUDONYM_KINDS = {"C-": "coachee", "T-": "trajectory"}


def _filtered(form: EventFilterForm) -> QuerySet[Event]:
    events = Event.objects.select_related("actor").order_by("-seq")
    if form.is_valid():
        data = form.cleaned_data
        if data["action"].endswith("."):  # a whole area of the register
            events = events.filter(action__startswith=data["action"])
        elif data["action"]:
            events = events.filter(action=data["action"])
        if data["actor"]:
            events = events.filter(actor=data["actor"])
        if data["outcome"]:
            events = events.filter(outcome=data["outcome"])
        if data["object_id"]:
            events = events.filter(object_id=data["object_id"])
            # A pseudonym names its kind (C- a coachee, T- a trajectory): with the type the
            # object index is read in `seq` order and stops at the page, however long the
            # object's trail; without it PostgreSQL may walk the whole trail backwards.
            kind = _PSEUDONYM_KINDS.get(data["object_id"][:2])
            if kind and _PSEUDONYM.fullmatch(data["object_id"]):
                events = events.filter(object_type=kind)
        events = events.filter(**form.day_range("created_at"))
        if data["before"]:
            events = events.filter(seq__lt=data["before"])
    return events


@roles_required(*REGISTER_ROLES)
def event_list(request: HttpRequest) -> HttpResponse:
    form = EventFilterForm(request.GET or None)
    events = _filtered(form)
    query = request.GET.copy()
    page = list(events[: PAGE_SIZE + 1])
    older = None
    if len(page) > PAGE_SIZE:
        page = page[:PAGE_SIZE]
        # A page of only pending events (services.py: not sealed yet, no number) has no
        # older page to point at until they are sealed.
        if page[-1].seq is not None:
            query["before"] = str(page[-1].seq)
            older = query.urlencode()
    # A listing names its coachees in the side table (services.listing_record): one query.
    prefetch_related_objects(page, "listed")
    return render(
        request,
        "audit/event_list.html",
        # signed in: every view is closed to visitors by AccessPolicyMiddleware
        {"form": form, "events": page, "rows": display.rows(page, cast(User, request.user)),
         "older_query": older},
    )


def _cell(value: object) -> str:
    """A spreadsheet must not run a cell as a formula (a crafted value starting with =)."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@roles_required(*REGISTER_ROLES)
def event_csv(request: HttpRequest) -> HttpResponse:
    """The filtered trail as a spreadsheet with the raw codes beside their words (art. 6): for
    an auditor or a supervisory authority. Staff are named by account number, not by name;
    a listing's pseudonyms are in the last column; the rows are read in chunks. The export
    itself is recorded (a copy leaves the register)."""
    form = EventFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():  # the page, with the form's errors
        return event_list(request)
    events = _filtered(form).select_related(None).prefetch_related("listed").iterator(
        chunk_size=2000)
    with transaction.atomic():
        event_record(action="audit.trail.exported", request=request, object_type="audit_trail",
                     detail={"action": form.cleaned_data.get("action", "") if form.is_bound
                             else ""})
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="audit-trail.csv"'
    writer = csv.writer(response)
    writer.writerow(["seq", "created_at", "actor_id", "actor_role", "client_ip", "action",
                     "action_label", "object_type", "object_id", "outcome", "detail", "listed"])
    for e in events:
        writer.writerow([_cell(v) for v in (
            e.seq, timezone.localtime(e.created_at).isoformat(timespec="seconds"),
            e.actor_id or "", e.actor_role, e.client_ip or "", e.action,
            labels.action_label(e.action), e.object_type, e.object_id, e.outcome,
            json.dumps(e.detail, sort_keys=True, ensure_ascii=False),
            # a listing's pseudonyms, so the digest in its detail can be checked outside
            " ".join(sorted(row.pseudonym for row in e.listed.all())),
        )])
    return response


def engagement_list(request: HttpRequest) -> HttpResponse:
    """Owner and administrator open engagements; an auditor sees their own."""
    from django.contrib import messages
    from django.core.exceptions import ValidationError
    from django.shortcuts import redirect
    from django.utils.translation import gettext as _

    from coachregister.accounts.access import deny
    from coachregister.audit import engagements
    from coachregister.audit.forms import EngagementForm
    from coachregister.audit.models import Engagement

    user = cast(User, request.user)  # signed in: AccessPolicyMiddleware closes every view
    if user.role == "auditor":
        return render(
            request,
            "audit/engagement_list.html",
            {"engagements": Engagement.objects.filter(auditor=user), "form": None},
        )
    if user.role not in REGISTER_ROLES:
        return deny(request)
    form = EngagementForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            engagement = engagements.engagement_open(
                actor=user, request=request, **form.cleaned_data
            )
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            messages.success(request, _("The audit engagement has been opened."))
            return redirect("audit:engagement", pk=engagement.pk)
    return render(
        request,
        "audit/engagement_list.html",
        {"engagements": Engagement.objects.select_related("auditor"), "form": form},
    )


def engagement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The report: window, seed, population, the sample, and what the auditor opened."""
    from django.shortcuts import get_object_or_404

    from coachregister.accounts.access import deny
    from coachregister.audit import engagements
    from coachregister.audit.models import Engagement

    engagement = get_object_or_404(Engagement.objects.select_related("auditor"), pk=pk)
    user = cast(User, request.user)  # signed in: AccessPolicyMiddleware closes every view
    if not (user.role in REGISTER_ROLES or engagement.auditor_id == user.pk):
        return deny(request, object_type="engagement", object_id=str(pk))
    now = timezone.now()
    open_now = engagement.window_from <= now < engagement.window_until
    # Art. 4.1e, 5.4: the decisions in unforeseen cases are part of the certification report
    # (the auditor reads them during the window).
    from coachregister.practice.services import decisions_read

    return render(
        request,
        "audit/engagement_detail.html",
        {
            "engagement": engagement,
            "entries": decisions_read(actor=user, request=request)
            if user.role in REGISTER_ROLES or open_now
            else [],
            "open_now": open_now,
            "opened": display.rows(engagements.opened_by_auditor(engagement), user)
            if user.role in REGISTER_ROLES
            else [],
            "redrawn": engagements.draw(
                engagement.population, engagement.sample_size, engagement.seed
            )
            == engagement.sample,
        },
    )
