"""Key material (art. 6): parsing the master keys that wrap the per-coachee data keys.

Format of COACHREGISTER_MASTER_KEY: ``kid:base64url-key[,kid:base64url-key…]``. Each key is 32
random bytes (AES-256). The first key is current; the others are only kept to unwrap data keys
during a rotation. A key id is recorded with every wrapped data key.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from dataclasses import dataclass

KEY_BYTES = 32
_KID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


class MasterKeyError(ValueError):
    """The master key setting is malformed. The message never contains key material."""


@dataclass(frozen=True)
class MasterKey:
    kid: str
    key: bytes

    def __repr__(self) -> str:  # never print key material
        return f"MasterKey(kid={self.kid!r})"


def parse_master_keys(value: str) -> list[MasterKey]:
    if not value.strip():
        raise MasterKeyError("no master key is set")
    keys: list[MasterKey] = []
    for position, item in enumerate(value.split(","), start=1):
        kid, sep, encoded = item.strip().partition(":")
        if not sep or not _KID.match(kid):
            raise MasterKeyError(f"key {position} must look like 'kid:base64key'")
        try:
            raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        except (binascii.Error, ValueError):
            raise MasterKeyError(f"key {position} ({kid}) is not valid base64") from None
        if len(raw) != KEY_BYTES:
            raise MasterKeyError(f"key {position} ({kid}) must be {KEY_BYTES} bytes")
        if any(existing.kid == kid for existing in keys):
            raise MasterKeyError(f"key id {kid} appears twice")
        keys.append(MasterKey(kid=kid, key=raw))
    return keys


def new_master_key(kid: str) -> str:
    """A fresh key in the setting's format, for `coachregister keys new` and the demo."""
    if not _KID.match(kid):
        raise MasterKeyError("a key id is 1-32 letters, digits, '-' or '_'")
    encoded = base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode().rstrip("=")
    return f"{kid}:{encoded}"
