"""Whether the signed-in user may open the compliance overview (practice/compliance.py), so
the dashboard links it only for who may see it: an auditor outside an engagement's window
would find a refusal behind the link (art. 5.4)."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def may_read_compliance(user: Any) -> bool:
    from coachregister.practice.compliance import may_read

    return bool(getattr(user, "is_authenticated", False)) and may_read(user)
