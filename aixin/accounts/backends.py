from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend

from aixin.accounts.models import User


class RegionAwareBackend(ModelBackend):
    """Loads the user's region with the user: every page shows it and every scope uses it."""

    def get_user(self, user_id: Any) -> User | None:
        user = User.objects.select_related("region").filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None
