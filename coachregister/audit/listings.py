"""Proving a listing's side table by the chain (art. 6).

A listing event (services.listing_record) carries the number of pseudonyms it names and
their digest (chain.listing_digest); its MAC and its link cover both. Its pseudonyms are rows
of `Listed`. `audit verify` reads every row with its event, and every listing event without
rows, in one statement ordered by event (one snapshot: a page listed while verify runs is
seen whole or not at all), streamed, so memory stays flat. A row added, removed or changed
(with the triggers dropped) makes the digest differ, and a row of an event that is no listing
is reported too.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from operator import itemgetter
from typing import Any

from django.db import connection, transaction

from coachregister.audit import chain
from coachregister.audit.models import Event, Listed
from coachregister.audit.services import LISTING

MAX_REPORTED = 10

# (event id, seq, object type, object id, detail, pseudonym): the rows with their events, then
# the listing events that have none (pseudonym NULL). Fixed table names, no input.
_SQL = f"""
    SELECT l.event_id, e.seq, e.object_type, e.object_id, e.detail, l.pseudonym
      FROM {Listed._meta.db_table} l LEFT JOIN {Event._meta.db_table} e ON e.id = l.event_id
    UNION ALL
    SELECT e.id, e.seq, e.object_type, e.object_id, e.detail, NULL
      FROM {Event._meta.db_table} e
     WHERE e.object_type = %s AND e.object_id = '' AND NOT EXISTS (
           SELECT 1 FROM {Listed._meta.db_table} l WHERE l.event_id = e.id)
    ORDER BY 1, 6
"""  # noqa: S608


def _rows() -> Iterator[tuple[Any, ...]]:
    with transaction.atomic(), connection.chunked_cursor() as cursor:
        cursor.execute(_SQL, [LISTING])
        while batch := cursor.fetchmany(5000):
            yield from batch


def _name(event_id: int, seq: int | None) -> str:
    return f"event {seq}" if seq is not None else f"unsealed event (row {event_id})"


def problems() -> list[str]:
    """The listing events whose rows do not match their digest, and rows of an event that is
    no listing; at most MAX_REPORTED of them, and the number of the rest."""
    found: list[str] = []
    for event_id, group in itertools.groupby(_rows(), key=itemgetter(0)):
        rows = list(group)
        _id, seq, object_type, object_id, detail, _pseudonym = rows[0]
        names = [row[5] for row in rows if row[5] is not None]
        if (object_type, object_id) != (LISTING, ""):
            found.append(f"rows of event row {event_id}, which is no listing")
            continue
        if isinstance(detail, str):
            detail = json.loads(detail)
        detail = detail if isinstance(detail, dict) else {}
        if (detail.get("names") != len(names)
                or detail.get("digest") != chain.listing_digest(names)):
            found.append(f"the names of {_name(event_id, seq)} do not match its digest")
    if len(found) > MAX_REPORTED:
        return [*found[:MAX_REPORTED], f"{len(found) - MAX_REPORTED} more"]
    return found
