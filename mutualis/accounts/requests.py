"""The signed-in account of a request, typed: one narrowing for every view behind login_required."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.translation import gettext as _

from mutualis.accounts.models import User


def signed_in(request: HttpRequest) -> User:
    """`request.user` narrowed from `User | AnonymousUser`; login_required never lets an anonymous
    request get here, and should one ever do, it is refused rather than served."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied(_("connexion requise"))
    return user
