"""Throttling for public pages, stored in the database so that every gunicorn worker and
every server counts together."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from coachregister.accounts.models import ThrottleBucket


def _key(scope: str, request: HttpRequest) -> str:
    # An unknown client address (a broken forwarding chain, lib/net.py) counts in one shared
    # "unknown" bucket: never in the proxy's, never in a well-formed client's.
    address = getattr(request, "client_ip", None)
    ident = f"{settings.SECRET_KEY}:{scope}:{address if address is not None else 'unknown'}"
    return hashlib.sha256(ident.encode()).hexdigest()


def hit(request: HttpRequest, scope: str, *, limit: int, window: timedelta) -> bool:
    """Count one attempt; True while the address stays within `limit` per `window`."""
    now = timezone.now()
    with transaction.atomic():
        bucket, _created = ThrottleBucket.objects.select_for_update().get_or_create(
            key=_key(scope, request), defaults={"window_start": now, "count": 0}
        )
        if bucket.window_start + window <= now:
            bucket.window_start, bucket.count = now, 0
        bucket.count += 1
        bucket.save(update_fields=["window_start", "count"])
    return bucket.count <= limit
