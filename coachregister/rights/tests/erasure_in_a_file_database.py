"""Run in a subprocess by test_erasure_unrecoverable.py and retention's test_purge_files.py: a
register on a real SQLite file with WAL, two coachees, one of them erased (and the
confirmation sent) or, with the argument `purge`, purged when its retention period ended; the
bytes an attacker would look for are printed as JSON (hex). Not a test module itself."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coachregister.settings")


def main(mode: str) -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

    from datetime import datetime
    from zoneinfo import ZoneInfo

    import time_machine

    from coachregister.accounts.models import Role, User
    from coachregister.coachees.models import Coachee
    from coachregister.coachees.vault import Contact
    from coachregister.notes.models import KeywordVersion
    from coachregister.notes.services import session_record
    from coachregister.outbox.models import OutboxMessage
    from coachregister.outbox.services import send_due
    from coachregister.retention.services import purge_run
    from coachregister.rights import services
    from coachregister.testing import factories
    from coachregister.trajectories.services import trajectory_end

    owner = User.objects.create(username="eigenaar", full_name="E", role=Role.OWNER)
    coach = User.objects.create(username="coach", full_name="C", role=Role.COACH)
    # For a purge the coachee's last contact lies more than seven years back.
    then = datetime(2015, 3, 2, 12, tzinfo=ZoneInfo("Europe/Amsterdam"))
    with time_machine.travel(then if mode == "purge" else datetime.now(tz=ZoneInfo("UTC")),
                             tick=False):
        erased = factories.trajectory(
            owner, coach,
            contact=Contact("Wilhelmina", "Zuidervaart", "wilhelmina.z@voorbeeld.example",
                            "+31612398745"),
        )
        session_record(actor=coach, request=None, trajectory=erased,
                       held_on=erased.started_on, kind="video", duration_minutes=30,
                       keywords="loopbaanvragen werkdruk")
        if mode == "purge":
            trajectory_end(actor=owner, request=None, trajectory=erased, broken_off=False)
    kept = factories.trajectory(
        owner, coach,
        contact=Contact("Bartholomeus", "Oosterhuis", "bart.o@voorbeeld.example",
                        "+31687654321"),
    )
    send_due()  # the coach's mails: sent and wiped like every other
    row = Coachee.objects.get(pk=erased.coachee_id)
    captured = [bytes(row.wrapped_key), bytes(row.first_name_enc), bytes(row.last_name_enc),
                bytes(row.email_enc), bytes(row.phone_enc), row.email_index.encode()]
    captured += [bytes(v.keywords_enc) for v in KeywordVersion.objects.all()]
    if mode == "purge":
        assert purge_run().purged == 1
    else:
        data_request = services.request_register(
            actor=owner, request=None, coachee=row, kind="erasure", channel="email",
            verification="antwoord vanaf het bekende adres",
        )
        services.request_decide(actor=owner, request=None, data_request=data_request,
                                decision="granted")
        confirmation = OutboxMessage.objects.get(kind="rights_erasure_done")
        captured += [bytes(confirmation.wrapped_key), bytes(confirmation.recipient_enc),
                     bytes(confirmation.body_enc)]
        assert send_due() >= 1
    control = Coachee.objects.get(pk=kept.coachee_id)
    # What someone copying the files of the running register would get: the database and its
    # WAL as they are now, the connection still open (closing it would checkpoint for us).
    from django.db import connection

    connection.ensure_connection()
    folder = Path(settings.VAR_DIR) / "copied"
    folder.mkdir()
    for name in ("coachregister.sqlite3", "coachregister.sqlite3-wal"):
        source = Path(settings.VAR_DIR) / name
        if source.exists():
            shutil.copyfile(source, folder / name)
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA secure_delete")
        secure_delete = cursor.fetchone()[0]
    print(json.dumps({
        # Debian's SQLite deletes securely by default; the setting makes it so on any build.
        "secure_delete": secure_delete,
        "init_command": connection.settings_dict["OPTIONS"]["init_command"],
        "captured": [value.hex() for value in captured],
        "plain": ["Wilhelmina", "Zuidervaart", "wilhelmina.z@voorbeeld.example",
                  "loopbaanvragen"],
        "control": bytes(control.email_enc).hex(),
    }))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "erasure")
    sys.exit(0)
