"""Dutch first: every user-facing string has a Dutch translation, and the compiled catalogue
that Django reads matches the .po file."""

from __future__ import annotations

import gettext
from pathlib import Path

import polib
import pytest

LOCALE = Path(__file__).resolve().parents[1] / "locale" / "nl" / "LC_MESSAGES"


@pytest.mark.article("Werkwijze")
def test_every_string_is_translated_and_compiled() -> None:
    po = polib.pofile(str(LOCALE / "django.po"))
    assert len(po) > 300
    assert [e.msgid for e in po.untranslated_entries()] == []
    assert [e.msgid for e in po.fuzzy_entries()] == []
    with (LOCALE / "django.mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = [e.msgid for e in po if not e.msgid_plural and compiled.gettext(e.msgid) != e.msgstr]
    assert stale == [], "run: coachregister compilemessages"
