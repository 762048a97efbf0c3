"""Free text about a coachee, sealed under the coachee's data key (art. 6, 10).

Staff write reasons, purposes and notes about a coachee (a request's justification, a
disclosure's purpose, how identity was checked). They are personal data like the contact
details, so they are encrypted under the same per-coachee key: erasing the coachee
(crypto-shredding) makes them unreadable with everything else. Readers then get the fixed
text "(erased)" instead of an error, so the pseudonymous record (the request, the register
entry) stays viewable. Used by `rights` and `disclosures`; decrypting happens only through the
models' read properties, which the access-scoped views render.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

from coachregister.lib import crypto

if TYPE_CHECKING:
    from coachregister.coachees.models import Coachee

ERASED = _("(erased)")


def seal(coachee: Coachee, field: str, text: str) -> bytes | None:
    """The text, stripped and encrypted; None for an empty text (nothing to protect)."""
    from coachregister.coachees import vault

    text = text.strip()
    return vault.encrypt_for(coachee, field, text) if text else None


def unseal(coachee: Coachee | None, field: str, blob: bytes | memoryview | None) -> str:
    """The text, or ERASED when the coachee (or their data key) is gone."""
    if blob is None:
        return ""
    if coachee is None:
        return str(ERASED)
    if not blob:
        return ""
    from coachregister.coachees import vault

    try:
        return vault.decrypt_for(coachee, field, bytes(blob))
    except crypto.DecryptionError:  # the data key or its epoch was destroyed (erasure)
        return str(ERASED)
