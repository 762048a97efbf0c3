"""The name guard (art. 3.1): session keywords may never name the coachee.

`check(text, person)` returns the kinds of data found ("name", "email", "phone"), never the
matching text itself, so the message to the coach can say what kind matched without
repeating it.

Rules, in the order they are tried:

* Any email address, and any phone number in a common notation (+31 6 …, 06-…, 0031 …,
  (020) …): a run starting with +, 00 or 0, with 10-15 digits and single separators, that
  `phonenumbers` accepts as a valid number.
* The coachee's own email local part, with or without its dots, and six or more consecutive
  digits of their phone number, however they are separated.
* The coachee's names, compared without case and diacritics ("Zoë" = "zoe"), split into parts
  at spaces, hyphens and apostrophes; name particles ("de", "van", "van der", "ter" …) are
  not parts, so they alone never match.
  - A part of five letters or more matches anywhere inside a word ("Willems", "JanWillem"),
    and also as a word with one letter wrong, missing or added, or two neighbouring letters
    swapped ("Wilem", "Willlem", "Vreis").
  - A part of four letters or fewer ("Eva", "Jan", "Anne", "Bos") matches only as a whole
    word, or followed by a possessive s ("Evas", "Eva's"), or joined to another part of the
    same name ("janwillem"). So "Eva" never blocks "evaluatie" and "Jan" never "januari".
  - The whole first name and the whole last name with their spaces and hyphens removed
    ("janwillem", "vandenberg") match anywhere when they have five letters or more.
  - Initials with the last name ("J. de Vries") are caught by the last name itself.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers

NAME, EMAIL, PHONE = "name", "email", "phone"

PARTICLES = frozenset(
    [
        "van",
        "de",
        "der",
        "den",
        "het",
        "ten",
        "ter",
        "te",
        "op",
        "in",
        "t",
        "v",
        "d",
        "vd",
        "von",
        "zu",
        "la",
        "le",
        "les",
        "du",
        "di",
        "da",
        "del",
        "della",
        "dos",
        "das",
        "des",
        "el",
        "al",
        "bin",
        "ibn",
        "ben",
        "mac",
        "mc",
        "o",
    ]
)
SHORT = 4  # parts of this many letters or fewer match only as whole words

_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
_PHONE = re.compile(r"(?<![\w+])(?:\+|00|0)\d(?:[ .\-/]?\(?\d\)?){7,16}(?!\w)")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_SEPARATORS = re.compile(r"[\s\-'\u2019.]+")


@dataclass(frozen=True)
class Person:
    first_name: str
    last_name: str
    email: str = ""
    phone: str = ""


# Letters that Unicode does not decompose into a base letter and a mark.
_LETTERS = str.maketrans({"ø": "o", "æ": "ae", "œ": "oe", "ß": "ss", "đ": "d", "ł": "l",
                          "þ": "th", "ı": "i", "ð": "d", "ħ": "h"})


def fold(text: str) -> str:
    """Lower case without diacritics: 'Zoë Ødegård' -> 'zoe odegard'."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.translate(_LETTERS)


@dataclass(frozen=True)
class _Needles:
    long_parts: tuple[str, ...]
    short_parts: frozenset[str]
    joined: tuple[str, ...]
    email_local: tuple[str, ...]
    phone_digits: str


@lru_cache(maxsize=256)
def _needles(person: Person) -> _Needles:
    parts: list[str] = []
    joined: list[str] = []
    for name, is_last in ((person.first_name, False), (person.last_name, True)):
        folded = fold(name)
        pieces = [p for p in _SEPARATORS.split(folded) if p]
        # Particles are left out of last names only ("Ben" is a first name, not "ben"),
        # and only when something else remains ("De" alone is the name).
        kept = [p for p in pieces if not (is_last and p in PARTICLES)] or pieces
        parts.extend(kept)
        compact = "".join(pieces)
        if len(compact) > SHORT and len(pieces) > 1:
            joined.append(compact)
        non_particle = "".join(p for p in pieces if p not in PARTICLES)
        if len(non_particle) > SHORT and non_particle != compact:
            joined.append(non_particle)
    local = fold(person.email.split("@")[0]) if "@" in person.email else ""
    locals_ = {local, re.sub(r"[^a-z0-9]", "", local)} if len(local) >= 4 else set()
    digits = re.sub(r"\D", "", person.phone)
    if digits.startswith("31"):
        digits = digits[2:]
    digits = digits.lstrip("0")
    return _Needles(
        long_parts=tuple(sorted({p for p in parts if len(p) > SHORT})),
        short_parts=frozenset(p for p in parts if len(p) <= SHORT),
        joined=tuple(sorted(set(joined))),
        email_local=tuple(sorted(x for x in locals_ if x)),
        phone_digits=digits,
    )


def _one_edit_apart(a: str, b: str) -> bool:
    """True when b is a with one letter changed, removed or added, or two neighbouring
    letters swapped (not when they are equal)."""
    la, lb = len(a), len(b)
    if abs(la - lb) > 1 or a == b:
        return False
    if la == lb:
        diffs = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        if len(diffs) == 1:
            return True
        # two neighbouring letters swapped ("Vreis" for "Vries") is one slip of the hand
        if len(diffs) != 2:
            return False
        i, j = diffs
        return j == i + 1 and a[i] == b[j] and a[j] == b[i]
    if la > lb:
        a, b, la, lb = b, a, lb, la
    i = 0
    while i < la and a[i] == b[i]:
        i += 1
    return a[i:] == b[i + 1 :]


def _names(words: list[str], compact: str, needles: _Needles) -> bool:
    for joined in needles.joined:
        if joined in compact:
            return True
    short = needles.short_parts
    for word in words:
        for part in needles.long_parts:
            if part in word:
                return True
            if abs(len(word) - len(part)) <= 1 and _one_edit_apart(part, word):
                return True
        if short and (word in short or (word.endswith("s") and word[:-1] in short)):
            return True
        if short and len(word) > SHORT:
            for part in short:
                if word.startswith(part) and _starts_with_parts(word[len(part) :], needles):
                    return True
    return False


def _starts_with_parts(rest: str, needles: _Needles) -> bool:
    """'janwillem' -> after 'jan', does another part of the name follow?"""
    every = needles.short_parts | set(needles.long_parts)
    return any(rest == p or rest == p + "s" for p in every)


def _phones(text: str) -> bool:
    for match in _PHONE.finditer(text):
        candidate = match.group(0)
        digits = re.sub(r"\D", "", candidate)
        if not 9 <= len(digits) <= 15:
            continue
        try:
            number = phonenumbers.parse(candidate, "NL")
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return True
    return False


def check(text: str, person: Person) -> list[str]:
    """The kinds of the coachee's data (or of any contact data) that `text` contains."""
    found: list[str] = []
    folded = fold(text)
    words = _WORD.findall(folded)
    compact = "".join(words)
    needles = _needles(person)
    if _names(words, compact, needles):
        found.append(NAME)
    if _EMAIL.search(text) or any(local in compact for local in needles.email_local):
        found.append(EMAIL)
    digits = re.sub(r"\D", "", text)
    own_phone = len(needles.phone_digits) >= 6 and any(
        needles.phone_digits[i : i + 6] in digits for i in range(len(needles.phone_digits) - 5)
    )
    if own_phone or _phones(text):
        found.append(PHONE)
    return found
