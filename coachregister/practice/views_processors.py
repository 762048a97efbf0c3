"""Pages of the processors register (art. 13) and the record of processing activities
(GDPR art. 30(1)). Owners change the processors; the administrator reads (art. 1.4). The
record is generated, never typed; the certification auditor reads it inside the window of an
engagement (art. 5.4). Opening the record keeps a dated snapshot when its content changed."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.forms.models import model_to_dict
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from coachregister.accounts.access import REGISTER_ROLES, deny, roles_required
from coachregister.accounts.models import Role
from coachregister.audit.services import event_record
from coachregister.lib.feedback import carry_out
from coachregister.practice import processors, record
from coachregister.practice.models import ProcessingRecordSnapshot, Processor
from coachregister.practice.services import _audit_window_open

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
RECORD_OBJECT = "processing_record"


class ProcessorForm(forms.ModelForm):
    """The processor's agreement as data (art. 13). The service checks the transfer rules."""

    class Meta:
        model = Processor
        fields = list(processors.FIELDS)
        widgets = {
            "agreement_date": DATE,
            "next_review": DATE,
            "data_categories": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "third_country": gettext_lazy("Leave empty when the data stay inside the EEA."),
            "breach_contact": gettext_lazy("A business address or desk, not a person's "
                                           "private details."),
        }


def _may_read_record(user: Any) -> bool:
    return user.role in REGISTER_ROLES or (
        user.role == Role.AUDITOR and _audit_window_open(user))


# --- processors --------------------------------------------------------------------------------


@roles_required(*REGISTER_ROLES)
def processor_list(request: HttpRequest) -> HttpResponse:
    """The register, active first; amber where the agreement's review date has passed."""
    today = timezone.localdate()
    rows = [{"processor": p, "review_due": p.active and p.review_due(today)}
            for p in Processor.objects.order_by("-active", "name", "pk")]
    return render(request, "practice/processors/list.html", {
        "rows": rows, "may_edit": request.user.role == Role.OWNER})


def _save(request: HttpRequest, form: ProcessorForm, processor: Processor | None) -> bool:
    try:
        if processor is None:
            processors.processor_add(actor=request.user, request=request, **form.cleaned_data)
        else:
            processors.processor_update(actor=request.user, request=request,
                                        processor=processor, **form.cleaned_data)
    except ValidationError as exc:
        form.add_error(None, exc)
        return False
    return True


@roles_required(Role.OWNER)
def processor_add(request: HttpRequest) -> HttpResponse:
    form = ProcessorForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and _save(request, form, None):
        messages.success(request, _("The processor has been added."))
        return redirect("practice:processors")
    return render(request, "practice/processors/form.html", {"form": form, "processor": None})


@roles_required(Role.OWNER)
def processor_edit(request: HttpRequest, pk: int) -> HttpResponse:
    processor = get_object_or_404(Processor, pk=pk, active=True)
    form = ProcessorForm(request.POST or None,
                         initial=model_to_dict(processor, fields=processors.FIELDS))
    if request.method == "POST" and form.is_valid() and _save(request, form, processor):
        messages.success(request, _("The processor has been changed."))
        return redirect("practice:processors")
    return render(request, "practice/processors/form.html",
                  {"form": form, "processor": processor})


@roles_required(Role.OWNER)
@require_POST
def processor_retire(request: HttpRequest, pk: int) -> HttpResponse:
    processor = get_object_or_404(Processor, pk=pk)
    carry_out(request, lambda: processors.processor_retire(
        actor=request.user, request=request, processor=processor,
    ), _("The processor has been retired."))
    return redirect("practice:processors")


# --- the record of processing activities (GDPR art. 30) ---------------------------------------


def _record_read(request: HttpRequest, action: str, object_id: str = "") -> None:
    event_record(action=action, request=request, object_type=RECORD_OBJECT,
                 object_id=object_id)


@roles_required(Role.OWNER, Role.ADMINISTRATOR, Role.AUDITOR)
def record_view(request: HttpRequest) -> HttpResponse:
    if not _may_read_record(request.user):
        return deny(request, object_type=RECORD_OBJECT)
    record.snapshot_if_changed()
    _record_read(request, "practice.record.viewed")
    return render(request, "practice/processors/record.html", {
        "content": record.record_content(), "snapshot": None,
        "latest": ProcessingRecordSnapshot.objects.order_by("-made_at", "-id").first(),
        "may_see_snapshots": request.user.role in REGISTER_ROLES,
    })


@roles_required(Role.OWNER, Role.ADMINISTRATOR, Role.AUDITOR)
def record_pdf(request: HttpRequest) -> HttpResponse:
    from coachregister.lib.pdf import render_pdf

    if not _may_read_record(request.user):
        return deny(request, object_type=RECORD_OBJECT)
    snapshot = record.snapshot_if_changed() or ProcessingRecordSnapshot.objects.order_by(
        "-made_at", "-id").first()
    pdf = render_pdf("practice/processors/record_pdf.html",
                     {"content": record.record_content(), "snapshot": snapshot}, "nl")
    _record_read(request, "practice.record.downloaded")
    response = HttpResponse(pdf, content_type="application/pdf")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="verwerkingsregister-{stamp}.pdf"'
    return response


@roles_required(*REGISTER_ROLES)
def record_snapshots(request: HttpRequest) -> HttpResponse:
    """The dated versions of the record: how it stood on any day."""
    record.snapshot_if_changed()
    snapshots = ProcessingRecordSnapshot.objects.order_by("-made_at", "-id").only(
        "pk", "made_at", "digest")
    return render(request, "practice/processors/snapshots.html", {"snapshots": snapshots})


@roles_required(*REGISTER_ROLES)
def record_snapshot(request: HttpRequest, pk: int) -> HttpResponse:
    snapshot = get_object_or_404(ProcessingRecordSnapshot, pk=pk)
    _record_read(request, "practice.record.snapshot_viewed", str(snapshot.pk))
    return render(request, "practice/processors/record.html", {
        "content": snapshot.content, "snapshot": snapshot, "latest": None,
        "may_see_snapshots": True,
    })
