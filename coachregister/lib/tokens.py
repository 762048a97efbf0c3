"""Random identifiers and secrets: pseudonyms, invitation tokens and short codes.

Pseudonyms are random, never derived from a name (art. 3.1). Invitation tokens are long
random values; only their hashes are stored, so a database dump does not open any intake.
The short code is meant for typing; it has 40 bits and is stored as a keyed HMAC, so it cannot
be brute-forced offline from a dump, and guessing online is throttled.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

# Crockford's base32: no I, L, O, U, so codes read aloud or typed by hand stay unambiguous.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CONFUSABLE = str.maketrans({"I": "1", "L": "1", "O": "0", "U": "V"})


def random_chars(length: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def new_pseudonym(prefix: str) -> str:
    """E.g. C-7KQ2-M9XA: 40 random bits; callers retry on the (unique) collision."""
    return f"{prefix}-{random_chars(4)}-{random_chars(4)}"


def new_token() -> str:
    return secrets.token_urlsafe(32)


def new_code() -> str:
    return f"{random_chars(4)}-{random_chars(4)}"


def normalise_code(value: str) -> str:
    cleaned = "".join(ch for ch in value.upper() if ch.isalnum()).translate(_CONFUSABLE)
    return f"{cleaned[:4]}-{cleaned[4:]}" if len(cleaned) == 8 else cleaned


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def code_hash(code: str, key: str) -> str:
    return hmac.new(key.encode(), normalise_code(code).encode(), hashlib.sha256).hexdigest()
