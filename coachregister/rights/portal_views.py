"""Public pages of the coachee portal (art. 9.2). No staff account: a link to the email on
file opens a short session for that one coachee."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from coachregister.accounts import throttle
from coachregister.accounts.access import public
from coachregister.audit.services import event_record
from coachregister.coachees.models import Coachee
from coachregister.disclosures.models import Consent
from coachregister.disclosures.services import consent_withdraw
from coachregister.rights import portal, services
from coachregister.rights.models import Channel, DataRequest, Kind, Letter

PORTAL_VERIFICATION = "signed in with a single-use link sent to the email address on file"
ADDRESS_LIMIT = 3  # links asked for one address, from anywhere, per window
ADDRESS_WINDOW = timedelta(hours=1)


class EmailForm(forms.Form):
    email = forms.EmailField(label=gettext_lazy("Your email address"), max_length=254)


class PortalRequestForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("What do you ask?"), choices=Kind.choices)
    first_name = forms.CharField(
        label=gettext_lazy("Correct first name"), required=False, max_length=100
    )
    last_name = forms.CharField(
        label=gettext_lazy("Correct last name"), required=False, max_length=100
    )
    email = forms.CharField(
        label=gettext_lazy("Correct email address"), required=False, max_length=254
    )
    phone = forms.CharField(
        label=gettext_lazy("Correct telephone number"), required=False, max_length=40
    )


def portal_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        coachee = Coachee.objects.filter(pk=request.session.get(portal.SESSION_COACHEE)).first()
        if coachee is None:
            return redirect("rights:portal_start")
        return view(request, coachee, *args, **kwargs)

    return public(never_cache(wrapper))


@public
@never_cache
def portal_start(request: HttpRequest) -> HttpResponse:
    """Ask for a link (art. 9.2). The answer and the work done are the same whether or not
    the address is in the register (art. 6): the look-up itself is the worker's. Limited per
    client address and per typed address (one mailbox is not flooded from many addresses);
    both limits count every address alike, known or not."""
    form = EmailForm(request.POST or None)
    if request.method == "POST":
        if not throttle.hit(request, "portal.link", limit=5, window=timedelta(minutes=15)):
            return render(request, "coachees/intake_throttled.html", status=429)
        if form.is_valid():
            email = form.cleaned_data["email"]
            # Per typed address, keyed by a keyed index of it, never the address itself.
            if not throttle.hit_key(
                portal.address_key(email), "portal.link.address",
                limit=ADDRESS_LIMIT, window=ADDRESS_WINDOW,
            ):
                return render(request, "coachees/intake_throttled.html", status=429)
            portal.link_request(request=request, email=email)
            return render(request, "rights/portal_sent.html")
    return render(request, "rights/portal_start.html", {"form": form})


@public
@never_cache
def portal_enter(request: HttpRequest, token: str) -> HttpResponse:
    if not throttle.hit(request, "portal.enter", limit=10, window=timedelta(minutes=15)):
        return render(request, "coachees/intake_throttled.html", status=429)
    coachee = portal.link_use(request=request, token=token)
    if coachee is None:
        return render(request, "rights/portal_link_invalid.html", status=410)
    request.session.cycle_key()
    request.session[portal.SESSION_COACHEE] = coachee.pk
    return redirect("rights:portal_home")


@portal_required
def portal_home(request: HttpRequest, coachee: Coachee) -> HttpResponse:
    form = PortalRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        changes = {k: data[k] for k in services.CORRECTABLE}
        try:
            services.request_register(
                actor=None,
                request=request,
                coachee=coachee,
                kind=data["kind"],
                channel=Channel.PORTAL,
                verification=PORTAL_VERIFICATION,
                changes=changes,
            )
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            return redirect("rights:portal_home")
    event_record(
        action="rights.portal.viewed",
        request=request,
        object_type="coachee",
        object_id=coachee.pseudonym,
    )
    return render(
        request,
        "rights/portal_home.html",
        {
            "coachee": coachee,
            "data": portal.overview(coachee),
            "form": form,
            "requests": DataRequest.objects.filter(coachee=coachee).prefetch_related("letters"),
            "consents": Consent.objects.filter(coachee=coachee).select_related("recipient"),
        },
    )


@portal_required
def portal_json(request: HttpRequest, coachee: Coachee) -> HttpResponse:
    event_record(
        action="rights.portal.exported",
        request=request,
        object_type="coachee",
        object_id=coachee.pseudonym,
    )
    response = HttpResponse(
        portal.overview_json(coachee), content_type="application/json; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{coachee.pseudonym}.json"'
    return response


@portal_required
def portal_letter(request: HttpRequest, coachee: Coachee, pk: int) -> HttpResponse:
    letter = get_object_or_404(Letter, pk=pk, request__coachee=coachee)
    response = HttpResponse(services.letter_pdf(letter), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="brief-R-{letter.request_id}.pdf"'
    return response


@require_POST
@portal_required
def portal_withdraw(request: HttpRequest, coachee: Coachee, pk: int) -> HttpResponse:
    consent = get_object_or_404(Consent, pk=pk, coachee=coachee)
    consent_withdraw(actor=None, request=request, consent=consent)
    return redirect("rights:portal_home")


@public
@require_POST
def portal_leave(request: HttpRequest) -> HttpResponse:
    request.session.flush()
    return render(request, "rights/portal_left.html")
