"""The public intake pages, the coachee list and the audited contact-details panel."""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from coachregister.accounts import throttle
from coachregister.accounts.access import public
from coachregister.audit.models import Outcome
from coachregister.audit.services import event_record
from coachregister.coachees import access, services, vault
from coachregister.coachees.forms import CodeForm, IntakeForm
from coachregister.coachees.models import Coachee
from coachregister.practice.models import RegulationVersion
from coachregister.trajectories.models import Invitation
from coachregister.trajectories.services import invitation_lookup

SESSION_INVITATION = "coachregister_intake_invitation"
CODE_TRIES = 10
CODE_WINDOW = timedelta(minutes=15)
SUBMITS = 20
SUBMIT_WINDOW = timedelta(hours=1)


def _too_many(request: HttpRequest) -> HttpResponse:
    return render(request, "coachees/intake_throttled.html", status=429)


def _refused(request: HttpRequest, invitation: Invitation | None) -> HttpResponse:
    """Unknown, used or expired: a clear page, and an audit event for the register."""
    if invitation is None:
        reason = "unknown"
    elif invitation.used_at is not None:
        reason = "used"
    elif invitation.revoked_at is not None:
        reason = "revoked"
    else:
        reason = "expired"
    event_record(
        action="trajectories.invitation.refused",
        request=request,
        outcome=Outcome.DENIED,
        object_type="trajectory" if invitation else "",
        object_id=invitation.trajectory.pseudonym if invitation else "",
        detail={"reason": reason},
    )
    return render(
        request,
        "coachees/intake_refused.html",
        {"reason": reason},
        status=410 if reason != "unknown" else 404,
    )


def _enter(request: HttpRequest, invitation: Invitation | None) -> HttpResponse:
    if invitation is None or not invitation.usable():
        return _refused(request, invitation)
    request.session.cycle_key()
    request.session[SESSION_INVITATION] = invitation.pk
    return redirect("coachees:intake_form")


@public
@never_cache
def intake_start(request: HttpRequest) -> HttpResponse:
    form = CodeForm(request.POST or None)
    if request.method == "POST":
        if not throttle.hit(request, "intake.code", limit=CODE_TRIES, window=CODE_WINDOW):
            event_record(
                action="trajectories.invitation.throttled", request=request, outcome=Outcome.DENIED
            )
            return _too_many(request)
        if form.is_valid():
            return _enter(request, invitation_lookup(code=form.cleaned_data["code"]))
    return render(request, "coachees/intake_start.html", {"form": form})


@public
@never_cache
def intake_link(request: HttpRequest, token: str) -> HttpResponse:
    """The link from the invitation. It moves the invitation into the session and redirects,
    so the token does not stay in the address bar or the browser history."""
    if not throttle.hit(request, "intake.code", limit=CODE_TRIES, window=CODE_WINDOW):
        event_record(
            action="trajectories.invitation.throttled", request=request, outcome=Outcome.DENIED
        )
        return _too_many(request)
    return _enter(request, invitation_lookup(token=token))


@public
@never_cache
@sensitive_post_parameters()
def intake_form(request: HttpRequest) -> HttpResponse:
    invitation = (
        Invitation.objects.select_related("trajectory")
        .filter(pk=request.session.get(SESSION_INVITATION))
        .first()
    )
    if invitation is None:
        return redirect("coachees:intake_start")
    if not invitation.usable():
        request.session.pop(SESSION_INVITATION, None)
        return _refused(request, invitation)
    regulation = RegulationVersion.current()
    if regulation is None:
        return render(request, "coachees/intake_unavailable.html", status=503)
    form = IntakeForm(request.POST or None)
    if request.method == "POST":
        if not throttle.hit(request, "intake.submit", limit=SUBMITS, window=SUBMIT_WINDOW):
            return _too_many(request)
        if form.is_valid() and str(regulation.pk) == request.POST.get("regulation"):
            data = form.cleaned_data
            contact = vault.Contact(
                data["first_name"], data["last_name"], data["email"], data["phone"]
            )
            try:
                services.intake_complete(
                    request=request,
                    invitation=invitation,
                    contact=contact,
                    regulation=regulation,
                    keyword_consent=data["keyword_consent"],
                )
            except services.InvitationUnusable:
                request.session.pop(SESSION_INVITATION, None)
                invitation.refresh_from_db()
                return _refused(request, invitation)
            request.session.pop(SESSION_INVITATION, None)
            return redirect("coachees:intake_done")
        if form.is_valid():
            form.add_error(
                None,
                _(
                    "The privacy regulation has just been updated. Please read "
                    "the new version and confirm again."
                ),
            )
    return render(
        request,
        "coachees/intake_form.html",
        {
            "form": form,
            "regulation": regulation,
            "texts": services.consent_texts(),
        },
    )


@public
def intake_done(request: HttpRequest) -> HttpResponse:
    return render(request, "coachees/intake_done.html")


def coachee_list(request: HttpRequest) -> HttpResponse:
    """Pseudonyms and names of the coachees the user may see (coach: own only)."""
    coachees = list(Coachee.objects.visible_to(request.user).order_by("pseudonym"))
    names = access.names_for_list(request=request, coachees=coachees)
    rows = [(coachee, names[coachee.pk]) for coachee in coachees]
    return render(request, "coachees/coachee_list.html", {"rows": rows})


@never_cache
def coachee_contact(request: HttpRequest, pseudonym: str) -> HttpResponse:
    try:
        coachee, contact = access.contact_details_of(request=request, pseudonym=pseudonym)
    except PermissionDenied:
        return render(
            request,
            "accounts/denied.html",
            {"message": _("You do not have access to this coachee.")},
            status=403,
        )
    trajectories = coachee.trajectories.visible_to(request.user).select_related("client", "coach")
    return render(
        request,
        "coachees/contact.html",
        {
            "coachee": coachee,
            "contact": contact,
            "trajectories": trajectories,
            "last_contact": services.last_contact(coachee),
        },
    )
