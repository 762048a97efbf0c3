"""Authentication backend: inactive users and third parties past their contract are refused."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend


class StaffBackend(ModelBackend):
    def user_can_authenticate(self, user: object) -> bool:
        if not super().user_can_authenticate(user):
            return False
        return not user.contract_expired()  # type: ignore[attr-defined]
