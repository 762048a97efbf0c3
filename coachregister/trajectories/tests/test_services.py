"""Opening, renewing, reassigning and ending trajectories (Werkwijze, art. 1.9, 10.1)."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from coachregister.accounts.models import User
from coachregister.audit.models import Event
from coachregister.retention.models import PaperDossierTask
from coachregister.testing import factories
from coachregister.trajectories import reports, services
from coachregister.trajectories.models import Status

pytestmark = pytest.mark.django_db


@pytest.mark.article("1.9")
def test_pseudonym_is_random_and_invitation_single_hashes(owner: User, coach: User) -> None:
    first, token, code = services.trajectory_open(actor=owner, request=None,
                                                  client=factories.client(owner), coach=coach)
    second, _t, _c = services.trajectory_open(actor=owner, request=None,
                                              client=factories.client(owner), coach=coach)
    assert first.pseudonym != second.pseudonym and first.pseudonym.startswith("T-")
    assert services.invitation_lookup(token=token).trajectory == first
    assert services.invitation_lookup(code=code.lower().replace("-", " ")).trajectory == first
    assert services.invitation_lookup(token=token + "x") is None


@pytest.mark.article("1.5")
def test_only_register_runners_open(coach: User, owner: User, third_party: User) -> None:
    organisation = factories.client(owner)
    for actor in (coach, third_party):
        with pytest.raises(PermissionDenied):
            services.trajectory_open(actor=actor, request=None, client=organisation, coach=coach)


@pytest.mark.article("3.1")
def test_the_coach_must_be_an_active_coach(owner: User, auditor: User) -> None:
    with pytest.raises(ValidationError):
        services.trajectory_open(actor=owner, request=None, client=factories.client(owner),
                                 coach=auditor)


@pytest.mark.article("Werkwijze")
def test_renewal_revokes_the_old_invitation(owner: User, coach: User) -> None:
    trajectory, token, _code = services.trajectory_open(
        actor=owner, request=None, client=factories.client(owner), coach=coach)
    new_token, new_code = services.invitation_renew(actor=owner, request=None,
                                                    trajectory=trajectory)
    assert not services.invitation_lookup(token=token).usable()
    assert services.invitation_lookup(code=new_code).usable()
    assert new_token != token


@pytest.mark.article("10.1")
def test_ending_makes_a_paper_task_once(owner: User, coach: User) -> None:
    trajectory = factories.trajectory(owner, coach)
    task = services.trajectory_end(actor=coach, request=None, trajectory=trajectory,
                                   broken_off=False)
    assert task.is_open and PaperDossierTask.objects.count() == 1
    with pytest.raises(ValidationError):
        services.trajectory_end(actor=owner, request=None, trajectory=trajectory,
                                broken_off=True)
    trajectory.refresh_from_db()
    assert trajectory.status == Status.ENDED
    assert Event.objects.filter(action="trajectories.trajectory.ended",
                                detail__status="ended").count() == 1


@pytest.mark.article("5.4")
def test_report_counts_per_coach_and_client(owner: User, coach: User,
                                            other_coach: User) -> None:
    a = factories.trajectory(owner, coach)
    b = factories.trajectory(owner, other_coach, contact=factories.Contact(
        "Bram", "Bakker", "bram@voorbeeld.example", "+31612345679"))
    factories.trajectory(owner, coach, contact=None)  # invited, not started
    services.trajectory_end(actor=owner, request=None, trajectory=b, broken_off=True)
    today = a.started_on
    report = reports.period_report(date(today.year, 1, 1), today)
    assert report.total.started == 2 and report.total.ended == 0 and report.total.broken_off == 1
    per_coach = {row.label: (row.started, row.ended, row.broken_off) for row in report.per_coach}
    assert per_coach == {coach.full_name: (1, 0, 0), other_coach.full_name: (1, 0, 1)}
    empty = reports.period_report(date(2000, 1, 1), date(2000, 12, 31))
    assert empty.per_coach == [] and empty.total.started == 0


@pytest.mark.article("10.1")
def test_last_contact_follows_the_latest_moment_over_all_trajectories(
    owner: User, coach: User, other_coach: User
) -> None:
    from coachregister.coachees.services import last_contact

    first = factories.trajectory(owner, coach)
    second = factories.trajectory(owner, other_coach)  # the same person, a new trajectory
    assert first.coachee_id == second.coachee_id
    services.contact_moment_record(actor=coach, request=None, trajectory=first, kind="call",
                                   occurred_on=date(2026, 3, 1))
    assert last_contact(first.coachee) == first.started_on  # the intake is the latest so far
    services.contact_moment_record(actor=other_coach, request=None, trajectory=second,
                                   kind="meeting", occurred_on=second.started_on)
    services.contact_moment_record(actor=coach, request=None, trajectory=first, kind="email",
                                   occurred_on=date(2025, 1, 1))
    assert last_contact(first.coachee) == second.started_on


@pytest.mark.article("1.9")
def test_client_edit_per_role(owner: User, coach: User, administrator: User,
                              client_for: object) -> None:
    from django.urls import reverse

    organisation = factories.client(owner)
    url = reverse("trajectories:client_edit", args=[organisation.pk])
    assert client_for(administrator).get(url).status_code == 200  # type: ignore[operator]
    assert client_for(coach).get(url).status_code == 403  # type: ignore[operator]
    response = client_for(owner).post(url, {  # type: ignore[operator]
        "name": "", "quote_reference": "", "quote_date": "gisteren",
        "regulation_version": organisation.regulation_version_id,
    })
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"name", "quote_reference", "quote_date"}
    organisation.refresh_from_db()
    assert organisation.name == "Zorggroep Test"
