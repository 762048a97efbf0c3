"""Writes for clients, trajectories, invitations and contact moments, each audited.

Art. 1.9 and the Werkwijze: the client never handles coachee data. Staff open a trajectory
for a client and a coach; the system makes a single-use invitation (a link and a short code)
that the client passes to the employee, who then gives their own details at intake.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from coachregister.accounts.models import Role, User
from coachregister.audit.services import event_record
from coachregister.coachees.models import Coachee, ContactMoment
from coachregister.lib import tokens
from coachregister.retention.models import PaperDossierTask
from coachregister.trajectories.access import may_work_on, require_manager
from coachregister.trajectories.models import (
    ClientOrganisation,
    Invitation,
    Status,
    Trajectory,
)

TRAJECTORY = "trajectory"
INVITATION_VALID = timedelta(days=14)


def client_save(
    *,
    actor: User,
    request: HttpRequest | None,
    client: ClientOrganisation | None,
    **fields: Any,
) -> ClientOrganisation:
    """Create or change a client. When the client's regulation version changes, the day the
    regulation was sent is cleared: that day belonged to the old version, and the quote file
    must not claim the new one went out then (Werkwijze, art. 1.9)."""
    require_manager(actor)
    with transaction.atomic():
        created = client is None
        # The stored version, read under a lock: a ModelForm has already set the new one on
        # the instance it hands over.
        before_version, before_sent = (None, None) if client is None else (
            ClientOrganisation.objects.select_for_update().filter(pk=client.pk)
            .values_list("regulation_version_id", "regulation_sent_on").first()
            or (None, None))
        client = client or ClientOrganisation()
        for name, value in fields.items():
            setattr(client, name, value)
        cleared = False
        if not created and client.regulation_version_id != before_version:
            cleared = before_sent is not None or client.regulation_sent_on is not None
            client.regulation_sent_on = None
        client.full_clean()
        client.save()
        event_record(
            action="trajectories.client.created" if created else "trajectories.client.updated",
            request=request,
            actor=actor,
            object_type="client",
            object_id=str(client.pk),
            detail={"regulation_sent_cleared": True} if cleared else None,
        )
    return client


def client_regulation_pdf(
    *, actor: User, request: HttpRequest | None, client: ClientOrganisation
) -> bytes:
    """The PDF of the regulation version recorded for this client's quote (Werkwijze,
    art. 1.9: the client receives the regulation with the quote). The download is audited,
    so the file shows which version left the practice and who took it."""
    from coachregister.practice import regulation_pdf

    require_manager(actor)
    pdf = regulation_pdf.render(client.regulation_version, "nl")
    with transaction.atomic():
        event_record(
            action="trajectories.client.regulation_downloaded",
            request=request,
            actor=actor,
            object_type="client",
            object_id=str(client.pk),
            detail={"version": client.regulation_version.version},
        )
    return pdf


def client_regulation_sent(
    *,
    actor: User,
    request: HttpRequest | None,
    client: ClientOrganisation,
    sent_on: date,
) -> ClientOrganisation:
    """Record the day the regulation went to the client with the quote (Werkwijze, art.
    1.9). A day that has not come yet is refused: the record says what happened, not what
    is planned. Nor a day before the client's version was published: that version did not
    exist yet."""
    require_manager(actor)
    if sent_on > timezone.localdate():
        raise ValidationError(
            {"sent_on": _("The regulation cannot have been sent on a day still to come.")}
        )
    with transaction.atomic():
        client = (ClientOrganisation.objects.select_for_update().select_related(
            "regulation_version").get(pk=client.pk))
        published = timezone.localdate(client.regulation_version.published_at)
        if sent_on < published:
            raise ValidationError({"sent_on": _(
                "The regulation cannot have been sent before version %(version)s was "
                "published (%(published)s)."
            ) % {"version": client.regulation_version.version,
                 "published": date_format(published, "j F Y")}})
        client.regulation_sent_on = sent_on
        client.save(update_fields=["regulation_sent_on"])
        event_record(
            action="trajectories.client.regulation_sent",
            request=request,
            actor=actor,
            object_type="client",
            object_id=str(client.pk),
            detail={"version": client.regulation_version.version, "sent_on": sent_on.isoformat()},
        )
    return client


def _new_invitation(trajectory: Trajectory) -> tuple[Invitation, str, str]:
    for _attempt in range(5):
        token, code = tokens.new_token(), tokens.new_code()
        try:
            with transaction.atomic():
                invitation = Invitation.objects.create(
                    trajectory=trajectory,
                    token_hash=tokens.token_hash(token),
                    code_hash=tokens.code_hash(code, settings.SECRET_KEY),
                    expires_at=timezone.now() + INVITATION_VALID,
                )
        except IntegrityError:  # a code collision: draw again
            continue
        return invitation, token, code
    raise RuntimeError("could not draw a unique invitation code")


def _revoke_open_invitations(trajectory: Trajectory) -> None:
    trajectory.invitations.filter(used_at__isnull=True, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


def _check_coach(coach: User) -> None:
    if coach.role != Role.COACH or not coach.is_active:
        raise ValidationError(_("Choose an active coach."))


def trajectory_open(
    *, actor: User, request: HttpRequest | None, client: ClientOrganisation, coach: User
) -> tuple[Trajectory, str, str]:
    """Returns the trajectory, the invitation token (for the link) and the short code. They
    are shown once; only their hashes are kept."""
    require_manager(actor)
    _check_coach(coach)
    with transaction.atomic():
        for _attempt in range(5):
            try:
                with transaction.atomic():
                    trajectory = Trajectory.objects.create(
                        pseudonym=tokens.new_pseudonym("T"),
                        client=client,
                        coach=coach,
                        created_by=actor,
                    )
                break
            except IntegrityError:
                continue
        else:
            raise RuntimeError("could not draw a unique pseudonym")
        _invitation, token, code = _new_invitation(trajectory)
        event_record(
            action="trajectories.trajectory.opened",
            request=request,
            actor=actor,
            object_type=TRAJECTORY,
            object_id=trajectory.pseudonym,
            detail={"coach": coach.pk, "client": client.pk},
        )
    return trajectory, token, code


def invitation_renew(
    *, actor: User, request: HttpRequest | None, trajectory: Trajectory
) -> tuple[str, str]:
    """A new link and code (the old ones stop working), while the intake is still to come."""
    require_manager(actor)
    if trajectory.status != Status.INVITED:
        raise ValidationError(_("The intake has already been completed."))
    with transaction.atomic():
        _revoke_open_invitations(trajectory)
        _invitation, token, code = _new_invitation(trajectory)
        event_record(
            action="trajectories.invitation.renewed",
            request=request,
            actor=actor,
            object_type=TRAJECTORY,
            object_id=trajectory.pseudonym,
        )
    return token, code


def trajectory_reassign(
    *, actor: User, request: HttpRequest | None, trajectory: Trajectory, coach: User
) -> Trajectory:
    """Access to the coachee's details moves with the trajectory (art. 5.1)."""
    require_manager(actor)
    _check_coach(coach)
    with transaction.atomic():
        trajectory = Trajectory.objects.select_for_update().get(pk=trajectory.pk)
        previous = trajectory.coach_id
        if previous == coach.pk:
            return trajectory
        trajectory.coach = coach
        trajectory.save(update_fields=["coach"])
        event_record(
            action="trajectories.trajectory.reassigned",
            request=request,
            actor=actor,
            object_type=TRAJECTORY,
            object_id=trajectory.pseudonym,
            detail={"from_coach": previous, "to_coach": coach.pk},
        )
    return trajectory


def trajectory_end(
    *,
    actor: User,
    request: HttpRequest | None,
    trajectory: Trajectory,
    broken_off: bool,
    on: date | None = None,
) -> PaperDossierTask:
    """End or break off. Art. 10.1: the paper dossier is destroyed now, so a task is made
    for the coach or the administrator to confirm."""
    if not may_work_on(actor, trajectory):
        raise PermissionDenied(_("This is not your trajectory."))
    with transaction.atomic():
        trajectory = Trajectory.objects.select_for_update().get(pk=trajectory.pk)
        if not trajectory.is_open:
            raise ValidationError(_("This trajectory has already ended."))
        trajectory.status = Status.BROKEN_OFF if broken_off else Status.ENDED
        trajectory.ended_on = on or timezone.localdate()
        trajectory.save(update_fields=["status", "ended_on"])
        _revoke_open_invitations(trajectory)
        task = PaperDossierTask.objects.create(trajectory=trajectory)
        from coachregister.notes.services import keywords_kept_lapse

        keywords_kept_lapse(trajectory=trajectory)  # GDPR 7(3): kept "for the rest of it"
        event_record(
            action="trajectories.trajectory.ended",
            request=request,
            actor=actor,
            object_type=TRAJECTORY,
            object_id=trajectory.pseudonym,
            detail={"status": trajectory.status},
        )
    return task


def contact_moment_record(
    *,
    actor: User,
    request: HttpRequest | None,
    trajectory: Trajectory,
    kind: str,
    occurred_on: date,
) -> ContactMoment:
    if not may_work_on(actor, trajectory):
        raise PermissionDenied(_("This is not your trajectory."))
    if trajectory.coachee_id is None:
        raise ValidationError(_("The coachee has not completed the intake yet."))
    # Art. 8.1, GDPR art. 18: a restricted coachee's data is only stored (read afresh: the
    # trajectory passed in may have been loaded before the restriction).
    if Coachee.objects.filter(pk=trajectory.coachee_id, restricted=True).exists():
        raise ValidationError(
            _("Processing of this coachee's data is restricted: no new contact moments.")
        )
    if occurred_on > timezone.localdate():
        raise ValidationError(_("A contact moment cannot be in the future."))
    with transaction.atomic():
        moment = ContactMoment.objects.create(
            trajectory=trajectory, kind=kind, occurred_on=occurred_on, recorded_by=actor
        )
        event_record(
            action="coachees.contact_moment.recorded",
            request=request,
            actor=actor,
            object_type=TRAJECTORY,
            object_id=trajectory.pseudonym,
            detail={"kind": kind},
        )
    return moment


def invitation_lookup(*, token: str | None = None, code: str | None = None) -> Invitation | None:
    """Find an invitation by its token or code. The lookup is by hash, so the time it takes
    does not depend on how much of a guess was right."""
    if token:
        wanted = tokens.token_hash(token)
        return Invitation.objects.select_related("trajectory").filter(token_hash=wanted).first()
    if code:
        wanted = tokens.code_hash(code, settings.SECRET_KEY)
        return Invitation.objects.select_related("trajectory").filter(code_hash=wanted).first()
    return None
