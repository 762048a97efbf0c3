"""Pages of the question anyone may ask (art. 7.1): the public form on the portal's start
page, and the administrator's two steps on the request's page."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from coachregister.accounts import throttle
from coachregister.accounts.access import REGISTER_ROLES, public, roles_required
from coachregister.lib.feedback import carry_out
from coachregister.practice import promises
from coachregister.rights import inquiries, portal
from coachregister.rights.models import DataRequest

INQUIRY_PREFIX = "ask"
CLIENT_LIMIT = 5  # questions from one client address per window
CLIENT_WINDOW = timedelta(minutes=15)
ADDRESS_LIMIT = 3  # answers to one typed address, from anywhere, per window
ADDRESS_WINDOW = timedelta(hours=1)


class InquiryForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Your name"), max_length=200)
    email = forms.EmailField(label=gettext_lazy("Your email address"), max_length=254)
    question = forms.CharField(
        label=gettext_lazy("What do you want to know? (optional)"), required=False,
        max_length=2000, widget=forms.Textarea(attrs={"rows": 3}),
    )


def inquiry_form(data: object = None) -> InquiryForm:
    return InquiryForm(data, prefix=INQUIRY_PREFIX)  # type: ignore[arg-type]


@public
@never_cache
@require_POST
def portal_inquiry(request: HttpRequest) -> HttpResponse:
    """Anyone's question (art. 7.1). The answer page and the work done are the same whether
    or not the address is in the register (art. 6): the match is the worker's. Limited per
    client address and per typed address (the answer is a mail to it), both counted alike
    for every address."""
    if not throttle.hit(request, "portal.inquiry", limit=CLIENT_LIMIT, window=CLIENT_WINDOW):
        return render(request, "coachees/intake_throttled.html", status=429)
    form = inquiry_form(request.POST)
    if not form.is_valid():
        from coachregister.rights.portal_views import EmailForm

        return render(request, "rights/portal_start.html",
                      {"form": EmailForm(), "inquiry": form, "promises": promises.current()})
    data = form.cleaned_data
    if not throttle.hit_key(portal.address_key(data["email"]), "portal.inquiry.address",
                            limit=ADDRESS_LIMIT, window=ADDRESS_WINDOW):
        return render(request, "coachees/intake_throttled.html", status=429)
    inquiries.inquiry_receive(request=request, name=data["name"], email=data["email"],
                              question=data["question"])
    return render(request, "rights/inquiry_sent.html", {"promises": promises.current()})


@roles_required(*REGISTER_ROLES)
@require_POST
def inquiry_checked(request: HttpRequest, pk: int) -> HttpResponse:
    data_request = get_object_or_404(DataRequest, pk=pk)
    carry_out(request, lambda: inquiries.inquiry_mailboxes_checked(
        actor=request.user, request=request, data_request=data_request,
    ), _("Recorded: the mailboxes and paper files were checked."))
    return redirect("rights:detail", pk=pk)


@roles_required(*REGISTER_ROLES)
@require_POST
def inquiry_answer(request: HttpRequest, pk: int) -> HttpResponse:
    data_request = get_object_or_404(DataRequest, pk=pk)
    carry_out(request, lambda: inquiries.inquiry_answer(
        actor=request.user, request=request, data_request=data_request,
    ), _("The answer has been sent."))
    return redirect("rights:detail", pk=pk)
