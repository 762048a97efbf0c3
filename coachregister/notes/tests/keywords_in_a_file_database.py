"""Run in a subprocess by test_keyword_keys.py: a register on a real SQLite file with WAL, one
coachee with a session whose keywords are deleted on a granted request (art. 8.1). The bytes
of the destroyed version (its wrapped key and ciphertext) are printed as JSON (hex), with those
of the version that stays as a control. Not a test module itself."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coachregister.settings")


def main() -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

    from django.db import connection
    from django.utils import timezone

    from coachregister.accounts.models import Role, User
    from coachregister.notes.models import KeywordVersion
    from coachregister.notes.services import session_record
    from coachregister.rights import services
    from coachregister.testing import factories

    owner = User.objects.create(username="eigenaar", full_name="E", role=Role.OWNER)
    coach = User.objects.create(username="coach", full_name="C", role=Role.COACH)
    trajectory = factories.trajectory(owner, coach)
    session = session_record(actor=coach, request=None, trajectory=trajectory,
                             held_on=timezone.localdate(), kind="video", duration_minutes=30,
                             keywords="loopbaanvragen werkdruk")
    old = KeywordVersion.objects.get(session=session)
    captured = [bytes(old.wrapped_key), bytes(old.keywords_enc)]
    data_request = services.request_register(
        actor=owner, request=None, coachee=trajectory.coachee, kind="rectification",
        channel="email", verification="antwoord vanaf het bekende adres", session=session,
        keyword_action="delete",
    )
    services.request_decide(actor=owner, request=None, data_request=data_request,
                            decision="granted")
    kept = KeywordVersion.objects.get(session=session)
    # The files as someone copying them from the running register gets them.
    connection.ensure_connection()
    folder = Path(settings.VAR_DIR) / "copied"
    folder.mkdir()
    for name in ("coachregister.sqlite3", "coachregister.sqlite3-wal"):
        source = Path(settings.VAR_DIR) / name
        if source.exists():
            shutil.copyfile(source, folder / name)
    print(json.dumps({
        "captured": [value.hex() for value in captured],
        "control": bytes(kept.wrapped_key).hex(),
        "old_pk": old.pk,
        "versions": KeywordVersion.objects.filter(session=session).count(),
    }))


if __name__ == "__main__":
    main()
    sys.exit(0)
