"""Validating people's names in any script (art. 3.1 intake).

Accepted: letters of any alphabet with their combining marks, and the joiners people's names
really contain: space, hyphen, apostrophes (' and ’) and the period of an initial. So
"van der Berg", "O'Neill", "Ødegård", "Nguyễn", "Jean-Luc", "Đặng" and "José María" pass;
digits, symbols, emoji and control characters do not.
"""

from __future__ import annotations

import unicodedata

JOINERS = {" ", "-", "'", "\u2019", "."}
MAX_LENGTH = 100


class NameError_(ValueError):
    """Why a name was refused: 'empty', 'too_long', 'characters' or 'no_letter'."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def clean_person_name(value: str) -> str:
    text = unicodedata.normalize("NFC", " ".join(value.split()))
    if not text:
        raise NameError_("empty")
    if len(text) > MAX_LENGTH:
        raise NameError_("too_long")
    for char in text:
        category = unicodedata.category(char)
        if not (category.startswith("L") or category.startswith("M") or char in JOINERS):
            raise NameError_("characters")
    if not any(unicodedata.category(char).startswith("L") for char in text):
        raise NameError_("no_letter")
    return text
