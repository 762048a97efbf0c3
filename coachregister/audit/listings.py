"""Proving a listing's side table by the chain (art. 6).

A listing event (services.listing_record) carries the number of pseudonyms it names and
their digest (chain.listing_digest); its MAC and its link cover both. Its pseudonyms are rows
of `Listed`. `audit verify` walks the listing events and the rows, both in event order, side
by side, so memory stays flat: a row added, removed or changed (with the triggers dropped)
makes the digest differ, and a row of an event that is no listing is reported too.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from operator import itemgetter

from coachregister.audit import chain
from coachregister.audit.models import Event, Listed
from coachregister.audit.services import LISTING

MAX_REPORTED = 10


def _groups() -> Iterator[tuple[int, list[str]]]:
    rows = (Listed.objects.order_by("event_id", "pseudonym")
            .values_list("event_id", "pseudonym").iterator(chunk_size=5000))
    for event_id, group in itertools.groupby(rows, key=itemgetter(0)):
        yield event_id, [pseudonym for _id, pseudonym in group]


def _name(event_id: int, seq: int | None) -> str:
    return f"event {seq}" if seq is not None else f"unsealed event (row {event_id})"


def problems() -> list[str]:
    """The listing events whose rows do not match their digest, and rows of an event that is
    no listing; at most MAX_REPORTED of them, and the number of the rest."""
    events = (Event.objects.filter(object_id="", object_type=LISTING).order_by("id")
              .values_list("id", "seq", "detail").iterator(chunk_size=2000))
    groups = _groups()
    found: list[str] = []
    current = next(groups, None)
    for event_id, seq, detail in events:
        while current is not None and current[0] < event_id:
            found.append(f"rows of event row {current[0]}, which is no listing")
            current = next(groups, None)
        names: list[str] = []
        if current is not None and current[0] == event_id:
            names = current[1]
            current = next(groups, None)
        detail = detail if isinstance(detail, dict) else {}
        if (detail.get("names") != len(names)
                or detail.get("digest") != chain.listing_digest(names)):
            found.append(f"the names of {_name(event_id, seq)} do not match its digest")
    while current is not None:
        found.append(f"rows of event row {current[0]}, which is no listing")
        current = next(groups, None)
    if len(found) > MAX_REPORTED:
        return [*found[:MAX_REPORTED], f"{len(found) - MAX_REPORTED} more"]
    return found
