"""`coachregister createowner`: the first owner of a new installation; prints the password once."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from coachregister.accounts import services


class Command(BaseCommand):
    help = "Create the first owner account (refused when an owner exists)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", required=True)
        parser.add_argument("--full-name", required=True)
        parser.add_argument("--email", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            user, password = services.owner_bootstrap(
                username=options["username"], full_name=options["full_name"],
                email=options["email"],
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(
            _("Owner %(username)s created. Password (shown only now): %(password)s")
            % {"username": user.username, "password": password}
        )
