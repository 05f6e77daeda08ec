"""Load the account with its organisation and service in the session's one user query:
every page prints them, and a page's query count must not grow."""

from typing import Any

from django.contrib.auth.backends import ModelBackend

from mutualis.accounts.models import User


class AccountBackend(ModelBackend):
    def get_user(self, user_id: Any) -> User | None:
        try:
            user = User._default_manager.select_related("organisation", "service").get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
