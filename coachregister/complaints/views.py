"""Complaint pages (art. 4.1d, 11): staff register, acknowledge and decide; the owner sets the
procedure; the coachee files one and reads the letters in the portal."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from coachregister.accounts.access import REGISTER_ROLES, deny, roles_required
from coachregister.accounts.models import Role
from coachregister.audit.services import event_record
from coachregister.coachees import access
from coachregister.coachees.models import Coachee
from coachregister.complaints import services
from coachregister.complaints.forms import (
    ComplaintForm,
    DecideForm,
    PortalComplaintForm,
    ProcedureForm,
)
from coachregister.complaints.models import Channel, Complaint, ComplaintLetter, ComplaintProcedure
from coachregister.rights.portal_views import portal_required


def _errors(form: object, exc: ValidationError) -> None:
    for message in exc.messages:
        form.add_error(None, message)  # type: ignore[attr-defined]


@roles_required(*REGISTER_ROLES)
def complaint_list(request: HttpRequest) -> HttpResponse:
    closed = Complaint.objects.filter(decided_at__isnull=False).order_by("-decided_at")[:50]
    return render(request, "complaints/list.html", {
        "complaints": services.open_complaints(), "closed": closed})


@roles_required(*REGISTER_ROLES)
def complaint_new(request: HttpRequest, pseudonym: str) -> HttpResponse:
    coachee = get_object_or_404(Coachee.objects.visible_to(request.user), pseudonym=pseudonym)
    form = ComplaintForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            complaint = services.complaint_file(
                actor=request.user, request=request, coachee=coachee, **form.cleaned_data)
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(request, _("The complaint has been registered; the coachee's "
                                        "data is held while it is open."))
            return redirect("complaints:detail", pk=complaint.pk)
    return render(request, "complaints/new.html", {
        "form": form, "coachee": coachee, "procedure": ComplaintProcedure.load()})


@roles_required(*REGISTER_ROLES)
def complaint_detail(request: HttpRequest, pk: int) -> HttpResponse:
    complaint = get_object_or_404(Complaint.objects.select_related("coachee"), pk=pk)
    decide = DecideForm(request.POST if "outcome" in request.POST else None)
    if request.method == "POST" and request.POST.get("step") == "acknowledge":
        try:
            services.complaint_acknowledge(actor=request.user, request=request,
                                           complaint=complaint)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("The acknowledgement has been written; the coachee "
                                        "was mailed a link to it."))
        return redirect("complaints:detail", pk=pk)
    if decide.is_bound and decide.is_valid():
        try:
            services.complaint_decide(actor=request.user, request=request, complaint=complaint,
                                      **decide.cleaned_data)
        except ValidationError as exc:
            _errors(decide, exc)
        else:
            messages.success(request, _("The decision has been recorded and the complaint "
                                        "closed."))
            return redirect("complaints:detail", pk=pk)
    # The complaint's text is the coachee's data: a read for this complaint (who saw my data).
    if complaint.coachee is not None:
        access.task_read(request=request, coachee=complaint.coachee,
                         task=f"complaint:{complaint.pk}", action="complaints.complaint.viewed")
    else:
        event_record(action="complaints.complaint.viewed", request=request,
                     object_type="coachee", object_id=complaint.coachee_pseudonym,
                     detail={"complaint": complaint.pk, "kept_apart": complaint.kept_apart})
    return render(request, "complaints/detail.html", {
        "complaint": complaint, "reference": services.reference(complaint), "decide": decide,
        "letters": complaint.letters.all()})


@roles_required(*REGISTER_ROLES)
def letter_download(request: HttpRequest, pk: int) -> HttpResponse:
    """The letter as sent; reading it is reading personal data, so it is audited."""
    letter = get_object_or_404(ComplaintLetter.objects.select_related("complaint__coachee"),
                               pk=pk)
    pdf = services.letter_pdf(letter)
    complaint = letter.complaint
    if complaint.coachee is not None:
        access.task_read(request=request, coachee=complaint.coachee,
                         task=f"complaint:{complaint.pk}",
                         action="complaints.letter.downloaded", letter=letter.pk)
    else:
        event_record(action="complaints.letter.downloaded", request=request,
                     object_type="coachee", object_id=complaint.coachee_pseudonym,
                     detail={"complaint": complaint.pk, "letter": letter.pk})
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="brief-K-{complaint.pk}.pdf"'
    return response


@roles_required(*REGISTER_ROLES)
def procedure(request: HttpRequest) -> HttpResponse:
    """The complaints procedure (art. 11.2): an owner sets it, the administrator reads it."""
    may_edit = request.user.role == Role.OWNER
    if request.method == "POST" and not may_edit:
        return deny(request)
    current = ComplaintProcedure.load()
    form = ProcedureForm(request.POST or None, instance=ComplaintProcedure.load())
    if not may_edit:
        for field in form.fields.values():
            field.disabled = True
    if request.method == "POST" and form.is_valid():
        try:
            services.procedure_save(actor=request.user, request=request, **form.cleaned_data)
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(request, _("The complaints procedure has been saved."))
            return redirect("complaints:procedure")
    return render(request, "complaints/procedure.html", {
        "form": form, "may_edit": may_edit, "procedure": current})


# --- the coachee's portal (art. 4.1d, 11.1) --------------------------------------------------


@portal_required
def portal_complaints(request: HttpRequest, coachee: Coachee) -> HttpResponse:
    form = PortalComplaintForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.complaint_file(actor=None, request=request, coachee=coachee,
                                    channel=Channel.PORTAL, **form.cleaned_data)
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(request, _("We have received your complaint. You will receive "
                                        "our acknowledgement by email."))
            return redirect("complaints:portal")
    event_record(action="complaints.portal.viewed", request=request, object_type="coachee",
                 object_id=coachee.pseudonym)
    return render(request, "complaints/portal.html", {
        "form": form, "procedure": ComplaintProcedure.load(),
        "complaints": Complaint.objects.filter(coachee=coachee).prefetch_related("letters"),
    })


@portal_required
def portal_letter(request: HttpRequest, coachee: Coachee, pk: int) -> HttpResponse:
    letter = get_object_or_404(ComplaintLetter, pk=pk, complaint__coachee=coachee)
    event_record(action="complaints.portal.letter", request=request, object_type="coachee",
                 object_id=coachee.pseudonym, detail={"letter": letter.pk})
    response = HttpResponse(services.letter_pdf(letter), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="brief-K-{letter.complaint_id}.pdf"'
    return response
