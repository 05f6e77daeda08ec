"""The knowledge base's test world: an application Alpha subscribes to, one nobody subscribes to,
and a helper that writes an article through the service, as staff would."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from mutualis.catalog.models import Application
from mutualis.conftest import World
from mutualis.helpdesk.models import Category
from mutualis.knowledge import services
from mutualis.knowledge.models import Article, Audience
from mutualis.testing import factories as f


@dataclass
class Library:
    world: World
    subscribed: Application
    other: Application
    category: Category

    def article(self, title: str, body: str = "", *, publish: bool = True, **data: Any) -> Article:
        data.setdefault("audience", Audience.PUBLIC)
        return services.article_create(
            actor=self.world.staff, data={"title": title, "body": body or title, **data}, publish=publish
        )


@pytest.fixture
def library(world: World) -> Library:
    subscribed = f.ApplicationFactory.create(slug="etat-civil", name="État civil")
    other = f.ApplicationFactory.create(slug="cimetieres", name="Cimetières")
    f.SubscriptionFactory.create(collectivity=world.member_a, application=subscribed)
    f.SubscriptionFactory.create(collectivity=world.member_b, application=other)
    category = Category.objects.create(slug="impression", name="Impression")
    return Library(world=world, subscribed=subscribed, other=other, category=category)
