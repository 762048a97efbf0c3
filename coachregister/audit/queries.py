"""Reading the trail for one coachee: who saw my data (art. 5, GDPR art. 15).

Events name a coachee by pseudonym (object_type "coachee") or one of their trajectories
(object_type "trajectory"); the (object_type, object_id, seq) index answers this without
scanning the trail.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from coachregister.audit.models import Event
from coachregister.coachees.models import Coachee

# "disclosures.proposal.exported": staff made the file a recipient receives (art. 9.2).
READS = ("coachees.contact.viewed", "coachees.name.listed", "coachees.contact.vcard_downloaded",
         "notes.dossier.viewed", "notes.versions.viewed", "disclosures.proposal.exported",
         "rights.letter.downloaded", "rights.request.viewed", "complaints.complaint.viewed",
         "complaints.letter.downloaded", "coachees.list.searched")


def accesses_of(coachee: Coachee) -> QuerySet[Event]:
    trajectories = list(coachee.trajectories.values_list("pseudonym", flat=True))
    return (
        Event.objects.filter(
            Q(object_type="coachee", object_id=coachee.pseudonym)
            | Q(object_type="trajectory", object_id__in=trajectories)
        )
        .filter(action__in=READS)
        .select_related("actor")
        .order_by("-seq")
    )
