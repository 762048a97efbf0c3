"""`coachregister createowner`: the first owner of a new installation, ready to sign in.

Art. 12.2: without office networks a second factor is asked everywhere, so an owner without
one could never sign in. The command therefore enrols the owner's authenticator app (the
same services as the account page), asks for one code from it, and only then keeps the
owner: the owner, the confirmed device, the backup codes, the office networks and the first
confidentiality statement (art. 4.1f, 5.2) are made in one transaction, so a wrong code
leaves nothing half-made. The password and the backup codes are shown once.
"""

from __future__ import annotations

import io
import sys
from typing import IO, Any

import segno
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils.translation import gettext as _

from coachregister.accounts import services
from coachregister.accounts.models import ConfidentialityStatement, User
from coachregister.lib import net

ATTEMPTS = 3


class Command(BaseCommand):
    help = (
        "Create the first owner account with two-step verification (refused when an owner "
        "exists)."
    )
    # Tests feed the codes through `call_command(..., stdin=...)`, as createsuperuser does.
    stealth_options = ("stdin",)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", required=True)
        parser.add_argument("--full-name", required=True)
        parser.add_argument("--email", required=True)
        parser.add_argument(
            "--office-networks",
            default=None,
            help="Comma-separated IP addresses or networks of the office, e.g. "
            "192.0.2.0/24,2001:db8::/48. From there a password suffices (art. 12.2).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        stdin: IO[str] = options.get("stdin") or sys.stdin
        networks = self._networks(options["office_networks"])
        try:
            with transaction.atomic():
                user, password, codes = self._install(options, networks, stdin)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(
            _("Owner %(username)s created. Password (shown only now): %(password)s")
            % {"username": user.username, "password": password}
        )
        self.stdout.write(
            _("Backup codes (shown only now; each works once, keep them apart from the phone):")
        )
        for code in codes:
            self.stdout.write(f"    {code}")

    def _networks(self, raw: str | None) -> str | None:
        """The option's comma-separated list as the setting's lines, checked before anything
        is made (the field's own validator checks it again on saving)."""
        if raw is None:
            return None
        items = [item.strip() for item in raw.split(",") if item.strip()]
        try:
            net.parse_networks(items)
        except ValueError:
            raise CommandError(
                _("--office-networks: each entry must be an IP address or network, like "
                  "192.0.2.0/24. Nothing has been created.")
            ) from None
        if not items:
            raise CommandError(
                _("--office-networks: give at least one network, or leave the option out. "
                  "Nothing has been created.")
            )
        return "\n".join(items)

    def _install(
        self, options: dict[str, Any], networks: str | None, stdin: IO[str]
    ) -> tuple[User, str, list[str]]:
        from coachregister.practice.models import PracticeSettings
        from coachregister.practice.services import practice_update

        user, password = services.owner_bootstrap(
            username=options["username"], full_name=options["full_name"],
            email=options["email"],
        )
        if networks is not None:
            practice_update(actor=None, request=None, office_networks=networks)
            if PracticeSettings.load().office_networks != networks:
                # A weakening of art. 12.2 may wait for the regulation that states it.
                self.stdout.write(
                    _("The office networks take effect when the owner publishes the privacy "
                      "regulation.")
                )
        if ConfidentialityStatement.current() is None:
            # Art. 4.1f: the owner accepts the statement at the first sign-in; it is generated
            # from the settings just made.
            services.statement_publish(actor=None, request=None)
        device = services.totp_enrol_start(user=user)
        uri = device.config_url
        self.stdout.write(
            _("Scan this code with the authenticator app on the owner's phone, or enter the "
              "address below in the app:")
        )
        qr = io.StringIO()
        segno.make(uri, error="m").terminal(out=qr, compact=True)
        self.stdout.write(qr.getvalue())
        self.stdout.write(uri)
        for attempt in range(1, ATTEMPTS + 1):
            self.stdout.write(
                _("Code from the app (attempt %(attempt)d of %(attempts)d): ")
                % {"attempt": attempt, "attempts": ATTEMPTS},
                ending="",
            )
            self.stdout.flush()
            line = stdin.readline()
            if not getattr(stdin, "isatty", lambda: False)():
                self.stdout.write("")  # a typed code ends its own line; piped input does not
            if not line:  # end of input: nobody is there to type a code
                break
            token = line.strip().replace(" ", "")
            codes = services.totp_enrol_confirm(request=None, user=user, token=token)
            if codes is not None:
                return user, password, codes
            self.stderr.write(
                _("This code is not correct. Check the time on the phone and type the next "
                  "code.")
            )
        raise CommandError(
            _("The authenticator app was not confirmed. Nothing has been created; run the "
              "command again.")
        )
