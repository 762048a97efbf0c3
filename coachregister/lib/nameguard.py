"""The name guard (art. 3.1): session keywords may never name the coachee.

`check(text, person)` returns the kinds of data found ("name", "email", "phone"), never the
matching text itself: those kinds are all that may go into a log, an audit event or an
exception text. `find(text, person)` also returns the words of the text that matched, for one
place only: the page of the coach who typed them and knows the name (issue 14).

Rules, in the order they are tried:

* Any email address, and any phone number in a common notation (+31 6 …, 06-…, 0031 …,
  (020) …): a run starting with +, 00 or 0, with 10-15 digits and single separators, that
  `phonenumbers` accepts as a valid number.
* Email addresses written to dodge the pattern: "naam [at] domein [dot] nl", "naam(at)domein.nl",
  "naam at domein punt nl", "naam @ domein . nl" (an "at" or "@" between words, then a domain
  with "dot"/"punt"/"." markers and a top-level domain).
* The coachee's own email local part, with or without its dots, and six or more consecutive
  digits of their phone number, however they are separated. A local part of five letters or
  more matches anywhere; one of four or fewer ("anna@…") follows the whole-word rule of a
  short name (below), so "anna" never blocks "annalen".
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
  - A part written in a script that does not put spaces between words (Chinese, Japanese,
    Korean with its attached particles, Thai, Lao, Khmer, Myanmar) matches anywhere in the
    text, whatever its length: there "whole word" means nothing ("王小明今天很累").
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

# An address written to dodge _EMAIL. The "at" between words is "@" with spaces, or a
# bracketed "at"/"@", or the bare word "at"/"apenstaartje"; the dots are "." (no spaces),
# or a bracketed "dot"/"punt"/".", or the bare words "dot"/"punt". The last label must look
# like a top-level domain, which keeps "at home. Daarna" out.
_OPEN, _CLOSE = r"[(\[{<]", r"[)\]}>]"
_AT = (rf"(?:\s*{_OPEN}\s*(?:at|@|apenstaartje)\s*{_CLOSE}\s*"
       r"|\s+(?:at|apenstaartje)\s+|\s*@\s+|\s+@\s*)")
_DOT = (rf"(?:\s*{_OPEN}\s*(?:dot|punt|\.)\s*{_CLOSE}\s*|\s+(?:dot|punt)\s+|\s+\.\s+|\.)")
_LABEL = r"[^\W_](?:[\w-]{0,62}[^\W_])?"
_TLD = (r"(?:[a-z]{2}|com|org|net|info|biz|edu|gov|int|eus|frl|amsterdam|email|online|site"
        r"|xyz|app|dev|mail|cloud|tech|shop)")
_EMAIL_DODGED = re.compile(
    rf"(?<![\w.+'-])[\w.+'-]*[^\W_]{_AT}{_LABEL}(?:{_DOT}{_LABEL})*?{_DOT}{_TLD}(?![\w-])",
    re.IGNORECASE | re.UNICODE,
)

# Scripts that write words without spaces (or, for Korean, with particles joined to the
# name): a name part in them matches anywhere. Ranges after folding (NFKD: Hangul syllables
# become conjoining jamo, half-width katakana full-width).
_DENSE = re.compile(
    "[\u0e00-\u0eff\u1000-\u109f\u1100-\u11ff\u1780-\u17ff\u3040-\u30ff\u3130-\u318f"
    "\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\ua960-\ua97f\uac00-\ud7ff\uf900-\ufaff"
    "\U00020000-\U0003134f]"
)


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
class Finding:
    """One kind of data found, with the words of the text that matched. `text` is for the
    coach's page only (art. 3.1): never log it, audit it or put it in an exception."""

    kind: str
    text: str


@dataclass(frozen=True)
class _Needles:
    long_parts: tuple[str, ...]
    short_parts: frozenset[str]
    dense_parts: tuple[str, ...]
    joined: tuple[str, ...]
    email_local: tuple[str, ...]
    short_local: frozenset[str]
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
    dense = {p for p in parts if _DENSE.search(p)}
    parts = [p for p in parts if p not in dense]
    local = fold(person.email.split("@")[0]) if "@" in person.email else ""
    bare = "".join(_WORD.findall(local))
    # A local part of five letters or more matches anywhere; "anna" or "zoe.o" (four letters
    # without the dots) only as whole words, like a short name. Three or fewer say too little
    # to refuse on.
    long_local = {x for x in (local, bare) if len(x) > SHORT and len(bare) > SHORT}
    short_local = frozenset([bare]) if len(bare) == SHORT else frozenset()
    digits = re.sub(r"\D", "", person.phone)
    if digits.startswith("31"):
        digits = digits[2:]
    digits = digits.lstrip("0")
    return _Needles(
        long_parts=tuple(sorted({p for p in parts if len(p) > SHORT})),
        short_parts=frozenset(p for p in parts if len(p) <= SHORT),
        dense_parts=tuple(sorted(dense)),
        joined=tuple(sorted(set(joined))),
        email_local=tuple(sorted(long_local)),
        short_local=short_local,
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


# Where a rule matched, in the folded text's coordinates: ("words", first, last) for word
# indices, ("compact", start, end) for the words joined, ("folded", start, end) for the text.
_Where = tuple[str, int, int]


def _names(words: list[str], compact: str, folded: str, needles: _Needles) -> _Where | None:
    for joined in needles.joined:
        at = compact.find(joined)
        if at >= 0:
            return ("compact", at, at + len(joined))
    for part in needles.dense_parts:
        at = folded.find(part)
        if at >= 0:
            return ("folded", at, at + len(part))
    short = needles.short_parts
    for i, word in enumerate(words):
        for part in needles.long_parts:
            if part in word:
                return ("words", i, i)
            if abs(len(word) - len(part)) <= 1 and _one_edit_apart(part, word):
                return ("words", i, i)
        if short and (word in short or (word.endswith("s") and word[:-1] in short)):
            return ("words", i, i)
        if short and len(word) > SHORT:
            for part in short:
                if word.startswith(part) and _starts_with_parts(word[len(part) :], needles):
                    return ("words", i, i)
    return None


def _starts_with_parts(rest: str, needles: _Needles) -> bool:
    """'janwillem' -> after 'jan', does another part of the name follow?"""
    every = needles.short_parts | set(needles.long_parts)
    return any(rest == p or rest == p + "s" for p in every)


def _short_local(words: list[str], needles: _Needles) -> _Where | None:
    """A short local part as whole words: 'anna', 'Anna's', or 'zoe.o' written 'zoe o'."""
    for local in needles.short_local:
        for i, word in enumerate(words):
            if not local.startswith(word):
                continue
            joined, j = word, i
            while len(joined) < len(local) and j + 1 < len(words):
                j += 1
                joined += words[j]
            if joined == local or (joined == local + "s" and j == i):
                return ("words", i, j)
    return None


def _phones(text: str) -> tuple[int, int] | None:
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
            return match.span()
    return None


def _own_phone(text: str, needles: _Needles) -> tuple[int, int] | None:
    own = needles.phone_digits
    if len(own) < 6:
        return None
    digits = re.sub(r"\D", "", text)
    for i in range(len(own) - 5):
        at = digits.find(own[i : i + 6])
        if at >= 0:
            places = [m.start() for m in re.finditer(r"\d", text)]
            return places[at], places[at + 5] + 1
    return None


def _matches(text: str, person: Person) -> list[tuple[str, _Where]]:
    """The kinds found, each with where (in whichever coordinates its rule works in)."""
    found: list[tuple[str, _Where]] = []
    folded = fold(text)
    words = _WORD.findall(folded)
    compact = "".join(words)
    needles = _needles(person)
    where_name = _names(words, compact, folded, needles)
    if where_name is not None:
        found.append((NAME, where_name))
    email = _EMAIL.search(text)
    if email is None and ("@" in text or "at" in words or "apenstaartje" in words):
        # the slower pattern only where it can match
        email = _EMAIL_DODGED.search(text)
    if email is not None:
        found.append((EMAIL, ("text", *email.span())))
    else:
        where = next(
            (("compact", at, at + len(x)) for x in needles.email_local
             if (at := compact.find(x)) >= 0),
            None,
        ) or _short_local(words, needles)
        if where is not None:
            found.append((EMAIL, where))
    phone = _own_phone(text, needles) or _phones(text)
    if phone is not None:
        found.append((PHONE, ("text", *phone)))
    return found


def check(text: str, person: Person) -> list[str]:
    """The kinds of the coachee's data (or of any contact data) that `text` contains."""
    return [kind for kind, _where in _matches(text, person)]


def find(text: str, person: Person) -> list[Finding]:
    """`check` with the words that matched, as the coach wrote them (for their page only)."""
    return [Finding(kind, _quote(text, where)) for kind, where in _matches(text, person)]


def _folded_map(text: str) -> tuple[str, list[int]]:
    """The folded text with, for each of its characters, the index of the character of
    `text` it came from (fold works character by character)."""
    chars: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        piece = fold(ch)
        chars.append(piece)
        origin.extend([i] * len(piece))
    return "".join(chars), origin


def _quote(text: str, where: _Where) -> str:
    """The words of `text` that a match covers, widened to whole words."""
    how, start, end = where
    if how != "text":
        folded, origin = _folded_map(text)
        spans = [m.span() for m in _WORD.finditer(folded)]
        if how == "compact":
            offsets, at = [], 0
            for s, e in spans:
                offsets.append((at, at + e - s))
                at += e - s
            covered = [i for i, (s, e) in enumerate(offsets) if s < end and e > start]
            if not covered:
                return ""
            how, start, end = "words", covered[0], covered[-1]
        if how == "words":
            if end >= len(spans):
                return ""
            start, end = spans[start][0], spans[end][1]
        if start >= end or end > len(origin):
            return ""
        start, end = origin[start], origin[end - 1] + 1
        if how == "folded":
            return text[start:end]
    while start > 0 and _WORD.match(text[start - 1]):
        start -= 1
    while end < len(text) and _WORD.match(text[end]):
        end += 1
    return text[start:end].strip()
