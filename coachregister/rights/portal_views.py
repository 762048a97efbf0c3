"""Public pages of the coachee portal (art. 9.2). No staff account: a link to the email on
file opens a short session for that one coachee."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from coachregister.accounts import throttle
from coachregister.accounts.access import public
from coachregister.audit.services import event_record
from coachregister.coachees.models import Coachee, RestrictionGround
from coachregister.disclosures.consents import consent_line
from coachregister.disclosures.models import Consent, Proposal, ProposalStatus, Purpose
from coachregister.disclosures.services import consent_withdraw
from coachregister.lib import confirm
from coachregister.lib.display import longdate
from coachregister.practice import promises
from coachregister.practice.models import PracticeSettings
from coachregister.rights import portal, services
from coachregister.rights.forms import NEW_KINDS, add_keyword_fields, chosen_kind, fit_to_kind
from coachregister.rights.models import Channel, DataRequest, KeywordAction, Kind, Letter

PORTAL_VERIFICATION = "signed in with a single-use link sent to the email address on file"
ADDRESS_LIMIT = 3  # links asked for one address, from anywhere, per window
ADDRESS_WINDOW = timedelta(hours=1)


class EmailForm(forms.Form):
    email = forms.EmailField(label=gettext_lazy("Your email address"), max_length=254)


# GDPR art. 18(1) a-c in the coachee's words (d, an objection under art. 21, is retired).
PORTAL_GROUNDS = [
    (RestrictionGround.ACCURACY, gettext_lazy("You contest that your data is correct, while "
                                              "we check it")),
    (RestrictionGround.UNLAWFUL, gettext_lazy("Your data is processed unlawfully, and you "
                                              "want it restricted instead of erased")),
    (RestrictionGround.CLAIMS, gettext_lazy("We no longer need your data, but you need it "
                                            "for a legal claim")),
]


class PortalRequestForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("What do you ask?"), choices=NEW_KINDS)
    restriction_ground = forms.ChoiceField(
        label=gettext_lazy("For a restriction: why?"),
        required=False,
        choices=[("", "—"), *PORTAL_GROUNDS],
    )
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
    from coachregister.rights.inquiry_views import inquiry_form

    return render(
        request, "rights/portal_start.html",
        {"form": form, "inquiry": inquiry_form(), "promises": promises.current()},
    )


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
    letter = request.GET.get("letter", "")
    if letter.isascii() and letter.isdigit():  # a decision notice: open on its letter
        return redirect(reverse("rights:portal_home") + f"#letter-{int(letter)}")
    return redirect("rights:portal_home")


@portal_required
def portal_home(request: HttpRequest, coachee: Coachee) -> HttpResponse:
    kind = chosen_kind(request)  # first the kind, then only the fields it has (issue 14)
    form = PortalRequestForm(request.POST or None) if kind else None
    if form is not None:
        add_keyword_fields(form, coachee)  # art. 8.1: one session's keywords
        fit_to_kind(form, kind)
    if (form is not None and request.method == "POST" and form.is_valid()
            and not confirm.editing(request)):
        data = form.cleaned_data
        asked = {
            "kind": kind,
            "restriction_ground": data.get("restriction_ground", ""),
            "channel": Channel.PORTAL,
            "verification": PORTAL_VERIFICATION,
            "changes": {k: data[k] for k in services.CORRECTABLE if k in data},
            "session": data.get("session"),
            "keyword_action": data.get("keyword_action", ""),
            "keywords": data.get("keywords", ""),
        }
        try:
            # Every check first, so the confirmation is asked only for what can be sent.
            changes, _ground, _at = services.request_checked(actor=None, coachee=coachee,
                                                             **asked)
            if not confirm.confirmed(request):  # a request cannot be taken back (issue 14)
                return confirm.ask(
                    request,
                    title=_("Send your request?"),
                    consequences=request_consequences(kind, changes, data),
                    action=_("Send request"),
                )
            services.request_register(actor=None, request=request, coachee=coachee, **asked)
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            weeks = promises.current()["answer_weeks"]
            messages.success(request, ngettext(
                "Your request has been sent. We answer within %(weeks)s week; you will "
                "receive an email when our letter is ready.",
                "Your request has been sent. We answer within %(weeks)s weeks; you will "
                "receive an email when our letter is ready.", weeks) % {"weeks": weeks})
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
            "kind": kind,
            "kind_label": dict(NEW_KINDS).get(kind, ""),
            "kinds": NEW_KINDS,
            "requests": DataRequest.objects.filter(coachee=coachee).prefetch_related("letters"),
            "consents": Consent.objects.filter(coachee=coachee).select_related("recipient"),
            "practice": PracticeSettings.load(),
            # Art. 7: the answer term, its extension and the further-copy fee, as enforced.
            "promises": promises.current(),
            # Art. 9.2: prepared disclosures waiting for the coachee's answer.
            "proposals": Proposal.objects.filter(
                coachee=coachee, status=ProposalStatus.ASKED
            ).select_related("recipient"),
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
    # Like the complaint letters: a letter read in the portal is a read of its content.
    event_record(action="rights.portal.letter", request=request, object_type="coachee",
                 object_id=coachee.pseudonym, detail={"letter": letter.pk})
    response = HttpResponse(services.letter_pdf(letter), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="brief-R-{letter.request_id}.pdf"'
    return response


@require_POST
@portal_required
def portal_withdraw(request: HttpRequest, coachee: Coachee, pk: int) -> HttpResponse:
    consent = get_object_or_404(Consent, pk=pk, coachee=coachee)
    if consent.purpose in KEYWORD_PURPOSES:  # the coachee chooses what happens to them first
        return redirect("rights:portal_keywords_withdraw")
    if not consent.in_force:  # a second click, or the back button: nothing left to do
        messages.info(request, _("This consent was already withdrawn."))
        return redirect("rights:portal_home")
    if not confirm.confirmed(request):  # issue 14: say what withdrawing does, first
        return confirm.ask(
            request,
            title=_("Withdraw your consent?"),
            consequences=[
                consent_line(consent),
                _("From now on we no longer use your data for this. What was done with your "
                  "consent before stays lawful."),
                _("To give your consent again later, ask your coach."),
            ],
            action=_("Withdraw consent"),
            back=reverse("rights:portal_home"),
        )
    consent_withdraw(actor=None, request=request, consent=consent)
    messages.success(request, _("Your consent has been withdrawn."))
    return redirect("rights:portal_home")


def request_consequences(kind: str, changes: dict[str, str], data: dict[str, Any]) -> list[str]:
    """What sending the request means, in the coachee's words, for the confirmation page:
    what is asked, as it will be stored."""
    lines = [_("Your request: %(kind)s.") % {"kind": dict(NEW_KINDS)[kind]}]
    if data.get("restriction_ground"):
        lines.append(str(dict(PORTAL_GROUNDS)[data["restriction_ground"]]) + ".")
    for field, value in changes.items():
        if field == "keywords":
            session = data["session"]
            lines.append(_("Keywords of the session of %(date)s: %(action)s.") % {
                "date": longdate(session.held_on), "action": dict(
                    KeywordAction.choices)[data["keyword_action"]]}
                + (f" “{value}”" if value else ""))
        else:
            label = PortalRequestForm.base_fields[field].label
            lines.append(f"{label}: {value}")
    if kind == Kind.ERASURE:
        lines.append(_("If we grant it, all your data in our register are erased and cannot "
                       "be brought back; this portal then no longer opens for you."))
    elif kind == Kind.RESTRICTION:
        lines.append(_("If we grant it, we only store your data and use them for nothing "
                       "else until the restriction is lifted."))
    return lines


KEYWORD_PURPOSES = (Purpose.SESSION_KEYWORDS, Purpose.KEYWORDS_KEPT)


class KeywordsWithdrawForm(forms.Form):
    choice = forms.ChoiceField(
        label=gettext_lazy("What should happen to the keywords already written?"),
        widget=forms.RadioSelect,
        choices=[
            ("erase", gettext_lazy("Erase them now, for every session")),
            ("keep", gettext_lazy("Keep them for the rest of my trajectory (no new ones)")),
        ],
    )

    def __init__(self, *args: Any, choices: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["choice"]
        field.choices = [c for c in field.choices if c[0] in choices]  # type: ignore[attr-defined]


@portal_required
def portal_keywords_withdraw(request: HttpRequest, coachee: Coachee) -> HttpResponse:
    """GDPR art. 7(3), 17(1)(b): withdrawing the consent for keywords stops new ones; the
    coachee chooses whether the existing ones are erased at once or kept, under a narrower
    consent in the words shown here, for the rest of the trajectory."""
    from coachregister.notes import services as notes

    choices = notes.keyword_choices(coachee)
    if not choices:
        return redirect("rights:portal_home")
    form = KeywordsWithdrawForm(request.POST or None, choices=choices)
    if request.method == "POST" and form.is_valid():
        try:
            notes.keywords_consent_withdraw(
                request=request, coachee=coachee, erase=form.cleaned_data["choice"] == "erase"
            )
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            messages.success(request, _("Your consent has been withdrawn."))
            return redirect("rights:portal_home")
    return render(
        request,
        "rights/portal_keywords_withdraw.html",
        {"form": form, "kept_text": notes.kept_consent_text(), "may_keep": "keep" in choices},
    )


@public
@require_POST
def portal_leave(request: HttpRequest) -> HttpResponse:
    request.session.flush()
    return render(request, "rights/portal_left.html")
