"""The sign-in policy of article 12.2: a password from the office, two steps from elsewhere."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from coachregister.lib import net
from coachregister.practice.models import PracticeSettings


def from_office(request: HttpRequest) -> bool:
    practice = PracticeSettings.load()
    return net.in_networks(getattr(request, "client_ip", None), practice.office_network_list())


def second_factor_required(request: HttpRequest) -> bool:
    return PracticeSettings.load().two_factor_everywhere or not from_office(request)


def account_failures(username: str) -> int:
    """Failed sign-ins (and failed confirmations) for this username within the cool-off time,
    from every address. django-axes records them; it enforces only the per-address lock."""
    from axes.models import AccessAttempt
    from django.db.models import Sum

    since = timezone.now() - settings.AXES_COOLOFF_TIME
    total = AccessAttempt.objects.filter(
        username__iexact=username, attempt_time__gte=since
    ).aggregate(total=Sum("failures_since_start"))["total"]
    return total or 0


def account_locked(username: str) -> bool:
    """Art. 12.2: after too many failures an account no longer accepts a password alone from
    outside the office; it asks for the password and the second-factor code in one form. An
    unknown username locks the same way, so the lock tells nobody which accounts exist."""
    return account_failures(username) >= settings.AXES_FAILURE_LIMIT
