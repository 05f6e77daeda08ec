"""Authentication backends: the login throttle first, then the accounts themselves."""

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from mutualis.accounts.models import User


class LoginThrottleBackend(AxesStandaloneBackend):
    """Refuses a password while its account, its address or the pair is locked out (django-axes).

    `authenticate()` called without a request comes from code (a shell, the test client), never
    from a client over the network: there is no one to throttle, so it is let through to the next
    backend instead of failing as axes' own backend does."""

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> None:
        if request is None:
            return None
        return super().authenticate(request, username, password, **kwargs)


class AccountBackend(ModelBackend):
    """Loads the account with its organisation and service in the session's one user query:
    every page prints them, and a page's query count must not grow."""

    def get_user(self, user_id: Any) -> User | None:
        try:
            user = User._default_manager.select_related("organisation", "service").get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
