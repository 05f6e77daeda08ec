"""API v1: collectivities, applications, subscriptions. Reads for every account (scoped to its
organisation), writes for operator staff; every write goes through the apps' services.

Refusals follow one rule: an object the account may not read is 404 (its existence is not
disclosed); a write the account may not make on something it can read is 403."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import NinjaAPI, Query, Router, Status, Swagger
from ninja.pagination import paginate

from mutualis.accounts.models import User
from mutualis.accounts.requests import signed_in
from mutualis.api.auth import BrowserSession, TokenAuth
from mutualis.api.schemas import (
    ApplicationIn,
    ApplicationOut,
    ApplicationPatch,
    CollectivityIn,
    CollectivityOut,
    CollectivityPatch,
    SubscriptionIn,
    SubscriptionOut,
    SubscriptionPatch,
)
from mutualis.catalog import services as catalog_services
from mutualis.catalog.models import Application, Domain, Vendor
from mutualis.catalog.selectors import application_get, application_list, subscription_get, subscription_list
from mutualis.core.api_errors import ERRORS
from mutualis.core.api_errors import install as install_error_handlers
from mutualis.core.api_pagination import PagePagination
from mutualis.core.tenancy import is_operator
from mutualis.helpdesk.api import router as helpdesk_tickets
from mutualis.members import services as member_services
from mutualis.members.models import OperatorService, Organisation
from mutualis.members.selectors import collectivity_get, collectivity_list
from mutualis.questionnaires.api import router as questionnaires

api = NinjaAPI(
    title="Mutualis API",
    version="1",
    description="Collectivités, catalogue et abonnements de l'opérateur. Authentification : jeton personnel "
    "(`Authorization: Bearer …`) ou session du navigateur.",
    auth=[TokenAuth(), BrowserSession()],
    urls_namespace="api-v1",
    # The page loads Swagger UI from ninja's bundled /static/ files ("ninja" is an installed app;
    # without it ninja falls back to a CDN, and servers may have no internet). No online validator.
    docs=Swagger(settings={"validatorUrl": None}),
)

install_error_handlers(api)


def _by_slug(rows: QuerySet[Any], slug: str | None, field: str) -> Any:
    """The row of `rows` with that slug (a tenant model's rows come through `visible_to`)."""
    if slug is None:
        return None
    try:
        return rows.get(slug=slug)
    except rows.model.DoesNotExist:
        raise ValidationError({field: f"{rows.model._meta.verbose_name} inconnu(e) : {slug!r}"}) from None


def _require_api_writer(user: User) -> None:
    """Every account reads the API; only the operator's (non read-only) accounts write through it.
    Members see the collections, so refusing them is a 403, not a 404."""
    if not is_operator(user) or user.is_read_only:
        raise PermissionDenied("écriture réservée aux agents de l'opérateur")


def _patch(payload: Any) -> dict[str, Any]:
    return payload.dict(exclude_unset=True)


# --- collectivities ---------------------------------------------------------------------------
collectivities = Router(tags=["collectivités"])


@collectivities.get("/", response={200: list[CollectivityOut], **ERRORS})
@paginate(PagePagination)
def list_collectivities(request: HttpRequest, kind: str | None = None) -> Any:
    return collectivity_list(actor=signed_in(request), kind=kind)


@collectivities.get("/{slug}", response={200: CollectivityOut, **ERRORS})
def get_collectivity(request: HttpRequest, slug: str) -> Any:
    return collectivity_get(actor=signed_in(request), slug=slug)


@collectivities.post("/", response={201: CollectivityOut, **ERRORS})
def create_collectivity(request: HttpRequest, payload: CollectivityIn) -> Any:
    _require_api_writer(signed_in(request))
    return Status(201, member_services.collectivity_create(actor=signed_in(request), data=payload.dict(), via="api"))


@collectivities.patch("/{slug}", response={200: CollectivityOut, **ERRORS})
def update_collectivity(request: HttpRequest, slug: str, payload: CollectivityPatch) -> Any:
    organisation = collectivity_get(actor=signed_in(request), slug=slug)
    _require_api_writer(signed_in(request))
    member_services.collectivity_update(
        actor=signed_in(request), organisation=organisation, data=_patch(payload), via="api"
    )
    return organisation


# --- applications -----------------------------------------------------------------------------
applications = Router(tags=["applications"])


@applications.get("/", response={200: list[ApplicationOut], **ERRORS})
@paginate(PagePagination)
def list_applications(
    request: HttpRequest,
    domain: str | None = None,
    licence: str | None = None,
    member: str | None = None,
    q: str | None = None,
) -> Any:
    return application_list(actor=signed_in(request), domain=domain, licence=licence, member=member, search=q)


@applications.get("/{slug}", response={200: ApplicationOut, **ERRORS})
def get_application(request: HttpRequest, slug: str) -> Any:
    return application_get(actor=signed_in(request), slug=slug)


def _application_refs(data: dict[str, Any]) -> dict[str, Any]:
    if "domain" in data:
        data["domain"] = _by_slug(Domain.objects.all(), data["domain"], "domain")
    if "vendor" in data:
        data["vendor"] = _by_slug(Vendor.objects.all(), data["vendor"], "vendor")
    if "support_group" in data:
        data["support_group"] = _by_slug(OperatorService.objects.all(), data["support_group"], "support_group")
    return data


@applications.post("/", response={201: ApplicationOut, **ERRORS})
def create_application(request: HttpRequest, payload: ApplicationIn) -> Any:
    _require_api_writer(signed_in(request))
    application = catalog_services.application_create(
        actor=signed_in(request), data=_application_refs(payload.dict()), via="api"
    )
    return Status(201, application_get(actor=signed_in(request), slug=application.slug))


@applications.patch("/{slug}", response={200: ApplicationOut, **ERRORS})
def update_application(request: HttpRequest, slug: str, payload: ApplicationPatch) -> Any:
    application = application_get(actor=signed_in(request), slug=slug)
    _require_api_writer(signed_in(request))
    catalog_services.application_update(
        actor=signed_in(request), application=application, data=_application_refs(_patch(payload)), via="api"
    )
    return application_get(actor=signed_in(request), slug=slug)


# --- subscriptions ----------------------------------------------------------------------------
subscriptions = Router(tags=["abonnements"])


@subscriptions.get("/", response={200: list[SubscriptionOut], **ERRORS})
@paginate(PagePagination)
def list_subscriptions(
    request: HttpRequest,
    collectivity: str | None = None,
    application: str | None = None,
    status: str | None = None,
) -> Any:
    return subscription_list(
        actor=signed_in(request), collectivity=collectivity, application=application, status=status
    )


@subscriptions.get("/{int:pk}", response={200: SubscriptionOut, **ERRORS})
def get_subscription(request: HttpRequest, pk: int) -> Any:
    return subscription_get(actor=signed_in(request), pk=pk)


@subscriptions.post("/", response={201: SubscriptionOut, **ERRORS})
def create_subscription(request: HttpRequest, payload: SubscriptionIn) -> Any:
    _require_api_writer(signed_in(request))
    data = payload.dict()
    data["collectivity"] = _by_slug(Organisation.objects.visible_to(request.user), data["collectivity"], "collectivity")
    data["application"] = _by_slug(Application.objects.all(), data["application"], "application")
    subscription = catalog_services.subscription_create(actor=signed_in(request), data=data, via="api")
    return Status(201, subscription_get(actor=signed_in(request), pk=subscription.pk))


@subscriptions.patch("/{int:pk}", response={200: SubscriptionOut, **ERRORS})
def update_subscription(request: HttpRequest, pk: int, payload: SubscriptionPatch) -> Any:
    subscription = subscription_get(actor=signed_in(request), pk=pk)
    _require_api_writer(signed_in(request))
    catalog_services.subscription_update(
        actor=signed_in(request), subscription=subscription, data=_patch(payload), via="api"
    )
    return subscription_get(actor=signed_in(request), pk=pk)


api.add_router("/collectivities", collectivities)
api.add_router("/applications", applications)
api.add_router("/subscriptions", subscriptions)
api.add_router("/tickets", helpdesk_tickets)
api.add_router("/forms", questionnaires)  # the request forms keep their path

__all__ = ["api", "Query"]
