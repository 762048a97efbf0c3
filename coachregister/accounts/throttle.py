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


def _key(scope: str, ident: str) -> str:
    return hashlib.sha256(f"{settings.SECRET_KEY}:{scope}:{ident}".encode()).hexdigest()


def hit(request: HttpRequest, scope: str, *, limit: int, window: timedelta) -> bool:
    """Count one attempt of the client address; True while it stays within `limit` per
    `window`. An unknown client address (a broken forwarding chain, lib/net.py) counts in one
    shared "unknown" bucket: never in the proxy's, never in a well-formed client's."""
    address = getattr(request, "client_ip", None)
    return hit_key(str(address) if address is not None else "unknown", scope,
                   limit=limit, window=window)


def hit_key(ident: str, scope: str, *, limit: int, window: timedelta) -> bool:
    """Count one attempt for `ident` (an address, or a keyed index of something typed: never
    personal data in plain); True while it stays within `limit` per `window`."""
    now = timezone.now()
    with transaction.atomic():
        bucket, _created = ThrottleBucket.objects.select_for_update().get_or_create(
            key=_key(scope, ident), defaults={"window_start": now, "count": 0}
        )
        if bucket.window_start + window <= now:
            bucket.window_start, bucket.count = now, 0
        bucket.count += 1
        bucket.save(update_fields=["window_start", "count"])
    return bucket.count <= limit
