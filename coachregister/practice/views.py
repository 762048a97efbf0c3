from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from coachregister.accounts import policy, reauth
from coachregister.accounts.access import REGISTER_ROLES, deny, roles_required
from coachregister.accounts.models import Role
from coachregister.lib.feedback import carry_out
from coachregister.practice import services
from coachregister.practice.forms import DecisionForm, PracticeSettingsForm, PurposeForm
from coachregister.practice.models import PracticeSettings, ProcessingPurpose

# Art. 12.2: who needs a second step depends on these; changing them asks for a fresh
# confirmation (accounts/reauth.py), the other settings do not.
SIGN_IN_POLICY_FIELDS = ("office_networks", "two_factor_everywhere")
PUBLISH_OFFER = "practice.settings.publish_offer"


def _published_texts() -> dict[str, str]:
    """The texts that the settings generate and that are published as versions: the next
    privacy regulation (art. 2, with the waiting changes) and the confidentiality statement
    (art. 4.1f). Compared before and after a save to know what to offer to publish."""
    from coachregister.accounts.services import statement_text
    from coachregister.practice import promises

    return {
        "regulation": services.regulation_text(promises.with_pending(), language="nl"),
        "statement": statement_text(PracticeSettings.load()),
    }


@roles_required(*REGISTER_ROLES)
def settings_view(request: HttpRequest) -> HttpResponse:
    """Owners edit; the administrator reads (art. 1.4: the owners set the policy)."""
    practice = PracticeSettings.load()
    may_edit = request.user.role == "owner"
    # Read before validating: the form writes the posted values onto `practice`.
    policy_before = {name: getattr(practice, name) for name in SIGN_IN_POLICY_FIELDS}
    texts_before = _published_texts() if request.method == "POST" and may_edit else {}
    form = PracticeSettingsForm(request.POST or None, instance=practice)
    if not may_edit:
        for field in form.fields.values():
            field.disabled = True
    if request.method == "POST" and may_edit and form.is_valid():
        policy_changes = any(
            form.cleaned_data[name] != value for name, value in policy_before.items()
        )
        if policy_changes and (
            confirm := reauth.required(request, next_url=request.path)
        ) is not None:
            return confirm
        try:
            services.practice_update(actor=request.user, request=request, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("The settings have been saved."))
            if services.pending_open("practice") is not None:  # art. 2: weaker ones wait
                messages.warning(request, _(
                    "A change that weakens a promise of the privacy regulation takes effect "
                    "only when you publish the regulation that states it."))
            after = _published_texts()
            offer = [name for name, text in texts_before.items() if after[name] != text]
            if offer:
                request.session[PUBLISH_OFFER] = offer
            return redirect("practice:settings")
    offer = request.session.pop(PUBLISH_OFFER, []) if request.method == "GET" else []
    return render(
        request,
        "practice/settings.html",
        {
            "form": form,
            "may_edit": may_edit,
            # Art. 12.2: the address this request comes from, so the owner can tell which
            # network the office is on (and whether it already counts as inside).
            "client_address": getattr(request, "client_ip", None),
            "inside_office": policy.from_office(request),
            # Art. 2, 4.1f: the change altered the regulation or the confidentiality
            # statement; offer to publish it (the owner decides when).
            "publish_offer": offer if may_edit else [],
            # Art. 2.1, 2.2: the purposes the register allows; the owner adds and retires.
            "purposes": ProcessingPurpose.objects.all(),
            "purpose_form": PurposeForm(prefix="purpose"),
        },
    )


@roles_required(Role.OWNER)
@require_POST
def purpose_add(request: HttpRequest) -> HttpResponse:
    """Add a purpose (art. 2.1, 2.2); the service refuses anyone but an owner."""
    form = PurposeForm(request.POST, prefix="purpose")
    if form.is_valid():
        carry_out(request, lambda: services.purpose_add(
            actor=request.user, request=request, **form.cleaned_data,
        ), _("The purpose has been added."))
    else:
        messages.error(request, _("Name the purpose and choose its basis."))
    return redirect("practice:settings")


@roles_required(Role.OWNER)
@require_POST
def purpose_retire(request: HttpRequest, pk: int) -> HttpResponse:
    purpose = get_object_or_404(ProcessingPurpose, pk=pk)
    carry_out(request, lambda: services.purpose_retire(
        actor=request.user, request=request, purpose=purpose,
    ), _("The purpose has been retired."))
    return redirect("practice:settings")


@roles_required(Role.OWNER, Role.ADMINISTRATOR, Role.AUDITOR)
def decisions(request: HttpRequest) -> HttpResponse:
    """Art. 4.1e: the log of decisions in unforeseen cases. Owners record; the administrator
    and the certification auditor read. An entry cannot be changed once saved."""
    may_record = request.user.role == Role.OWNER
    form = DecisionForm(request.POST or None)
    if request.method == "POST":
        if not may_record:
            return deny(request, object_type=services.DECISION_OBJECT)
        if form.is_valid():
            try:
                services.decision_record(actor=request.user, request=request,
                                         **form.cleaned_data)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("The decision has been recorded."))
                return redirect("practice:decisions")
    try:
        entries = services.decisions_read(actor=request.user, request=request)
    except PermissionDenied:  # an auditor outside the window of an engagement
        return deny(request, object_type=services.DECISION_OBJECT)
    return render(request, "practice/decisions.html",
                  {"entries": entries, "form": form, "may_record": may_record})
