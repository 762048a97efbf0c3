from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from coachregister.accounts.access import deny
from coachregister.retention import services
from coachregister.retention.models import PaperDossierTask


@require_POST
def paper_task_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    task = get_object_or_404(PaperDossierTask.objects.select_related("trajectory"), pk=pk)
    try:
        services.paper_task_confirm(
            actor=request.user, request=request, task=task, method=request.POST.get("method", "")
        )
    except PermissionDenied:
        return deny(request, object_type="trajectory", object_id=task.trajectory.pseudonym)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("The destruction of the paper dossier has been recorded."))
    return redirect("trajectories:detail", pseudonym=task.trajectory.pseudonym)
