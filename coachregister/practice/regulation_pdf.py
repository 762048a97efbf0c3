"""The privacy regulation as a PDF, for a client's quote (Werkwijze, art. 1.9).

The client receives the regulation with the quote, so that the employer knows, before any
employee is invited, what the practice promises about the coachee's data. The PDF shows a
published version exactly as it was published (its stored text, in Dutch, the binding
language, or its English text), with the version label and publication date, so the quote
file proves which version went with it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from coachregister.lib.pdf import render_pdf

if TYPE_CHECKING:
    from coachregister.practice.models import RegulationVersion


# The letterhead as the version states it (promises key -> the name the template reads).
LETTERHEAD = {"practice_name": "name", "address": "address", "email": "email",
              "phone": "phone", "chamber_of_commerce": "chamber_of_commerce"}


def _letterhead(version: RegulationVersion) -> dict[str, str]:
    """The practice as this version states it (Werkwijze: the PDF shows the version exactly
    as it was published; a renamed or moved practice does not rewrite an old version). The
    current settings stand in only for what the version did not store: a version published
    before its promises were kept, or before a key existed."""
    from coachregister.practice.models import PracticeSettings

    stored = version.promises or {}
    current = PracticeSettings.load()
    return {
        name: str((stored[key] if key in stored else getattr(current, name)) or "")
        for key, name in LETTERHEAD.items()
    }


def render(version: RegulationVersion, language: str = "nl") -> bytes:
    """The PDF of one published version. English falls back to the Dutch text when the
    version has no English text (the Dutch text binds; an empty page would mislead)."""
    text = version.text_en if language == "en" and version.text_en else version.text
    stored = version.promises or {}
    return render_pdf(
        "practice/regulation_pdf.html",
        {
            "practice": _letterhead(version),
            "version": version,
            "text": text,
            # The promises as they were when this version was published, not as they are
            # now: the PDF states what this version says.
            "retention_years": stored.get("retention_years"),
        },
        language,
    )
