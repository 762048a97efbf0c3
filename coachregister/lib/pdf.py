"""Rendering letters to PDF with WeasyPrint (art. 7, 8: answers in writing)."""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string
from django.utils.translation import override


def render_pdf(template: str, context: dict[str, Any], language: str = "nl") -> bytes:
    from weasyprint import HTML  # imported here: loading pango is only needed for letters

    with override(language):
        html = render_to_string(template, context)
    return HTML(string=html).write_pdf()
