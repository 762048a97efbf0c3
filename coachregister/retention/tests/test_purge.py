"""Retention that deletes by itself (art. 10.1, 10.2): the expiry day, what keeps a coachee,
the policy versions, the tombstone, and what a purge leaves."""

from __future__ import annotations

import io
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import transaction

from coachregister.accounts.models import User
from coachregister.audit import chain
from coachregister.audit.models import Event
from coachregister.coachees import vault
from coachregister.coachees.models import Coachee
from coachregister.keys import keyring
from coachregister.lib import crypto
from coachregister.retention import journal, services
from coachregister.retention.models import DestructionRecord, RetentionPolicy, Tombstone
from coachregister.retention.shredder import COVERAGE
from coachregister.rights import services as rights
from coachregister.testing import factories
from coachregister.testing.factories import person
from coachregister.trajectories.models import Trajectory
from coachregister.trajectories.services import trajectory_end

pytestmark = pytest.mark.django_db
AMS = ZoneInfo("Europe/Amsterdam")


def at(day: date, hour: int = 12) -> time_machine.travel:
    return time_machine.travel(datetime.combine(day, time(hour), tzinfo=AMS), tick=False)


def ended(owner: User, coach: User, n: int, last: date) -> Trajectory:
    """A trajectory whose intake (the last contact) was on `last`, ended the same day."""
    with at(last):
        trajectory = factories.trajectory(owner, coach, contact=person(n))
        trajectory_end(actor=owner, request=None, trajectory=trajectory, broken_off=False)
    return trajectory


def alive(pseudonym: str) -> bool:
    return Coachee.objects.filter(pseudonym=pseudonym).exists()


@pytest.mark.article("10.1")
def test_seven_years_after_the_last_contact_and_purged_the_day_after(
    owner: User, coach: User
) -> None:
    trajectory = ended(owner, coach, 1, date(2019, 3, 14))
    pseudonym = trajectory.coachee.pseudonym
    assert services.expiry_date(trajectory.coachee) == date(2026, 3, 14)
    with at(date(2026, 3, 14), hour=23):
        call_command("worker", "--once", stdout=io.StringIO())  # the worker's daily pass
    assert alive(pseudonym)
    with at(date(2026, 3, 15), hour=0):
        call_command("worker", "--once", stdout=io.StringIO())
    assert not alive(pseudonym)
    record = DestructionRecord.objects.get(pseudonym=pseudonym)
    assert record.scope == "purge" and record.reason == "retention"
    assert record.expiry_date == date(2026, 3, 14)
    assert record.destroyed["contact_details"] == 1 and record.destroyed["trajectories"] == 1


@pytest.mark.article("10.1")
def test_29_february_plus_seven_years_is_28_february(owner: User, coach: User) -> None:
    trajectory = ended(owner, coach, 2, date(2020, 2, 29))
    assert services.expiry_date(trajectory.coachee) == date(2027, 2, 28)


@pytest.mark.article("10.1")
@pytest.mark.parametrize("keeper", ["open_trajectory", "undecided_request", "hold"])
def test_what_keeps_a_coachee_past_the_period(keeper: str, owner: User, coach: User) -> None:
    trajectory = ended(owner, coach, 3, date(2015, 1, 5))
    coachee = trajectory.coachee
    if keeper == "open_trajectory":
        with at(date(2015, 1, 6)):
            reopened = factories.trajectory(owner, coach, contact=None)
            Trajectory.objects.filter(pk=reopened.pk).update(
                coachee=coachee, coachee_pseudonym=coachee.pseudonym, status="active"
            )
    elif keeper == "undecided_request":
        rights.request_register(actor=owner, request=None, coachee=coachee, kind="access",
                                channel="email", verification="antwoord vanaf bekend adres")
    else:
        services.hold_set(actor=owner, request=None, coachee=coachee,
                          reason="geschil over de factuur", until=date.today() + timedelta(30))
    assert services.keepers(coachee) == [keeper]
    assert services.purge_run().purged == 0
    assert alive(coachee.pseudonym)


@pytest.mark.article("10.1")
def test_a_hold_reason_that_names_the_coachee_is_refused(owner: User, coach: User) -> None:
    coachee = ended(owner, coach, 4, date(2024, 1, 5)).coachee
    with pytest.raises(ValidationError) as info:
        services.hold_set(actor=owner, request=None, coachee=coachee,
                          reason="klacht van Voornaame", until=date.today() + timedelta(30))
    assert "reason" in info.value.message_dict


@pytest.mark.article("10.1")
def test_a_lifted_hold_keeps_no_longer_and_both_are_audited(owner: User, coach: User) -> None:
    coachee = ended(owner, coach, 5, date(2015, 1, 5)).coachee
    hold = services.hold_set(actor=owner, request=None, coachee=coachee, reason="vraag AP",
                             until=date.today() + timedelta(30))
    services.hold_lift(actor=owner, request=None, hold=hold)
    assert services.purge_run().purged == 1
    actions = set(Event.objects.values_list("action", flat=True))
    assert {"retention.hold.set", "retention.hold.lifted", "retention.purge.carried_out"} <= actions


@pytest.mark.article("10.1")
def test_a_shorter_policy_makes_more_coachees_due_at_the_next_run(
    owner: User, coach: User
) -> None:
    older = ended(owner, coach, 6, date(2021, 6, 1)).coachee.pseudonym
    newer = ended(owner, coach, 7, date(2022, 6, 1)).coachee.pseudonym
    today = date(2026, 11, 27)
    with at(today):
        assert [p for p, _ in services.due_for_purge()] == []
        services.policy_set(actor=owner, request=None, years=3)
        assert sorted(p for p, _ in services.due_for_purge()) == sorted([older, newer])
        assert services.purge_run().purged == 2
    assert DestructionRecord.objects.filter(policy_version=1).count() == 2


@pytest.mark.article("10.1")
def test_a_longer_period_needs_its_statute_and_each_change_is_a_version(owner: User) -> None:
    with pytest.raises(ValidationError) as info:
        services.policy_set(actor=owner, request=None, years=10)
    assert "statute" in info.value.message_dict
    assert "wet die hem eist" in " ".join(info.value.message_dict["statute"])
    first = services.policy_set(actor=owner, request=None, years=10,
                                statute="Wet op de geneeskundige behandelingsovereenkomst, 7:454")
    second = services.policy_set(actor=owner, request=None, years=7)
    assert (first.version, second.version) == (1, 2)
    assert RetentionPolicy.current() == second and RetentionPolicy.objects.count() == 2
    with pytest.raises(ValidationError) as info:
        services.policy_set(actor=owner, request=None, years=7, audit_years=5)
    assert "audit_years" in info.value.message_dict
    assert Event.objects.filter(action="retention.policy.changed").count() == 2


@pytest.mark.article("10.1")
def test_only_an_owner_sets_the_policy(administrator: User) -> None:
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.policy_set(actor=administrator, request=None, years=5)


@pytest.mark.article("10.2")
def test_an_erasures_tombstone_is_completed_by_the_purge_on_its_date(
    owner: User, coach: User
) -> None:
    trajectory = ended(owner, coach, 8, date(2020, 5, 4))
    pseudonym = trajectory.coachee.pseudonym
    with at(date(2021, 1, 10)):
        data_request = rights.request_register(
            actor=owner, request=None, coachee=trajectory.coachee, kind="erasure",
            channel="email", verification="antwoord vanaf bekend adres")
        rights.request_decide(actor=owner, request=None, data_request=data_request,
                              decision="granted")
    tombstone = Tombstone.objects.get(pseudonym=pseudonym)
    assert tombstone.expires_on == date(2027, 5, 4)
    assert Trajectory.objects.filter(coachee_pseudonym=pseudonym).exists()  # kept: dates only
    with at(date(2027, 5, 4)):
        assert services.purge_run().purged == 0
    with at(date(2027, 5, 5)):
        assert services.purge_run().purged == 1
    assert not Tombstone.objects.exists()
    assert not Trajectory.objects.filter(coachee_pseudonym=pseudonym).exists()
    assert [r.scope for r in DestructionRecord.objects.filter(pseudonym=pseudonym)] == [
        "purge", "erasure"]
    assert DestructionRecord.objects.filter(pseudonym=pseudonym, scope="purge").get().reason == (
        "tombstone")


@pytest.mark.article("10.2")
def test_after_a_purge_only_the_record_and_the_audit_events_remain(
    owner: User, coach: User, own_keys: object
) -> None:
    trajectory = ended(owner, coach, 9, date(2015, 2, 2))
    coachee = trajectory.coachee
    pseudonym, trajectory_pseudonym = coachee.pseudonym, trajectory.pseudonym
    captured = (bytes(coachee.wrapped_key), coachee.key_id, coachee.email_index)
    assert services.purge_run().purged == 1
    # Every table: nothing names the pseudonym or the trajectory any more, except these two.
    allowed = {"retention.DestructionRecord", "audit.Event", "retention.MailboxTask"}
    for model in apps.get_models():
        if model._meta.label in allowed:
            continue
        for field in model._meta.concrete_fields:
            if field.get_internal_type() in ("CharField", "TextField", "SlugField"):
                for value in (pseudonym, trajectory_pseudonym):
                    assert not model._default_manager.filter(**{field.name: value}).exists(), (
                        model._meta.label, field.name)
    assert Event.objects.filter(object_id=pseudonym).exists()
    assert chain.verify(chain.iter_rows()).ok
    # The captured bytes open nothing once their epoch is gone (PostgreSQL's dead tuples,
    # WAL and backups; on SQLite they are gone from the file at once, see the file test).
    later = datetime.now(tz=AMS) + timedelta(days=keyring.erasure_bound_days() + 1)
    with time_machine.travel(later - timedelta(days=keyring.backup_age_days() + 1), tick=False):
        services.epochs_maintain()
    with time_machine.travel(later, tick=False):
        services.epochs_maintain()
    wrapped, epoch_id, index = captured
    with pytest.raises(crypto.DecryptionError):
        keyring.unwrap(wrapped, epoch_id, f"coachee:{pseudonym}")
    assert index not in keyring.blind_indexes(vault.normalise_email(person(9).email))


@pytest.mark.article("10.2")
def test_the_shredder_covers_every_table_that_points_at_a_coachee_or_trajectory() -> None:
    targets = {apps.get_model("coachees", "Coachee"), apps.get_model("trajectories", "Trajectory")}
    pointing = {
        model._meta.label
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if field.is_relation and field.concrete and field.related_model in targets
    }
    assert pointing - set(COVERAGE) == set(), "add the new table to shredder.COVERAGE"
    assert set(COVERAGE) - pointing == set(), "COVERAGE names a table that no longer points"


@pytest.mark.article("10.2")
def test_purges_are_journalled_done_after_the_commit(
    owner: User, coach: User, django_capture_on_commit_callbacks: object
) -> None:
    trajectory = ended(owner, coach, 10, date(2015, 2, 2))
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        services.purge_run()
    [entry] = [e for e in journal.entries() if e.effect == journal.Effect.PURGE]
    assert entry.pseudonym == trajectory.coachee_pseudonym and entry.state == "done"


@pytest.mark.article("10.2")
def test_a_failed_shred_is_journalled_aborted_and_leaves_the_coachee_whole(
    owner: User, coach: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    from coachregister.retention import shredder

    trajectory = ended(owner, coach, 11, date(2015, 2, 2))

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(shredder, "shred_batch", broken)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.purge_run()
    assert alive(trajectory.coachee_pseudonym)
    assert [e.state for e in journal.entries()] == ["aborted"]


@pytest.mark.article("10.1")
def test_a_hold_set_after_the_list_was_made_still_keeps_the_coachee(
    owner: User, coach: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The due list is made before the batch; the batch re-checks each coachee under a lock."""
    trajectory = ended(owner, coach, 12, date(2015, 2, 2))
    coachee = trajectory.coachee
    made = services.due_for_purge

    def and_then_a_hold(*args: object, **kwargs: object) -> list[tuple[str, date]]:
        due = made(*args, **kwargs)  # type: ignore[arg-type]
        services.hold_set(actor=owner, request=None, coachee=coachee, reason="geschil",
                          until=date.today() + timedelta(30))
        return due

    monkeypatch.setattr(services, "due_for_purge", and_then_a_hold)
    result = services.purge_run()
    assert (result.due, result.purged) == (1, 0)
    assert alive(coachee.pseudonym)
