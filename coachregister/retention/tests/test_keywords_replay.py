"""A restore never brings destroyed keywords back (art. 10.2): keyword versions erased after a
withdrawn consent or deleted on a granted request are destroyed again when the rights journal
is re-applied to a restored backup that still holds them."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from coachregister.accounts.models import User
from coachregister.disclosures.models import Consent, Purpose
from coachregister.notes import services as notes
from coachregister.notes.models import CoachingSession, KeywordVersion
from coachregister.retention import backup, journal
from coachregister.retention.tests.test_backup_restore import (  # noqa: F401 (a fixture)
    _json,
    _run,
    _shell,
    databases,
)
from coachregister.rights import services as rights
from coachregister.testing import factories

pytestmark = [pytest.mark.django_db, pytest.mark.article("10.2")]


def record(coach: User, trajectory: object, keywords: str) -> CoachingSession:
    return notes.session_record(
        actor=coach, request=None, trajectory=trajectory,
        held_on=timezone.localdate() - timedelta(days=2), kind="video", duration_minutes=45,
        keywords=keywords,
    )


def test_reapplying_the_journal_destroys_restored_keywords_again(
    owner: User, coach: User, django_capture_on_commit_callbacks: Any
) -> None:
    withdrawn = factories.trajectory(owner, coach)
    requested = factories.trajectory(owner, coach, contact=factories.person(3))
    erased_sessions = [record(coach, withdrawn, "werkdruk"), record(coach, withdrawn, "rust")]
    deleted = record(coach, requested, "loopbaan")
    untouched = record(coach, requested, "balans")

    # The backup: the rows as they are now, and the journal's position.
    snapshot = list(KeywordVersion.objects.values())
    position = {"position": len(journal.entries()), "open": []}

    with django_capture_on_commit_callbacks(execute=True):
        notes.keywords_consent_withdraw(request=None, coachee=withdrawn.coachee, erase=True)
    data_request = rights.request_register(
        actor=owner, request=None, coachee=requested.coachee, kind="rectification",
        channel="letter", verification="ondertekende brief", session=deleted,
        keyword_action="delete",
    )
    with django_capture_on_commit_callbacks(execute=True):
        rights.request_decide(actor=owner, request=None, data_request=data_request,
                              decision="granted")
    effects = {e.effect for e in journal.entries() if e.state == "done"}
    assert {journal.Effect.KEYWORDS_ERASED, journal.Effect.KEYWORDS_DELETED} <= effects

    # The restore puts the backup's rows back: every version, the consent in force.
    KeywordVersion.objects.all().delete()
    KeywordVersion.objects.bulk_create(KeywordVersion(**row) for row in snapshot)
    Consent.objects.filter(coachee=withdrawn.coachee).update(withdrawn_at=None)
    assert KeywordVersion.objects.filter(session__in=erased_sessions).count() == 2

    with django_capture_on_commit_callbacks(execute=True):
        reapplied, pending, short = backup.journal_reapply(position)
    assert reapplied == 3 and not pending and not short  # the consent, erased, deleted
    assert not KeywordVersion.objects.filter(session__in=erased_sessions).exists()
    assert Consent.objects.get(
        coachee=withdrawn.coachee, purpose=Purpose.SESSION_KEYWORDS).withdrawn_at is not None
    (left,) = deleted.versions.all()  # the earlier version destroyed again, the note back
    assert left.number == 2 and left.written_by == owner
    keywords, reason = notes.read_version(requested.coachee, left)
    assert keywords == "" and "op verzoek van de coachee" in reason
    assert notes.current_keywords(requested.coachee, untouched) == "balans"
    # Idempotent: a second pass finds nothing left to do.
    assert backup.journal_reapply(position)[0] == 0


SETUP = """
import json
from datetime import timedelta
from pathlib import Path
from django.utils import timezone
from coachregister.accounts.models import Role, User
from coachregister.notes.services import session_record
from coachregister.testing import factories
owner = User.objects.create(username="eigenaar", full_name="E", role=Role.OWNER,
                            email="eigenaar@praktijk.example")
coach = User.objects.create(username="coach", full_name="C", role=Role.COACH)
found = {}
for key, n in (("withdrawn", 1), ("requested", 2)):
    trajectory = factories.trajectory(owner, coach, contact=factories.person(n))
    session = session_record(actor=coach, request=None, trajectory=trajectory,
                             held_on=timezone.localdate() - timedelta(days=1), kind="video",
                             duration_minutes=45, keywords="werkdruk")
    found[key] = [trajectory.coachee.pseudonym, session.pk]
print("JSON" + json.dumps(found))
"""

AFTER_BACKUP = """
import json
from coachregister.accounts.models import User
from coachregister.coachees.models import Coachee
from coachregister.notes.models import CoachingSession
from coachregister.notes.services import keywords_consent_withdraw
from coachregister.rights import services
p = json.loads({found!r})
owner = User.objects.get(username="eigenaar")
keywords_consent_withdraw(request=None, coachee=Coachee.objects.get(pseudonym=p["withdrawn"][0]),
                          erase=True)
asked = services.request_register(actor=owner, request=None,
    coachee=Coachee.objects.get(pseudonym=p["requested"][0]), kind="rectification",
    channel="letter", verification="signed letter",
    session=CoachingSession.objects.get(pk=p["requested"][1]), keyword_action="delete")
services.request_decide(actor=owner, request=None, data_request=asked, decision="granted")
"""

CHECK = """
import json
from coachregister.coachees.models import Coachee
from coachregister.notes.models import KeywordVersion
from coachregister.notes.services import read_version
p = json.loads({found!r})
requested = Coachee.objects.get(pseudonym=p["requested"][0])
print("JSON" + json.dumps({{
    "withdrawn": KeywordVersion.objects.filter(session_id=p["withdrawn"][1]).count(),
    "requested": [[v.number, *read_version(requested, v)]
                  for v in KeywordVersion.objects.filter(session_id=p["requested"][1])],
}}))
"""


def test_a_restore_destroys_the_keywords_again_before_serving(
    tmp_path: Path, databases: list[dict[str, str]]  # noqa: F811
) -> None:
    """End to end, in production-like processes: a backup, then an erasure after a withdrawn
    consent and a granted deletion; `coachregister restore` of that backup into an empty
    database destroys both again."""
    import json

    from coachregister.testing.server import Server, server_env

    live_db, empty_db, _again = databases
    env = server_env(tmp_path / "var", {"DJANGO_SETTINGS_MODULE": "coachregister.settings"})
    live = Server(url="", env={**env, **live_db}, log=tmp_path / "live.log")
    restored = Server(url="", env={**env, **empty_db}, log=tmp_path / "restored.log")
    _run(live, "migrate", "--no-input", "-v", "0")
    found = _json(_shell(live, SETUP))
    _run(live, "backup", str(tmp_path / "backups"))
    (backup_file,) = (tmp_path / "backups").glob("coachregister-*.crbackup")
    _shell(live, AFTER_BACKUP.format(found=json.dumps(found)))
    before = _json(_shell(live, CHECK.format(found=json.dumps(found))))
    assert before["withdrawn"] == 0 and [v[:2] for v in before["requested"]] == [[2, ""]]

    result = restored.manage("restore", str(backup_file), check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    state = _json(_shell(restored, CHECK.format(found=json.dumps(found))))
    assert state["withdrawn"] == 0
    assert state["requested"] == before["requested"]


def test_a_restore_records_the_narrower_consent_again(
    owner: User, coach: User, django_capture_on_commit_callbacks: Any
) -> None:
    """Keywords kept after a withdrawal never stand without the consent that covers them,
    also when the backup predates that consent."""
    trajectory = factories.trajectory(owner, coach)
    record(coach, trajectory, "werkdruk")
    position = {"position": len(journal.entries()), "open": []}
    with django_capture_on_commit_callbacks(execute=True):
        kept = notes.keywords_consent_withdraw(request=None, coachee=trajectory.coachee,
                                               erase=False)
    # The backup predates the withdrawal: the old consent in force, no narrower one.
    kept.delete()
    Consent.objects.filter(coachee=trajectory.coachee).update(withdrawn_at=None)

    with django_capture_on_commit_callbacks(execute=True):
        reapplied, pending, short = backup.journal_reapply(position)
    assert reapplied == 2 and not pending and not short  # the withdrawal, the kept consent
    again = Consent.objects.get(coachee=trajectory.coachee, purpose=Purpose.KEYWORDS_KEPT)
    assert again.in_force and again.text == kept.text
    assert KeywordVersion.objects.filter(session__trajectory=trajectory).exists()
