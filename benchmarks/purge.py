"""Benchmark of the retention purge (art. 10.2) on PostgreSQL.

Run (try it small first):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_purge \\
        .venv/bin/python benchmarks/purge.py --coachees 500

It works in a fresh database of its own (`test_<name>`, made and dropped like the test
runner's) with keys and evidence in a temporary directory, and measures in one run:

1. the purge of N expired coachees through `purge_run`, as coachees per second;
2. the baseline: the same data set built again and its rows removed by a bare batched
   `DELETE ... WHERE id IN (...)` on the same tables, in batches of the same size; reported
   as the ratio purge time / bare time (what the shredding, the journal, the destruction
   records and the audit events cost);
3. the dossier page's p95 latency (Django test client GET of a coach's `notes:dossier`,
   ~200 requests) while the purge runs in a second process, as a ratio to its p95 without.

The expired coachees are built through a faster path than the intake form, but with the
services' own functions: `vault.new_coachee` and `vault.encrypt_for` for the encryption (the
same data keys, epochs and AAD) and `event_record` for the intake's audit event; the rows
are those an intake, one session and the end of the trajectory leave. The coachee whose
dossier is read is made through the real services.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coachregister.settings")
os.environ.setdefault("COACHREGISTER_ENV", "test")
_TMP = tempfile.mkdtemp(prefix="bench-purge-")
os.environ["COACHREGISTER_KEY_DIR"] = f"{_TMP}/keys"
os.environ["COACHREGISTER_EVIDENCE_DIR"] = f"{_TMP}/evidence"

import django  # noqa: E402

django.setup()

from django.db import connection, connections, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

BATCH = 50
LAST_CONTACT = date(2017, 3, 1)  # expired under the default seven years
REQUESTS = 200


def letters(n: int) -> str:
    word = ""
    while True:
        n, rest = divmod(n, 26)
        word = "abcdefghijklmnopqrstuvwxyz"[rest] + word
        if n == 0:
            return word


def staff() -> dict[str, object]:
    from coachregister.accounts import services as accounts
    from coachregister.accounts.models import ConfidentialityAcceptance, Role, User
    from coachregister.practice.models import PracticeSettings

    practice = PracticeSettings.load()
    practice.office_networks = "127.0.0.0/8"
    practice.save()
    statement = accounts.statement_publish(actor=None, request=None)
    users = {}
    for role in (Role.OWNER, Role.COACH):
        user = User(username=f"bench-{role}", full_name=f"Bench {role}",
                    email=f"{role}@bench.example", role=role)
        user.set_unusable_password()
        user.save()
        ConfidentialityAcceptance.objects.create(user=user, statement=statement)
        users[role] = user
    return users


def build(n: int, owner: object, coach: object, offset: int) -> None:
    """`n` expired coachees, each with an ended trajectory, its intake and one session with
    keywords, two consents, a confirmed paper task and the intake's audit event."""
    from coachregister.audit.services import event_record
    from coachregister.coachees import vault
    from coachregister.coachees.models import ContactKind, ContactMoment
    from coachregister.coachees.services import consent_texts
    from coachregister.disclosures.models import Consent, Method, Purpose
    from coachregister.lib import tokens
    from coachregister.notes.models import CoachingSession, KeywordVersion
    from coachregister.retention.models import PaperDossierTask
    from coachregister.testing import factories
    from coachregister.trajectories.models import Status, Trajectory

    client = factories.client(owner)
    regulation = factories.regulation()
    texts = consent_texts()
    ended = timezone.make_aware(datetime.combine(LAST_CONTACT, datetime.min.time()))
    for start in range(0, n, BATCH):
        with transaction.atomic():
            for i in range(start, min(n, start + BATCH)):
                k = offset + i
                contact = vault.Contact(f"Voornaam{letters(k)}", f"Achternaam{letters(k)}",
                                        f"persoon{k}@voorbeeld.example", f"+3162{k:07d}")
                coachee = vault.new_coachee(contact)
                coachee.save()
                trajectory = Trajectory.objects.create(
                    pseudonym=tokens.new_pseudonym("T"), client=client, coach=coach,
                    coachee=coachee, coachee_pseudonym=coachee.pseudonym, status=Status.ENDED,
                    started_on=LAST_CONTACT - timedelta(days=60), ended_on=LAST_CONTACT,
                    created_by=owner,
                )
                ContactMoment.objects.create(trajectory=trajectory, kind=ContactKind.INTAKE,
                                             occurred_on=LAST_CONTACT - timedelta(days=60))
                moment = ContactMoment.objects.create(
                    trajectory=trajectory, kind=ContactKind.SESSION, occurred_on=LAST_CONTACT,
                    recorded_by=coach,
                )
                session = CoachingSession.objects.create(
                    trajectory=trajectory, held_on=LAST_CONTACT, kind="in_person",
                    duration_minutes=60, author=coach, contact_moment=moment,
                )
                KeywordVersion.objects.create(
                    session=session, number=1, written_by=coach,
                    keywords_enc=vault.encrypt_for(
                        coachee, f"session:{session.pk}:v1:keywords",
                        "werkdruk, grenzen, slaap, plannen, energie 6/10",
                    ),
                )
                Consent.objects.bulk_create([
                    Consent(coachee=coachee, trajectory=trajectory, purpose=purpose,
                            given=True, text_version=regulation.version, text=texts[purpose],
                            method=Method.INTAKE_FORM)
                    for purpose in (Purpose.REGULATION, Purpose.SESSION_KEYWORDS)
                ])
                PaperDossierTask.objects.create(trajectory=trajectory, confirmed_at=ended,
                                                confirmed_by=coach, method="shredded")
                event_record(action="coachees.intake.completed", object_type="coachee",
                             object_id=coachee.pseudonym,
                             detail={"trajectory": trajectory.pseudonym, "existing": False})


def bare_delete(exclude: int, only: list[int] | None = None) -> int:
    """The baseline: the same tables' rows removed by id, BATCH coachees per transaction,
    without shredding, journal, records or audit events (every coachee but `exclude`, or
    those of `only`)."""
    from coachregister.coachees.models import Coachee, ContactMoment
    from coachregister.disclosures.models import Consent
    from coachregister.notes.models import CoachingSession, KeywordVersion
    from coachregister.retention.models import PaperDossierTask
    from coachregister.trajectories.models import Invitation, Trajectory

    chosen = Coachee.objects.filter(pk__in=only) if only is not None else Coachee.objects
    ids = list(chosen.exclude(pk=exclude).order_by("pk").values_list("pk", flat=True))
    deleted = 0

    def delete(model: type, column: str, keys: list[int]) -> None:
        if keys:
            with connection.cursor() as cursor:
                table = model._meta.db_table  # names from the models, not from input
                cursor.execute(f"DELETE FROM {table} WHERE {column} = ANY(%s)", [keys])  # noqa: S608

    for start in range(0, len(ids), BATCH):
        batch = ids[start : start + BATCH]
        with transaction.atomic():
            trajectories = list(
                Trajectory.objects.filter(coachee__in=batch).values_list("pk", flat=True)
            )
            sessions = list(CoachingSession.objects.filter(trajectory__in=trajectories)
                            .values_list("pk", flat=True))
            delete(KeywordVersion, "session_id", sessions)
            delete(CoachingSession, "id", sessions)
            delete(ContactMoment, "trajectory_id", trajectories)
            delete(Consent, "coachee_id", batch)
            delete(PaperDossierTask, "trajectory_id", trajectories)
            delete(Invitation, "trajectory_id", trajectories)
            delete(Trajectory, "id", trajectories)
            delete(Coachee, "id", batch)
        deleted += len(batch)
    return deleted


def reader(users: dict[str, object]) -> tuple[Client, str]:
    """A signed-in coach and the dossier of a living coachee of theirs (real services)."""
    from coachregister.accounts.middleware import SESSION_LOGIN_AT
    from coachregister.accounts.models import Role
    from coachregister.notes.services import session_record
    from coachregister.testing import factories

    owner, coach = users[Role.OWNER], users[Role.COACH]
    trajectory = factories.trajectory(owner, coach)
    for days in (21, 14, 7):
        session_record(actor=coach, request=None, trajectory=trajectory,
                       held_on=timezone.localdate() - timedelta(days=days), kind="in_person",
                       duration_minutes=60, keywords="doel, rust, balans, feedback 7/10")
    client = Client()
    client.force_login(coach, backend="coachregister.accounts.backends.StaffBackend")
    session = client.session
    # Signed in "later", so the session's absolute timeout cannot end a long run midway.
    session[SESSION_LOGIN_AT] = time.time() + 3600 * 24
    session.save()
    url = reverse("notes:dossier", args=[trajectory.pseudonym])
    assert client.get(url).status_code == 200
    return client, url


def latencies(client: Client, url: str, count: int, stop: object = None) -> list[float]:
    """Seconds per GET of the dossier (every one decrypts and writes an audit event); with
    `stop`, only while the purge process still runs."""
    times = []
    for _ in range(count):
        began = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - began)
        assert response.status_code == 200
        if stop is not None and stop.is_set():  # type: ignore[attr-defined]
            break  # only requests made while the purge ran
    return times


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def print_report(title: str, report: list[tuple[str, str]]) -> None:
    """The title with the machine and the day, then one aligned line per figure."""
    width = max(len(k) for k, _ in report)
    print(f"{title}, {connection.vendor} {connection.pg_version // 10000}, "
          f"{os.cpu_count()} cores, {timezone.now():%Y-%m-%d}")
    for key, value in report:
        print(f"  {key:<{width}}  {value}")


def _purge_child(done: object) -> None:
    from coachregister.retention.services import purge_run

    connections.close_all()
    try:
        purge_run(batch_size=BATCH)
    finally:
        connections.close_all()
        done.set()  # type: ignore[attr-defined]


def main() -> None:
    global BATCH
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--coachees", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=BATCH)
    args = parser.parse_args()
    n = args.coachees
    BATCH = args.batch_size
    if connection.vendor != "postgresql":
        sys.exit("run against PostgreSQL: DATABASE_URL=postgres://...")
    setup_test_environment()
    name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from coachregister.accounts.models import Role
        from coachregister.coachees.models import Coachee
        from coachregister.retention.services import purge_run

        users = staff()
        owner, coach = users[Role.OWNER], users[Role.COACH]
        client, url = reader(users)
        report: list[tuple[str, str]] = []

        began = time.perf_counter()
        build(n, owner, coach, offset=0)
        build_seconds = time.perf_counter() - began
        report.append(("build (per set)", f"{build_seconds:.1f} s"))

        # 1. the purge
        began = time.perf_counter()
        result = purge_run(batch_size=BATCH)
        purge_seconds = time.perf_counter() - began
        assert result.purged == n, result
        assert Coachee.objects.count() == 1  # the reader's
        report.append(("purge", f"{purge_seconds:.1f} s, {n / purge_seconds:.0f} coachees/s"))

        # 2. the bare batched DELETE of the same rows (a data set built again)
        keep = Coachee.objects.get().pk  # the reader's
        build(n, owner, coach, offset=n)
        began = time.perf_counter()
        assert bare_delete(exclude=keep) == n
        bare_seconds = time.perf_counter() - began
        assert Coachee.objects.count() == 1
        report.append(("bare batched DELETE", f"{bare_seconds:.2f} s, "
                       f"{n / bare_seconds:.0f} coachees/s"))
        report.append(("purge / bare", f"{purge_seconds / bare_seconds:.1f}x"))

        # 3. the dossier page during a purge
        quiet = latencies(client, url, REQUESTS)
        build(n, owner, coach, offset=2 * n)
        connections.close_all()
        context = multiprocessing.get_context("fork")
        done = context.Event()
        child = context.Process(target=_purge_child, args=(done,))
        child.start()
        busy = latencies(client, url, REQUESTS, stop=done)
        outlasted = not done.is_set()
        if outlasted:
            child.terminate()  # enough measured; its open batch rolls back, the db is dropped
        child.join()
        report.append(("dossier p95, quiet", f"{p95(quiet) * 1000:.1f} ms ({len(quiet)} GETs)"))
        report.append(("dossier p95, during purge",
                       f"{p95(busy) * 1000:.1f} ms ({len(busy)} GETs while it ran)"))
        report.append(("p95 during / quiet", f"{p95(busy) / p95(quiet):.2f}x"))

        print_report(f"purge benchmark: {n} coachees, batch {BATCH}", report)
    finally:
        connections.close_all()
        connection.creation.destroy_test_db(name, verbosity=0)


if __name__ == "__main__":
    main()
