"""The sign-in policy of article 12.2: a password from the office, two steps from elsewhere."""

from __future__ import annotations

from django.http import HttpRequest

from coachregister.lib import net
from coachregister.practice.models import PracticeSettings


def from_office(request: HttpRequest) -> bool:
    practice = PracticeSettings.load()
    return net.in_networks(getattr(request, "client_ip", None), practice.office_network_list())


def second_factor_required(request: HttpRequest) -> bool:
    return PracticeSettings.load().two_factor_everywhere or not from_office(request)
