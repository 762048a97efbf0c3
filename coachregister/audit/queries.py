"""Reading the trail for one coachee: who saw my data (art. 5, GDPR art. 15).

Events name a coachee by pseudonym (object_type "coachee") or one of their trajectories
(object_type "trajectory"), and a list page's one event names its coachees in the side table
`Listed` (services.listing_record); the object index and the side table's (pseudonym,
event) index answer this without scanning the trail.
"""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet

from coachregister.audit.models import Event, Listed
from coachregister.coachees.models import Coachee

# "disclosures.proposal.exported": staff made the file a recipient receives (art. 9.2).
# "coachees.name.listed": one event per name, before listings had their side table.
READS = ("coachees.contact.viewed", "coachees.names.listed", "coachees.name.listed",
         "coachees.contact.vcard_downloaded",
         "notes.dossier.viewed", "notes.versions.viewed", "disclosures.proposal.exported",
         "rights.letter.downloaded", "rights.request.viewed", "complaints.complaint.viewed",
         "complaints.letter.downloaded", "coachees.list.searched")


def accesses_of(coachee: Coachee, limit: int | None = None) -> QuerySet[Event]:
    """The reads of the coachee's data, newest first; the newest `limit` of them if given.
    With a limit on PostgreSQL: one ordered index scan per object (the coachee and each of
    their trajectories), merged and cut at the limit by the database (Merge Append), so the
    page does not sort every read of a long trail first; then those events by id."""
    trajectories = list(coachee.trajectories.values_list("pseudonym", flat=True))
    events = Event.objects.filter(action__in=READS).select_related("actor").order_by("-seq")
    if limit is not None and connection.vendor == "postgresql":
        merged = newest_reads(coachee.pseudonym, trajectories, limit)
        return events.filter(pk__in=[pk for pk, _seq in merged])
    # On PostgreSQL the listings by their ids, read first: a subquery inside the OR would keep
    # it from combining the index scans (BitmapOr) and make it walk the trail by `seq`. On
    # SQLite a subquery (no limit on the number of SQL variables to meet).
    listings = Listed.objects.filter(pseudonym=coachee.pseudonym).values_list(
        "event_id", flat=True)
    listed = list(listings) if connection.vendor == "postgresql" else listings
    events = events.filter(
        Q(object_type="coachee", object_id=coachee.pseudonym)
        | Q(object_type="trajectory", object_id__in=trajectories)
        | Q(pk__in=listed)
    )
    return events[:limit] if limit is not None else events


def newest_reads(coachee: str, trajectories: list[str], limit: int) -> QuerySet[Any]:
    """(id, seq) of the newest `limit` reads of a coachee (pseudonym) and their trajectories:
    a UNION ALL of one ordered, limited index scan per object, ordered and limited again
    (PostgreSQL only: SQLite allows no LIMIT inside a compound query). The lists that named
    the coachee are scanned newest row first on the side table's index: row order is the
    order of the writers' inserts, which only events committed at the same moment can
    differ from in their sealed order."""
    scans = [
        Event.objects.filter(object_type=kind, object_id=pseudonym, action__in=READS)
        .order_by("-seq").values_list("pk", "seq")[:limit]
        for kind, pseudonym in [("coachee", coachee), *(("trajectory", t) for t in trajectories)]
    ]
    listed = (Listed.objects.filter(pseudonym=coachee).order_by("-event_id")
              .values_list("event_id", "event__seq")[:limit])
    return scans[0].union(*scans[1:], listed, all=True).order_by("-seq")[:limit]
