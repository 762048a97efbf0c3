"""The register at scale (issue 15) on PostgreSQL: every figure as a ratio measured in one run.

Run (try it small first):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_scale \\
        .venv/bin/python benchmarks/scale.py --coachees 2000

It works in a fresh database of its own (made and dropped like the test runner's) with keys
and evidence in a temporary directory. The data set is built with the purge benchmark's
builder (benchmarks/purge.py: the services' own `vault` encryption and `event_record`):
N coachees with a trajectory, an intake, one session with keywords and their consents,
`--per-coach` of them with the coach whose pages are measured and the rest with a second
coach; then audit events through `events_record` (the real append path) up to
`--events-per-coachee` per coachee, `--who-saw` of them about one coachee: two in three a
dossier read, one in three a list page that showed the name (a listing event and its row in
the side table, as `listing_record` writes them).

Printed, each with its baseline from the same run:

1. audit appends with 8 writer processes, one event per transaction, through
   `event_record`, vs the same rows INSERTed plainly into a copy of the table; then how long
   the sequencer takes to seal what the writers left pending;
2. dossier page vs the (unaudited) trajectory page, requests per second with 8 clients
   (Django test clients in 8 processes);
3. `audit verify`'s chain walk vs HMAC-SHA-256 over the same canonical bytes;
4. the retention purge vs a bare batched DELETE of the same rows (`--erase` coachees);
5. the coach's coachee list, the audit browser filtered by object and by "denied", and "who
   saw my data" for the coachee with the most events: median and p95 in ms, and queries;
6. the fixed queries of a read-only page and whether it writes the session.
"""

from __future__ import annotations

import argparse
import hmac
import multiprocessing
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import purge as common  # sets up Django with its own key and evidence dirs
from django.db import connection, connections, reset_queries, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext, setup_test_environment
from django.urls import reverse
from django.utils import timezone

WRITERS = 8
EXPIRED = common.LAST_CONTACT


def step(text: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {text}", file=sys.stderr, flush=True)


def ms(values: list[float]) -> str:
    return (f"median {statistics.median(values) * 1000:.1f} ms, "
            f"p95 {common.p95(values) * 1000:.1f} ms")


def timed(call: Callable[[], Any], count: int) -> list[float]:
    times = []
    for _ in range(count):
        began = time.perf_counter()
        call()
        times.append(time.perf_counter() - began)
    return times


def queries_of(call: Callable[[], Any]) -> int:
    with CaptureQueriesContext(connection) as captured:
        call()
    return len(captured.captured_queries)


# --- 1. appends -------------------------------------------------------------------------------

def _writer(count: int, plain: bool, go: Any) -> None:
    from coachregister.audit.services import event_record

    connections.close_all()
    go.wait()
    if plain:
        with connection.cursor() as cursor:
            for i in range(count):
                with transaction.atomic():
                    cursor.execute(
                        "INSERT INTO bench_plain (created_at, actor_role, action, object_type, "
                        "object_id, outcome, detail, key_id, mac, prev_hash, hash) VALUES "
                        "(now(), '', 'bench.plain.write', 'coachee', %s, 'allowed', '{}', '', "
                        "%s, '', '')", [f"P{os.getpid()}-{i}", "0" * 64])
    else:
        for i in range(count):
            with transaction.atomic():
                event_record(action="bench.audit.write", object_type="coachee",
                             object_id=f"W{os.getpid()}-{i}")
    connections.close_all()


def appends(each: int) -> tuple[float, float]:
    """Events per second of 8 writer processes: audited, and plain INSERTs."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_plain (LIKE audit_event INCLUDING ALL)")
    rates = []
    for plain in (False, True):
        connections.close_all()
        context = multiprocessing.get_context("fork")
        go = context.Event()
        children = [context.Process(target=_writer, args=(each, plain, go))
                    for _ in range(WRITERS)]
        for child in children:
            child.start()
        time.sleep(0.5)
        began = time.perf_counter()
        go.set()
        for child in children:
            child.join()
            assert child.exitcode == 0
        rates.append(WRITERS * each / (time.perf_counter() - began))
    return rates[0], rates[1]


# --- 2. page throughput -----------------------------------------------------------------------

def _client_loop(client: Client, url: str, seconds: float, go: Any, out: Any) -> None:
    """One client (a forked copy of the signed-in coach's) GETting `url` for `seconds`."""
    connections.close_all()
    count = 0
    try:
        go.wait()
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            status = client.get(url).status_code
            if status != 200:
                raise RuntimeError(f"{url} answered {status}")
            count += 1
    finally:
        out.put(count)
        connections.close_all()


def throughput(client: Client, url: str, seconds: float) -> float:
    connections.close_all()
    context = multiprocessing.get_context("fork")
    go, out = context.Event(), context.Queue()
    children = [context.Process(target=_client_loop, args=(client, url, seconds, go, out))
                for _ in range(WRITERS)]
    for child in children:
        child.start()
    time.sleep(0.5)
    go.set()
    total = sum(out.get(timeout=seconds + 120) for _ in children)
    for child in children:
        child.join()
    return total / seconds


# --- 3. verify --------------------------------------------------------------------------------

def verify_vs_hmac() -> tuple[float, float, int]:
    from coachregister.audit import chain
    from coachregister.audit.services import CHAIN_KEY
    from coachregister.keys import keyring

    with transaction.atomic():
        began = time.perf_counter()
        verdict = chain.verify(chain.iter_rows())
        verify_seconds = time.perf_counter() - began
    assert verdict.ok, verdict
    _key_id, key = keyring.register_key(CHAIN_KEY)
    sample = []
    with transaction.atomic():
        rows = chain.iter_rows()
        for row in rows:
            sample.append(row["prev_hash"].encode() + b"\n%d\n" % row["seq"] + chain.body(row))
            if len(sample) == 200_000:
                break
        rows.close()
    began = time.perf_counter()
    for message in sample:  # the keyed hash alone, its fastest call in Python
        hmac.digest(key, message, "sha256").hex()
    hmac_rate = len(sample) / (time.perf_counter() - began)
    return verdict.count / verify_seconds, hmac_rate, verdict.count


def listings(batch: list[dict[str, Any]], actor: Any) -> None:
    """Append a batch of filler events through `events_record`, and the side-table rows of
    the listing events among them (what `listing_record` writes for a page)."""
    from coachregister.audit.models import Listed
    from coachregister.audit.services import events_record

    named = [event.pop("about", None) for event in batch]
    with transaction.atomic():
        events = events_record(batch, actor=actor)
        Listed.objects.bulk_create([
            Listed(event=event, pseudonym=about)
            for event, about in zip(events, named, strict=True) if about is not None
        ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--coachees", type=int, default=2_000)
    parser.add_argument("--per-coach", type=int, default=2_000)
    parser.add_argument("--events-per-coachee", type=int, default=20)
    parser.add_argument("--who-saw", type=int, default=20_000)
    parser.add_argument("--appends", type=int, default=500, help="per writer process")
    parser.add_argument("--erase", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("run against PostgreSQL: DATABASE_URL=postgres://...")
    setup_test_environment()
    name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    report: list[tuple[str, str]] = []
    try:
        from coachregister.accounts.middleware import SESSION_LOGIN_AT
        from coachregister.accounts.models import Role, User
        from coachregister.audit import queries
        from coachregister.audit.chain import listing_digest
        from coachregister.audit.models import Event
        from coachregister.audit.services import LISTING, seal
        from coachregister.coachees.models import Coachee
        from coachregister.retention.services import purge_run

        users = common.staff()
        owner, coach = users[Role.OWNER], users[Role.COACH]
        other = User.objects.create(username="bench-other", full_name="Bench other",
                                    email="other@bench.example", role=Role.COACH)
        client, dossier_url = common.reader(users)
        began = time.perf_counter()
        common.LAST_CONTACT = timezone.localdate() - timedelta(days=30)  # kept, not purged
        mine = min(args.per_coach, args.coachees)
        common.build(mine, owner, coach, offset=0)
        common.build(args.coachees - mine, owner, other, offset=mine)
        pseudonyms = list(Coachee.objects.values_list("pseudonym", flat=True))
        target = Coachee.objects.filter(trajectories__coach=coach).first()
        assert target is not None
        filler = args.coachees * args.events_per_coachee - Event.objects.count()
        batch: list[dict[str, Any]] = []
        for i in range(max(0, filler)):
            about = target.pseudonym if i < args.who_saw else pseudonyms[i % len(pseudonyms)]
            if i % 3:
                batch.append({"action": "notes.dossier.viewed", "object_type": "coachee",
                              "object_id": about,
                              "outcome": "denied" if i % 997 == 0 else "allowed"})
            else:  # a list page that showed this name (and so a listing with its row)
                batch.append({"action": "coachees.names.listed", "object_type": LISTING,
                              "detail": {"names": 1, "digest": listing_digest([about])},
                              "about": about})
            if len(batch) == 2_000 or i == filler - 1:
                listings(batch, coach)
                batch = []
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        report.append(("data set", f"{Coachee.objects.count()} coachees ({mine} of one "
                       f"coach), {Event.objects.count()} audit events, built in "
                       f"{time.perf_counter() - began:.0f} s"))

        step("data set built")
        # 1. appends
        audited, plain = appends(args.appends)
        began = time.perf_counter()
        sealed = 0
        while more := seal():
            sealed += more
        report.append(("audit appends, 8 writers", f"{audited:.0f}/s vs plain INSERT "
                       f"{plain:.0f}/s: {audited / plain:.2f}x; {sealed} left pending, sealed "
                       f"in {time.perf_counter() - began:.2f} s"))

        step("appends measured")
        # 2. dossier vs an unaudited page, 8 clients
        detail_url = reverse("trajectories:detail", args=[dossier_url.rstrip("/").split("/")[-1]])
        dossier = throughput(client, dossier_url, args.seconds)
        unaudited = throughput(client, detail_url, args.seconds)
        report.append(("dossier vs trajectory page", f"{dossier:.0f} vs {unaudited:.0f} "
                       f"requests/s: {dossier / unaudited:.2f}x"))

        step("throughput measured")
        # 3. verify
        verify_rate, hmac_rate, count = verify_vs_hmac()
        report.append(("audit verify vs HMAC-SHA-256", f"{verify_rate:.0f} vs {hmac_rate:.0f} "
                       f"events/s over {count} events: {verify_rate / hmac_rate:.2f}x"))

        step("verify measured")
        # 5. pages and queries (before the purge changes the data set)
        coach_client = client
        owner_client = Client()
        owner_client.force_login(owner, backend="coachregister.accounts.backends.StaffBackend")
        session = owner_client.session
        session[SESSION_LOGIN_AT] = time.time() + 3600 * 24  # as the purge benchmark's reader
        session.save()
        pages = {
            "coachee list (coach)": (coach_client, reverse("coachees:list")),
            "audit browser, one object": (
                owner_client, reverse("audit:event_list") + f"?object_id={target.pseudonym}"),
            "audit browser, denied": (owner_client, reverse("audit:event_list") +
                                      "?outcome=denied"),
        }
        for label, (who, url) in pages.items():
            assert who.get(url).status_code == 200
            def get(who: Client = who, url: str = url) -> object:
                return who.get(url)

            report.append((label, f"{ms(timed(get, 50))}, {queries_of(get)} queries"))

        def who_saw() -> object:  # what the page reads (disclosures.views.who_saw)
            return list(queries.accesses_of(target, limit=500))

        report.append((f"who saw my data ({args.who_saw} events)",
                       f"{ms(timed(who_saw, 50))}, {queries_of(who_saw)} queries"))
        reset_queries()
        with CaptureQueriesContext(connection) as captured:
            coach_client.get(detail_url)
        writes = [q for q in captured.captured_queries
                  if q["sql"].lstrip().upper().startswith(("UPDATE", "INSERT"))]
        report.append(("fixed queries, trajectory page", f"{len(captured.captured_queries)} "
                       f"queries, {len(writes)} writes"))

        step("pages measured")
        # 4. erasure: the purge vs a bare DELETE of the same rows (expired coachees added to
        # the register, purged; built again, deleted bare)
        common.LAST_CONTACT = EXPIRED
        keep = set(Coachee.objects.values_list("pk", flat=True))
        common.build(args.erase, owner, other, offset=args.coachees)
        began = time.perf_counter()
        result = purge_run(batch_size=common.BATCH)
        purge_seconds = time.perf_counter() - began
        assert result.purged == args.erase, result
        common.build(args.erase, owner, other, offset=args.coachees + args.erase)
        fresh = list(Coachee.objects.exclude(pk__in=keep).values_list("pk", flat=True))
        began = time.perf_counter()
        assert common.bare_delete(exclude=0, only=fresh) == args.erase
        bare_seconds = time.perf_counter() - began
        report.append(("erasure vs bare DELETE", f"{args.erase / purge_seconds:.0f} vs "
                       f"{args.erase / bare_seconds:.0f} coachees/s: "
                       f"{bare_seconds / purge_seconds:.2f}x"))

        common.print_report("scale benchmark", report)
    finally:
        connections.close_all()
        connection.creation.destroy_test_db(name, verbosity=0)


if __name__ == "__main__":
    main()
