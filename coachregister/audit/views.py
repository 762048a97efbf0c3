"""The audit browser for owners and the administrator (art. 5, 6).

Keyset pagination on `seq` (newest first): each page is one indexed range query, however
long the trail grows; no COUNT over millions of rows.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from coachregister.accounts.access import REGISTER_ROLES, roles_required
from coachregister.audit.forms import EventFilterForm
from coachregister.audit.models import Event

PAGE_SIZE = 50


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
        events = events.filter(**form.day_range("created_at"))
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

    user = request.user
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
    user = request.user
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
            "opened": engagements.opened_by_auditor(engagement)
            if user.role in REGISTER_ROLES
            else [],
            "redrawn": engagements.draw(
                engagement.population, engagement.sample_size, engagement.seed
            )
            == engagement.sample,
        },
    )
