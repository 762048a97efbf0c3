"""The privacy regulation: generated from the settings, previewed with a diff, published,
kept verbatim, and shown to anyone (art. 2, Werkwijze).

The owners and the administrator see the version in force, the changes that wait for
publication and the text the next version will have; only an owner publishes (art. 1.4).
The public page shows the version in force in the reader's language: the Dutch text binds.
"""

from __future__ import annotations

import difflib

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from coachregister.accounts import reauth
from coachregister.accounts.access import REGISTER_ROLES, public, roles_required
from coachregister.accounts.models import Role
from coachregister.lib.feedback import carry_out
from coachregister.practice import promises, services
from coachregister.practice.models import PendingChange, RegulationVersion


class PublishForm(forms.Form):
    version = forms.CharField(label=gettext_lazy("version label"), max_length=20)
    material = forms.BooleanField(
        label=gettext_lazy("material change: tell the coachees by mail"), required=False,
        help_text=gettext_lazy("A change in a material promise is always treated as "
                               "material."),
    )


class WithdrawForm(forms.Form):
    change = forms.IntegerField(min_value=1, max_value=2**31 - 1)


def diff_lines(old: str, new: str) -> list[dict[str, str]]:
    """The lines removed from and added to the text, in order (difflib), for reading."""
    rows = []
    for line in difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=0):
        if line.startswith(("---", "+++", "@@")):
            continue
        rows.append({"kind": "added" if line.startswith("+") else "removed",
                     "line": line[1:]})
    return rows


def pending_rows(changes: list[PendingChange]) -> list[dict[str, object]]:
    """Each waiting change with its fields named as on the settings pages."""
    from coachregister.complaints.models import ComplaintProcedure
    from coachregister.practice.models import PracticeSettings, ProcessingPurpose
    from coachregister.retention.models import RetentionPolicy

    models = {"practice": PracticeSettings, "retention": RetentionPolicy,
              "complaints": ComplaintProcedure}
    rows = []
    for change in changes:
        model = models.get(change.target)
        fields = []
        for name, value in sorted(change.values.items()):
            if change.target == "purposes":  # art. 2.2: purposes added, by name
                label = _("purposes added")
                value = ", ".join(str(p) for p in ProcessingPurpose.objects.filter(
                    pk__in=value if isinstance(value, list) else []))
            else:
                label = str(model._meta.get_field(name).verbose_name) if model else name
            if isinstance(value, bool):
                value = _("yes") if value else _("no")
            fields.append({"label": label, "value": value})
        rows.append({"change": change, "fields": fields})
    return rows


@roles_required(*REGISTER_ROLES)
def regulation(request: HttpRequest) -> HttpResponse:
    """The version in force, what waits, and the next text with its diff (art. 2)."""
    current = RegulationVersion.current()
    next_label = services.next_label()
    upcoming = promises.with_pending()
    preview = services.regulation_text(upcoming, language="nl", version=next_label)
    changes = list(PendingChange.objects.filter(applied_at=None, withdrawn_at=None)
                   .select_related("proposed_by"))
    material = (promises.material_difference(current.promises, upcoming)
                if current is not None else [])
    return render(request, "practice/regulation/page.html", {
        "current": current,
        "pending": pending_rows(changes),
        "preview": preview,
        "diff": diff_lines(current.text, preview) if current is not None else [],
        "material": material,
        "may_publish": request.user.role == Role.OWNER,
        "form": PublishForm(initial={"version": next_label, "material": bool(material)}),
    })


@roles_required(Role.OWNER)
@require_POST
def regulation_publish(request: HttpRequest) -> HttpResponse:
    """Publish the next version (art. 2): the waiting changes take effect. Asks for a fresh
    confirmation, as the sign-in policy may change with it (art. 12.2)."""
    form = PublishForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
        return redirect("practice:regulation")
    if (confirm := reauth.required(request, next_url=_regulation_url())) is not None:
        return confirm
    carry_out(request, lambda: services.regulation_publish(
        actor=request.user, request=request, version=form.cleaned_data["version"],
        material=form.cleaned_data["material"] or None,
    ), _("The privacy regulation has been published."))
    return redirect("practice:regulation")


@roles_required(Role.OWNER)
@require_POST
def pending_withdraw(request: HttpRequest) -> HttpResponse:
    """Withdraw a waiting change (art. 2): the promise in force stays."""
    form = WithdrawForm(request.POST)
    if form.is_valid():
        change = get_object_or_404(PendingChange, pk=form.cleaned_data["change"])
        carry_out(request, lambda: services.pending_withdraw(
            actor=request.user, request=request, change=change,
        ), _("The change has been withdrawn."))
    else:
        messages.error(request, _("Choose a change to withdraw."))
    return redirect("practice:regulation")


def _regulation_url() -> str:
    from django.urls import reverse

    return reverse("practice:regulation")


@roles_required(*REGISTER_ROLES)
def regulation_versions(request: HttpRequest) -> HttpResponse:
    """Every published version, kept verbatim in both languages (Werkwijze: consent proves
    what was read)."""
    versions = RegulationVersion.objects.select_related("published_by")
    return render(request, "practice/regulation/versions.html", {"versions": versions})


@public
def regulation_public(request: HttpRequest) -> HttpResponse:
    """The version in force for anyone: coachees, clients, visitors. English on request
    (`?lang=en` or the reader's language); the Dutch text binds."""
    asked = request.GET.get("lang", "")
    language = asked if asked in ("nl", "en") else translation.get_language() or "nl"
    language = "en" if language.startswith("en") else "nl"
    current = RegulationVersion.current()
    text = ""
    if current is not None:
        text = current.text_en if language == "en" and current.text_en else current.text
    with translation.override(language):  # the page around the text in the same language
        return render(request, "practice/regulation/public.html", {
            "current": current, "text": text, "language": language,
            "changed": last_material(),
        })


def last_material() -> RegulationVersion | None:
    """The latest version published as a material change (the date coachees see)."""
    return RegulationVersion.objects.filter(material=True).order_by(
        "-published_at", "-id").first()
