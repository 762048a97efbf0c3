"""Several writers at once on PostgreSQL leave one unbroken chain (art. 6)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from coachregister.audit import chain
from coachregister.audit.models import Event
from coachregister.audit.services import event_record

WRITERS = 8
EACH = 25


@pytest.mark.postgres
@pytest.mark.article("6")
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_keep_the_chain_intact() -> None:
    start = threading.Barrier(WRITERS)
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            start.wait()
            for i in range(EACH):
                with transaction.atomic():
                    event_record(action="test.concurrent.write", object_id=f"W{n}-{i}")
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Event.objects.count() == WRITERS * EACH
    assert list(Event.objects.order_by("seq").values_list("seq", flat=True)) == list(
        range(1, WRITERS * EACH + 1))
    verdict = chain.verify(chain.iter_rows())
    assert verdict.ok and verdict.count == WRITERS * EACH
