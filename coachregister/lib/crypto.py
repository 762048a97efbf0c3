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


# --- envelope encryption (art. 6) ----------------------------------------------------------
#
# A per-coachee data key (32 random bytes) encrypts that coachee's fields with AES-256-GCM;
# the current master key wraps the data key. Each ciphertext is bound to where it belongs by
# its associated data (e.g. b"coachee:C-7KQ2-M9:email"), so a value copied into another row
# or column does not decrypt. Destroying the wrapped data key makes every field unreadable.

NONCE_BYTES = 12


class DecryptionError(ValueError):
    """A ciphertext or wrapped key did not authenticate. Says nothing about the content."""


def new_data_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def _seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = secrets.token_bytes(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def _open(key: bytes, blob: bytes, aad: bytes) -> bytes:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    try:
        return AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], aad)
    except (InvalidTag, ValueError):
        raise DecryptionError("ciphertext does not authenticate") from None


def wrap_key(data_key: bytes, master: MasterKey, purpose: str) -> bytes:
    return _seal(master.key, data_key, f"wrap:{master.kid}:{purpose}".encode())


def unwrap_key(wrapped: bytes, kid: str, keys: list[MasterKey], purpose: str) -> bytes:
    for master in keys:
        if master.kid == kid:
            return _open(master.key, bytes(wrapped), f"wrap:{kid}:{purpose}".encode())
    raise DecryptionError(f"master key {kid} is not configured")


def encrypt_text(data_key: bytes, plaintext: str, aad: str) -> bytes:
    return _seal(data_key, plaintext.encode("utf-8"), aad.encode())


def decrypt_text(data_key: bytes, blob: bytes, aad: str) -> str:
    return _open(data_key, bytes(blob), aad.encode()).decode("utf-8")


def blind_index(index_key: bytes, normalised: str) -> str:
    """Keyed HMAC-SHA256: finds a row by an exact value without storing or decrypting it."""
    import hashlib
    import hmac

    return hmac.new(index_key, normalised.encode("utf-8"), hashlib.sha256).hexdigest()
