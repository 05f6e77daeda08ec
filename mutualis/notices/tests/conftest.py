"""The notices' test world: two applications, member A subscribed to the first in production,
member B to the second, each member with a contact; a notice helper through the service."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.utils import timezone

from mutualis.catalog.models import Application, SubscriptionStatus
from mutualis.conftest import World
from mutualis.notices import services
from mutualis.notices.models import Notice
from mutualis.testing import factories as f


@dataclass
class Catalogue:
    world: World
    mail: Application  # member A has it in production, B has it withdrawn
    finance: Application  # member B has it in deployment


@pytest.fixture
def catalogue(world: World) -> Catalogue:
    mail = f.ApplicationFactory.create(slug="messagerie", name="Messagerie")
    finance = f.ApplicationFactory.create(slug="finances", name="Finances")
    f.SubscriptionFactory.create(collectivity=world.member_a, application=mail, status=SubscriptionStatus.PRODUCTION)
    f.SubscriptionFactory.create(collectivity=world.member_b, application=mail, status=SubscriptionStatus.WITHDRAWN)
    f.SubscriptionFactory.create(collectivity=world.member_b, application=finance, status=SubscriptionStatus.DEPLOYING)
    f.ContactFactory.create(organisation=world.member_a, full_name="Dana DSI", email="dsi@alpha.test")
    f.ContactFactory.create(organisation=world.member_a, full_name="Gus DGS", email="dgs@alpha.test")
    f.ContactFactory.create(organisation=world.member_b, full_name="Bea DSI", email="dsi@bravo.test")
    return Catalogue(world=world, mail=mail, finance=finance)


def publish(
    world: World,
    applications: list[Application],
    *,
    kind: str = "incident",
    title: str = "Messagerie indisponible",
    starts_in: dt.timedelta = dt.timedelta(hours=-1),
    lasts: dt.timedelta = dt.timedelta(hours=4),
    in_progress: bool = True,
) -> Notice:
    starts_at = timezone.now() + starts_in
    return services.notice_create(
        actor=world.staff,
        kind=kind,
        title=title,
        description="Plus d'envoi **ni** de réception.",
        applications=applications,
        starts_at=starts_at,
        planned_end_at=starts_at + lasts,
        in_progress=in_progress,
    )
