"""Third parties inside their contract (art. 5.3) and the auditor's sample (art. 5.4)."""

from __future__ import annotations

import collections
import random
from collections.abc import Callable
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from coachregister.accounts import services as accounts
from coachregister.accounts.models import Role, User
from coachregister.audit import engagements
from coachregister.audit.models import Event
from coachregister.coachees.models import Coachee
from coachregister.testing import factories
from coachregister.trajectories.models import Trajectory

pytestmark = pytest.mark.django_db


def people(n: int) -> list[factories.Contact]:
    return [factories.Contact("Piet", "Jansen", f"p{i}@voorbeeld.example", "+31612345670")
            for i in range(n)]


@pytest.mark.article("5.3")
def test_third_party_sees_its_scope_only_and_only_until_its_end_date(
    owner: User, coach: User, make_user: Callable[..., User], client_for: Callable[[User], Client]
) -> None:
    inside, outside = (factories.trajectory(owner, coach, contact=c) for c in people(2))
    substitute = make_user(Role.THIRD_PARTY, contract_end=timezone.localdate() + timedelta(days=5))
    accounts.third_party_scope_set(actor=owner, request=None, user=substitute,
                                   trajectories=[inside])
    client = client_for(substitute)
    assert list(Trajectory.objects.visible_to(substitute)) == [inside]
    assert list(Coachee.objects.visible_to(substitute)) == [inside.coachee]
    assert client.get(reverse("notes:dossier", args=[inside.pseudonym])).status_code == 200
    assert client.get(reverse("coachees:contact", args=[inside.coachee.pseudonym])).status_code == 200
    assert client.get(reverse("notes:dossier", args=[outside.pseudonym])).status_code == 403
    assert client.get(reverse("coachees:contact", args=[outside.coachee.pseudonym])).status_code == 403
    assert Event.objects.filter(actor=substitute, outcome="denied").count() == 2
    after_end = timezone.now() + timedelta(days=7)
    with time_machine.travel(after_end):
        assert client.get(reverse("notes:dossier", args=[inside.pseudonym])).status_code == 302
        response = Client().post(reverse("accounts:login"), {"username": substitute.username,
                                                             "password": "correct-horse-battery-staple-42"})
        assert response.status_code == 200  # refused at sign-in


@pytest.mark.article("5.3")
def test_it_support_without_scope_sees_no_personal_data(
    owner: User, coach: User, third_party: User, client_for: Callable[[User], Client]
) -> None:
    trajectory = factories.trajectory(owner, coach)
    client = client_for(third_party)
    assert not Trajectory.objects.visible_to(third_party).exists()
    assert client.get(reverse("notes:dossier", args=[trajectory.pseudonym])).status_code == 403
    assert "Anne" not in client.get(reverse("coachees:list")).content.decode()


@pytest.mark.article("5.4")
def test_auditor_reads_exactly_the_sample_during_the_window(
    owner: User, coach: User, auditor: User, client_for: Callable[[User], Client]
) -> None:
    trajectories = [factories.trajectory(owner, coach, contact=c) for c in people(8)]
    start = timezone.now() + timedelta(days=1)
    engagement = engagements.engagement_open(
        actor=owner, request=None, auditor=auditor, window_from=start,
        window_until=start + timedelta(days=2), sample_size=3)
    sample = set(engagement.sample)
    assert len(sample) == 3 and sample <= {t.pseudonym for t in trajectories}

    def readable() -> set[str]:
        client = client_for(auditor)
        return {t.pseudonym for t in trajectories
                if client.get(reverse("notes:dossier", args=[t.pseudonym])).status_code == 200}

    assert readable() == set()  # before the window
    with time_machine.travel(start + timedelta(hours=1)):
        assert readable() == sample
        client = client_for(auditor)
        new_session = client.post(reverse("notes:session_new", args=[sorted(sample)[0]]), {
            "held_on": timezone.localdate().isoformat(), "kind": "phone",
            "duration_minutes": 30, "keywords": "x"})
        assert new_session.status_code == 403  # read-only
        report = client_for(owner).get(reverse("audit:engagement", args=[engagement.pk]))
        opened = {row.event.object_id for row in report.context["opened"]
                  if row.event.outcome == "allowed"}
        assert opened == sample
        assert report.context["redrawn"]
    with time_machine.travel(start + timedelta(days=3)):
        assert readable() == set()  # after the window


@pytest.mark.article("5.4")
def test_same_seed_same_sample() -> None:
    population = [f"T-{i:04d}-AAAA" for i in range(50)]
    first = engagements.draw(population, 7, "abc123")
    assert first == engagements.draw(list(reversed(population)), 7, "abc123")
    assert first != engagements.draw(population, 7, "abc124")
    assert len(set(first)) == 7


@pytest.mark.article("5.4")
def test_the_sample_is_uniform() -> None:
    """Each of 20 dossiers should be drawn equally often; chi-square over 4000 draws of 5,
    with a fixed sequence of seeds, against the 0.1% critical value for 19 degrees of freedom."""
    population = [f"T-{i:04d}-AAAA" for i in range(20)]
    seeds = random.Random(20261125)
    counts: collections.Counter[str] = collections.Counter()
    draws = 4000
    for _ in range(draws):
        counts.update(engagements.draw(population, 5, f"{seeds.getrandbits(64):016x}"))
    expected = draws * 5 / len(population)
    chi_square = sum((counts[p] - expected) ** 2 / expected for p in population)
    assert chi_square < 43.82, chi_square
