"""Who acts, as core sees it: the few attributes of an account that tenancy and the audit log read.

`core` sits below `accounts`, where `User` lives, so it names the account by this protocol rather
than by the model; `User` satisfies it, and the apps above `accounts` annotate `actor: User`.
`None` is the system (a command, a background job) where a function accepts it.
"""

from __future__ import annotations

from typing import Any, Protocol

from django.contrib.auth.models import AnonymousUser


class Actor(Protocol):
    """A signed-in account: `mutualis.accounts.models.User` is the one implementation."""

    @property
    def pk(self) -> Any: ...

    @property
    def is_authenticated(self) -> bool: ...

    @property
    def is_operator(self) -> bool: ...

    @property
    def is_operator_admin(self) -> bool: ...

    @property
    def is_read_only(self) -> bool: ...

    @property
    def organisation_id(self) -> int | None: ...

    def get_username(self) -> str: ...


# Whoever makes a request: a signed-in account, or an anonymous visitor that tenancy refuses.
Visitor = Actor | AnonymousUser


def signed_in_actor(user: Actor | AnonymousUser | None) -> Actor | None:
    """`user` when it is a signed-in account, `None` for the system or an anonymous visitor."""
    if user is None or isinstance(user, AnonymousUser) or not user.is_authenticated:
        return None
    return user
