"""The public intake pages, the coachee list and the audited contact-details panel."""

from __future__ import annotations

import contextlib
from datetime import timedelta
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from coachregister.accounts import throttle
from coachregister.accounts.access import deny, public
from coachregister.accounts.models import Role
from coachregister.audit.models import Outcome
from coachregister.audit.services import event_record
from coachregister.coachees import access, services, vault
from coachregister.coachees.forms import (
    CodeForm,
    EmailSearchForm,
    IntakeForm,
    OpenContactForm,
    PseudonymSearchForm,
)
from coachregister.coachees.models import Coachee
from coachregister.practice import promises
from coachregister.practice.models import ProcessingPurpose, RegulationVersion
from coachregister.trajectories.models import Invitation
from coachregister.trajectories.services import invitation_lookup

SESSION_INVITATION = "coachregister_intake_invitation"
CODE_TRIES = 10
CODE_WINDOW = timedelta(minutes=15)
SUBMITS = 20
SUBMIT_WINDOW = timedelta(hours=1)
COACHEES_PER_PAGE = 50


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
            # Werkwijze, art. 2.1, 10.1: the page states the promises and purposes the
            # settings enforce, read from the one source (practice.promises).
            "promises": promises.current(),
            "purposes": ProcessingPurpose.objects.filter(active=True),
        },
    )


@public
def intake_done(request: HttpRequest) -> HttpResponse:
    return render(request, "coachees/intake_done.html")


def _page_number(raw: str | None) -> int:
    """The asked page as a number from 1 up; anything else is page 1 (the paginator brings a
    number past the end back to the last page)."""
    try:
        return max(int(raw or 1), 1)
    except ValueError:
        return 1


@never_cache
@sensitive_post_parameters("email")
def coachee_list(request: HttpRequest) -> HttpResponse:
    """The coachees the user may see (coach: own only), with names only where the contact
    details open directly (Werkwijze: the coach); the others by pseudonym. A page at a time,
    so only the names on the page are decrypted and audited, and the query count does not grow
    with the register. Searchable by pseudonym (GET) and by exact email address (POST only,
    through the blind index, within what the user may see: "not found" says nothing about
    coachees outside it)."""
    visible = access.listable(request.user).order_by("pseudonym")
    search = PseudonymSearchForm(request.GET or None)
    email_form = EmailSearchForm(request.POST or None)
    page = None
    query = ""
    email_searched = False
    if request.method == "POST" and email_form.is_valid():
        email_searched = True
        coachees = list(vault.with_email(email_form.cleaned_data["email"])
                        .visible_to(request.user).order_by("pseudonym"))
        # A look-up by address is on the trail (the address never is): on the coachee's
        # own trail when found, so "who saw my data" shows it; else as a search alone.
        event_record(action="coachees.list.searched", request=request,
                     object_type="coachee" if coachees else "",
                     object_id=coachees[0].pseudonym if coachees else "",
                     detail={"by": "email", "found": len(coachees)})
    else:
        if search.is_valid() and search.cleaned_data["q"]:
            visible = visible.filter(pseudonym__startswith=search.cleaned_data["q"])
            query = urlencode({"q": search.cleaned_data["q"]})
        elif search.is_bound and not search.is_valid():
            visible = visible.none()
        paginator = Paginator(visible, COACHEES_PER_PAGE)
        page = paginator.get_page(_page_number(request.GET.get("page")))
        coachees = list(page.object_list)
    names = access.names_for_list(request=request, coachees=coachees)
    rows = [(coachee, names.get(coachee.pk)) for coachee in coachees]
    return render(request, "coachees/coachee_list.html", {
        "rows": rows, "page": page, "query": query, "search": search,
        "email_form": email_form, "email_searched": email_searched,
        "searching": email_searched or bool(query),
    })


@never_cache
def coachee_contact(request: HttpRequest, pseudonym: str) -> HttpResponse:
    """The coachee's page: their trajectories for everyone who may see the record; the contact
    details directly for their coach, and for anyone else only for a purpose (Werkwijze,
    art. 5.1): a POST naming the task or the reason, audited with it."""
    coachee = Coachee.objects.visible_to(request.user).filter(pseudonym=pseudonym).first()
    if coachee is None:
        outside = Coachee.objects.filter(pseudonym=pseudonym).only("pk", "pseudonym").first()
        if outside is None:
            raise Http404
        return _denied_contact(request, outside)
    how = access.opening(request.user, coachee)
    form = None
    contact = None
    if how in (access.PURPOSE, access.RESTRICTED):
        tasks = access.open_tasks(coachee) if how == access.PURPOSE else []
        reasons = (access.stated_reasons() if how == access.PURPOSE
                   else access.restricted_reasons())
        form = OpenContactForm(request.POST or None, tasks=tasks, reasons=reasons)
    if request.method == "POST" and form is not None and form.is_valid():
        data = form.cleaned_data
        purpose = access.Purpose(reason=data["reason"], task=data.get("task", ""),
                                 explanation=data["explanation"])
        try:
            contact = access.contact_details(request=request, coachee=coachee, purpose=purpose)
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
    elif how == access.DIRECT:
        try:
            contact = access.contact_details(request=request, coachee=coachee)
        except PermissionDenied:
            return _denied_contact(request, coachee, audited=True)
    trajectories = coachee.trajectories.visible_to(request.user).select_related("client", "coach")
    return render(
        request,
        "coachees/contact.html",
        {
            "coachee": coachee,
            "contact": contact,
            "how": how,
            "form": form,
            "trajectories": trajectories,
            "last_contact": services.last_contact(coachee),
        },
    )


def _denied_contact(request: HttpRequest, coachee: Coachee, audited: bool = False) -> HttpResponse:
    if not audited:
        with contextlib.suppress(PermissionDenied):
            access.contact_details(request=request, coachee=coachee)
    return render(
        request,
        "accounts/denied.html",
        {"message": _("You do not have access to this coachee.")},
        status=403,
    )


def _vcard_text(value: str) -> str:
    """RFC 6350 3.4: backslash, comma, semicolon and line ends are escaped in a text value."""
    return (value.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;")
            .replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n"))


def vcard(coachee: Coachee, contact: vault.Contact) -> str:
    """The contact as a vCard 3.0 for the coach's address book; the note carries the
    pseudonym so a mailbox task (art. 12.1) can be matched to it later."""
    lines = [
        "BEGIN:VCARD",
        "VERSION:3.0",
        f"N:{_vcard_text(contact.last_name)};{_vcard_text(contact.first_name)};;;",
        f"FN:{_vcard_text(contact.full_name)}",
        f"EMAIL;TYPE=INTERNET:{_vcard_text(contact.email)}",
    ]
    if contact.phone:
        lines.append(f"TEL;TYPE=CELL:{_vcard_text(contact.phone)}")
    lines += [f"NOTE:coachregister {coachee.pseudonym}", "END:VCARD"]
    return "\r\n".join(lines) + "\r\n"


@never_cache
def coachee_vcard(request: HttpRequest, pseudonym: str) -> HttpResponse:
    """Art. 12.1: a copy of the contact in the coach's mailbox is a recorded act. Only the
    coachee's own coach downloads it (the mailbox tasks after an erasure go to the coaches of
    the coachee's trajectories, so a copy elsewhere would escape them), and not while the
    coachee's processing is restricted (art. 8). Every download and refusal is audited."""
    coachee = None
    if request.user.role == Role.COACH:
        coachee = Coachee.objects.visible_to(request.user).filter(pseudonym=pseudonym).first()
    if coachee is None:
        known = Coachee.objects.filter(pseudonym=pseudonym).only("pseudonym").first()
        if known is None:
            raise Http404
        return deny(request, object_type=access.COACHEE, object_id=known.pseudonym)
    if coachee.restricted:
        event_record(action="coachees.contact.vcard_downloaded", request=request,
                     outcome=Outcome.DENIED, object_type=access.COACHEE,
                     object_id=coachee.pseudonym, detail={"reason": "restricted"})
        return render(request, "accounts/denied.html", {"message": _(
            "Processing of this coachee's data is restricted: the contact cannot be "
            "downloaded.")}, status=403)
    contact = vault.open_contact(coachee)
    with transaction.atomic():
        event_record(action="coachees.contact.vcard_downloaded", request=request,
                     object_type=access.COACHEE, object_id=coachee.pseudonym)
    response = HttpResponse(vcard(coachee, contact), content_type="text/vcard; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{coachee.pseudonym}.vcf"'
    return response
