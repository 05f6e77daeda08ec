"""What the catalogue shows on the pages below it (core's home page, a member's page and the
members list), registered in CatalogConfig.ready (core.panels, members.selectors)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from mutualis.accounts.requests import signed_in
from mutualis.catalog.models import ACTIVE_STATUSES, SubscriptionStatus
from mutualis.catalog.selectors import application_list, service_commitment_list, subscription_list
from mutualis.core.panels import panel_register
from mutualis.members.models import Organisation
from mutualis.members.selectors import collectivity_figure_register


def home_cards(request: HttpRequest) -> dict[str, Any]:
    return {
        "application_count": application_list(actor=signed_in(request)).count(),
        "subscription_count": subscription_list(actor=signed_in(request)).count(),
    }


def home_commitments(request: HttpRequest) -> dict[str, Any]:
    return {"commitments": service_commitment_list()}


def member_subscriptions(request: HttpRequest, *, organisation: Organisation) -> dict[str, Any]:
    subscriptions = subscription_list(actor=signed_in(request), collectivity=organisation.slug)
    return {
        "subscriptions": subscriptions,
        "active_count": sum(1 for s in subscriptions if s.status != SubscriptionStatus.WITHDRAWN),
    }


def register() -> None:
    panel_register("core.home.cards", order=20, template="catalog/panels/home_cards.html", context=home_cards)
    panel_register(
        "core.home.sections", order=10, template="catalog/panels/home_commitments.html", context=home_commitments
    )
    panel_register(
        "members.detail", order=10, template="catalog/panels/member_subscriptions.html", context=member_subscriptions
    )
    collectivity_figure_register(
        name="active_subscriptions",
        label=_("Applications"),
        expression=lambda: Count("subscriptions", filter=Q(subscriptions__status__in=ACTIVE_STATUSES)),
    )
