"""The coachee's preview of a prepared disclosure in the portal (art. 9.2): exactly what
would be sent, to whom and why; from here the coachee asks for a correction first, consents
or refuses."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from coachregister.audit.services import event_record
from coachregister.coachees.models import Coachee
from coachregister.disclosures import services
from coachregister.disclosures.forms import CorrectionForm
from coachregister.disclosures.models import Proposal, ProposalStatus
from coachregister.rights.models import Channel, Kind
from coachregister.rights.portal_views import PORTAL_VERIFICATION, portal_required


@portal_required
def portal_proposal(request: HttpRequest, coachee: Coachee, pk: int) -> HttpResponse:
    proposal = get_object_or_404(
        Proposal.objects.select_related("recipient", "processing_purpose", "coachee"),
        pk=pk, coachee=coachee,
    )
    form = CorrectionForm(prefix="correction")
    if request.method == "POST":
        try:
            if "answer" in request.POST:
                services.proposal_answer(
                    request=request, coachee=coachee, proposal=proposal,
                    consent=request.POST["answer"] == "consent",
                    digest=request.POST.get("digest", ""),
                )
                messages.success(request, _("Thank you, your answer has been recorded."))
                return redirect("disclosures:portal_proposal", pk=pk)
            form = CorrectionForm(request.POST, prefix="correction")
            if form.is_valid():
                _correction_ask(request, coachee, proposal, form.cleaned_data)
                messages.success(
                    request,
                    _("Your correction request has been received. After the correction you "
                      "see the new data here before you answer."),
                )
                return redirect("disclosures:portal_proposal", pk=pk)
        except ValidationError as exc:
            for message in exc.messages:
                (form.add_error(None, message) if "answer" not in request.POST
                 else messages.error(request, message))
    asked = proposal.status == ProposalStatus.ASKED
    content = (services.proposal_content(proposal) if asked
               else services.consented_content(proposal))
    event_record(
        action="disclosures.proposal.previewed", request=request, object_type="coachee",
        object_id=coachee.pseudonym, detail={"proposal": proposal.pk},
    )
    return render(
        request,
        "disclosures/portal_proposal.html",
        {
            "proposal": proposal,
            "asked": asked,
            "content": content,
            "digest": services.content_digest(content) if content else "",
            "statement": services.consent_statement(proposal),
            "form": form,
            "corrections": proposal.corrections.filter(decided_at__isnull=True).exists(),
        },
    )


def _correction_ask(request: HttpRequest, coachee: Coachee, proposal: Proposal,
                    changes: dict[str, str]) -> None:
    """A correction request (art. 8.1) linked to this proposal; the proposal keeps waiting."""
    from coachregister.rights.services import request_register

    request_register(
        actor=None,
        request=request,
        coachee=coachee,
        kind=Kind.RECTIFICATION,
        channel=Channel.PORTAL,
        verification=PORTAL_VERIFICATION,
        changes=changes,
        proposal=proposal,
    )
