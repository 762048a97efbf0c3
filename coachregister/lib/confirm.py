"""Asking "are you sure?" before a step that cannot be undone (issue 14), without script.

A view that carries out such a step validates its form first; while the POST does not carry
`confirmed=yes` it answers with `ask(...)`: a page that says what will happen, with the same
POST data in hidden fields and two ways on: one button carries the step out, the other goes
back — to the form with what was typed (a POST with `edit`, so nothing typed ever lands in
a URL), or for a step without a form to the page it came from. Under the content security
policy no inline script is allowed, so no `onclick="confirm()"`.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

FIELD = "confirmed"
EDIT = "edit"


def confirmed(request: HttpRequest) -> bool:
    return request.POST.get(FIELD) == "yes" and EDIT not in request.POST


def editing(request: HttpRequest) -> bool:
    """Back from the confirmation to the form, filled in as it was: show it, do nothing."""
    return EDIT in request.POST


def ask(
    request: HttpRequest,
    *,
    title: str,
    consequences: list[str],
    action: str,
    back: str = "",
) -> HttpResponse:
    """The confirmation page: `consequences` in plain words, `action` the label of the button
    that carries the step out; `back` the address of the page the user came from for a step
    without a form, else the way back re-posts the form with `edit` (nothing is done)."""
    fields = [
        (name, value)
        for name in request.POST
        if name not in ("csrfmiddlewaretoken", FIELD, EDIT)
        for value in request.POST.getlist(name)
    ]
    return render(request, "includes/confirm.html", {
        "title": title,
        "consequences": consequences,
        "action": action,
        "back": back,
        "fields": fields,
        "target": request.get_full_path(),
        "field": FIELD,
        "edit": EDIT,
    })
