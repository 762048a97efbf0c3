"""The incident page's tools (affected coachees, notices, containment), shown inside the
incident detail page with what they need from the register."""

from __future__ import annotations

from typing import Any

from django import template

from coachregister.accounts.models import Role, User
from coachregister.incidents import containment, notices

register = template.Library()


@register.inclusion_tag("incidents/_tools.html")
def incident_tools(incident: Any, user: Any) -> dict[str, Any]:
    role = getattr(user, "role", None)
    return {
        "incident": incident,
        "may_manage": role in (Role.OWNER, Role.ADMINISTRATOR),
        "is_owner": role == Role.OWNER,
        "containment_users": User.objects.filter(is_active=True).order_by("username"),
        "containment_log": notices.containment_actions(incident),
        "rotations": containment.rotations_since(incident),
    }
