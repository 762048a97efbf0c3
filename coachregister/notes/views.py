"""The dossier (art. 3.1): the trajectory, its contact moments and sessions in time order,
the consent state, and the contact details in a separate, audited panel."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from coachregister.accounts.access import REGISTER_ROLES, deny
from coachregister.accounts.models import Role
from coachregister.audit.services import event_record
from coachregister.disclosures import consents
from coachregister.disclosures.models import Purpose
from coachregister.notes import services
from coachregister.notes.forms import AmendForm, KeywordsForm, SessionForm
from coachregister.notes.models import CoachingSession, KeywordVersion
from coachregister.trajectories.models import Trajectory
from coachregister.trajectories.views import visible_or_deny


def dossier(request: HttpRequest, pseudonym: str) -> HttpResponse:
    trajectory = visible_or_deny(request, pseudonym)
    if isinstance(trajectory, HttpResponse):
        return trajectory
    coachee = trajectory.coachee
    sessions = list(
        trajectory.sessions.select_related("author").prefetch_related(
            Prefetch("versions", queryset=KeywordVersion.objects.order_by("number"))
        )
    )
    # Art. 8.1, GDPR art. 18: a restricted coachee's keywords are only stored, not read.
    hidden = coachee is not None and coachee.restricted
    entries = []
    for session in sessions:
        versions = list(session.versions.all())
        keywords = ""
        if versions and not hidden:
            keywords = services.read_version(coachee, versions[-1])[0]
        entries.append(
            {
                "date": session.held_on,
                "session": session,
                "keywords": keywords,
                "amended": len(versions) > 1,
                # The link to the earlier versions only where `session_versions` opens.
                "versions_open": len(versions) > 1 and _may_read_versions(request, session, hidden),
            }
        )
    moments = trajectory.contact_moments.select_related("recorded_by").exclude(kind="session")
    for moment in moments:
        entries.append({"date": moment.occurred_on, "moment": moment})
    entries.sort(key=lambda e: (e["date"], "session" in e))
    event_record(
        action="notes.dossier.viewed",
        request=request,
        object_type=services.TRAJECTORY,
        object_id=trajectory.pseudonym,
        detail={"sessions": len(sessions)},
    )
    consent = consents.latest(coachee, Purpose.SESSION_KEYWORDS) if coachee else None
    return render(
        request,
        "notes/dossier.html",
        {
            "trajectory": trajectory,
            "entries": entries,
            "consent": consent,
            "keywords_hidden": hidden,
            "may_write": request.user.role == Role.COACH and trajectory.coach_id == request.user.pk,
        },
    )


def session_new(request: HttpRequest, pseudonym: str) -> HttpResponse:
    trajectory = visible_or_deny(request, pseudonym)
    if isinstance(trajectory, HttpResponse):
        return trajectory
    form = SessionForm(request.POST or None)
    keywords_allowed = _keywords_allowed(trajectory)
    if not keywords_allowed:
        del form.fields["keywords"]
    if request.method == "POST" and form.is_valid():
        data = {"keywords": "", **form.cleaned_data}
        try:
            services.session_record(
                actor=request.user, request=request, trajectory=trajectory, **data
            )
        except PermissionDenied:
            return deny(request, object_type=services.TRAJECTORY, object_id=pseudonym)
        except ValidationError as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(request, _("The session has been saved."))
            return redirect("notes:dossier", pseudonym=pseudonym)
    return render(
        request,
        "notes/session_form.html",
        {"form": form, "trajectory": trajectory, "keywords_allowed": keywords_allowed},
    )


def _keywords_allowed(trajectory: Trajectory) -> bool:
    """Keywords are offered only with the coachee's consent in force (art. 3.1, GDPR art.
    9(2)(a)); without it the page says why instead of a field the service would refuse."""
    coachee = trajectory.coachee
    return coachee is None or consents.in_force(coachee, Purpose.SESSION_KEYWORDS)


def _errors_to_form(form: object, exc: ValidationError) -> None:
    """Name-guard refusals belong to the keywords field, with the words that matched (the
    coach wrote them; the page is theirs only); other refusals to the form."""
    fields = {"name_guard": "keywords", "name_guard_reason": "reason"}
    for error in exc.error_list:
        field = fields.get(error.code or "")
        message = services.guard_message(error) if field else error
        form.add_error(field, message)  # type: ignore[attr-defined]


def _may_read_versions(request: HttpRequest, session: CoachingSession, hidden: bool) -> bool:
    """Who `session_versions` lets through once the trajectory is visible: the author and
    those who run the register, and (`hidden`) not while processing is restricted. The dossier
    shows the link to exactly them (issue 14: no link that leads to a 403)."""
    if hidden:
        return False
    return session.author_id == request.user.pk or request.user.role in REGISTER_ROLES


def _session(request: HttpRequest, pk: int) -> CoachingSession | HttpResponse:
    session = get_object_or_404(CoachingSession.objects.select_related("trajectory"), pk=pk)
    visible = Trajectory.objects.visible_to(request.user).filter(pk=session.trajectory_id)
    if not visible.exists():
        return deny(
            request, object_type=services.TRAJECTORY, object_id=session.trajectory.pseudonym
        )
    return session


def session_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit before the lock; after it, an amendment with a reason."""
    session = _session(request, pk)
    if isinstance(session, HttpResponse):
        return session
    trajectory = Trajectory.objects.select_related("coachee").get(pk=session.trajectory_id)
    if session.author_id != request.user.pk:
        return deny(request, object_type=services.TRAJECTORY, object_id=trajectory.pseudonym)
    locked = session.is_locked()
    keywords_allowed = _keywords_allowed(trajectory)
    keywords = services.current_keywords(trajectory.coachee, session)
    form_class = AmendForm if locked else KeywordsForm
    form = form_class(request.POST or None, initial={"keywords": keywords})
    if request.method == "POST" and keywords_allowed and form.is_valid():
        try:
            if locked:
                services.keywords_amend(
                    actor=request.user, request=request, session=session, **form.cleaned_data
                )
            else:
                services.keywords_edit(
                    actor=request.user,
                    request=request,
                    session=session,
                    keywords=form.cleaned_data["keywords"],
                )
        except PermissionDenied:
            return deny(request, object_type=services.TRAJECTORY, object_id=trajectory.pseudonym)
        except ValidationError as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(request, _("The keywords have been saved."))
            return redirect("notes:dossier", pseudonym=trajectory.pseudonym)
    return render(
        request,
        "notes/keywords_form.html",
        {
            "form": form,
            "session": session,
            "trajectory": trajectory,
            "locked": locked,
            "keywords_allowed": keywords_allowed,
        },
    )


def session_versions(request: HttpRequest, pk: int) -> HttpResponse:
    """Every version with its reason: for the author and those who run the register."""
    session = _session(request, pk)
    if isinstance(session, HttpResponse):
        return session
    trajectory = Trajectory.objects.select_related("coachee").get(pk=session.trajectory_id)
    if not _may_read_versions(request, session, hidden=False):
        return deny(request, object_type=services.TRAJECTORY, object_id=trajectory.pseudonym)
    if trajectory.coachee is not None and trajectory.coachee.restricted:  # art. 8.1, GDPR 18
        return render(request, "accounts/denied.html", {"message": _(
            "Processing of this coachee's data is restricted: the keywords are only stored.")},
            status=403)
    versions = []
    for version in session.versions.select_related("written_by").order_by("number"):
        keywords, reason = services.read_version(trajectory.coachee, version)
        versions.append({"version": version, "keywords": keywords, "reason": reason})
    event_record(
        action="notes.versions.viewed",
        request=request,
        object_type=services.TRAJECTORY,
        object_id=trajectory.pseudonym,
        detail={"session": session.pk},
    )
    return render(
        request,
        "notes/versions.html",
        {
            "session": session,
            "trajectory": trajectory,
            "versions": versions,
        },
    )
