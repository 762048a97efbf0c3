"""Template tags for the regulation's state on pages owned by other views: the note on the
settings pages about changes that wait (art. 2) and the portal's "changed on" (Werkwijze).
They read no personal data."""

from __future__ import annotations

from django import template

register = template.Library()


@register.simple_tag
def pending_for(target: str) -> dict[str, object] | None:
    """The open pending change of "practice" or "retention", its fields labelled."""
    from coachregister.practice.services import pending_open
    from coachregister.practice.views_regulation import pending_rows

    change = pending_open(target)
    return pending_rows([change])[0] if change is not None else None


@register.simple_tag
def regulation_state() -> dict[str, object]:
    """The version in force and the latest material change, for the portal."""
    from coachregister.practice.models import RegulationVersion
    from coachregister.practice.views_regulation import last_material

    return {"current": RegulationVersion.current(), "changed": last_material()}
