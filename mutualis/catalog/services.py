"""Writes on the catalogue: applications, vendors, domains, subscriptions, commitments."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext

from mutualis.accounts.models import User
from mutualis.catalog.cache import applications_changed
from mutualis.catalog.models import Application, Domain, ServiceCommitment, Subscription, Vendor
from mutualis.core.services import model_create, model_update
from mutualis.core.tenancy import require_operator_staff, require_writer

APPLICATION_FIELDS = (
    "name",
    "domain",
    "software",
    "vendor",
    "licence",
    "description",
    "sso_protocol",
    "support_group",
    "position",
)
SUBSCRIPTION_FIELDS = ("status", "started_on", "ended_on", "note")
VENDOR_FIELDS = ("name", "siren", "siret")


def _require_catalog_writer(actor: User) -> None:
    require_operator_staff(actor)
    require_writer(actor)


def domain_create(*, actor: User, data: dict[str, Any], via: str = "web") -> Domain:
    _require_catalog_writer(actor)
    return model_create(actor=actor, model=Domain, data=data, via=via)


def vendor_create(*, actor: User, data: dict[str, Any], via: str = "web") -> Vendor:
    _require_catalog_writer(actor)
    return model_create(actor=actor, model=Vendor, data=data, via=via)


def vendor_update(*, actor: User, vendor: Vendor, data: dict[str, Any], via: str = "web") -> dict[str, list[Any]]:
    """Change a vendor's name and identifiers. The SIRET (14 digits, check digit, starting with
    the SIREN) is what publishes the vendor's contracts as open data (DECP); a refused value
    writes nothing."""
    _require_catalog_writer(actor)
    _, changes = model_update(actor=actor, instance=vendor, data=data, fields=VENDOR_FIELDS, via=via)
    return changes


def application_create(*, actor: User, data: dict[str, Any], via: str = "web") -> Application:
    _require_catalog_writer(actor)
    application = model_create(actor=actor, model=Application, data=data, via=via)
    applications_changed()
    return application


def application_update(
    *, actor: User, application: Application, data: dict[str, Any], via: str = "web"
) -> dict[str, list[Any]]:
    _require_catalog_writer(actor)
    _, changes = model_update(actor=actor, instance=application, data=data, fields=APPLICATION_FIELDS, via=via)
    if changes:
        applications_changed()
    return changes


def subscription_create(*, actor: User, data: dict[str, Any], via: str = "web") -> Subscription:
    """Subscribe a member to an application; a second subscription for the same pair is refused
    with a message pointing to the existing one."""
    _require_catalog_writer(actor)
    collectivity = data.get("collectivity")
    if collectivity is not None and collectivity.is_operator:
        raise ValidationError({"collectivity": gettext("l'opérateur ne s'abonne pas à son propre catalogue")})
    return model_create(actor=actor, model=Subscription, data=data, via=via)


def subscription_update(
    *, actor: User, subscription: Subscription, data: dict[str, Any], via: str = "web"
) -> dict[str, list[Any]]:
    _require_catalog_writer(actor)
    _, changes = model_update(actor=actor, instance=subscription, data=data, fields=SUBSCRIPTION_FIELDS, via=via)
    return changes


def service_commitment_update(
    *, actor: User, commitment: ServiceCommitment, data: dict[str, Any], via: str = "web"
) -> dict[str, list[Any]]:
    _require_catalog_writer(actor)
    _, changes = model_update(
        actor=actor, instance=commitment, data=data, fields=("name", "description", "targets", "position"), via=via
    )
    return changes
