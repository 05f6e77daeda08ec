"""Who reads which article: staff everything; a member's account the published public articles,
general or about an application its organisation subscribes to; never an internal one."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from mutualis.catalog.models import Subscription, SubscriptionStatus
from mutualis.knowledge import selectors
from mutualis.knowledge.models import Article, Audience

pytestmark = pytest.mark.django_db


@pytest.fixture
def articles(library):
    return {
        "general": library.article("Changer son mot de passe"),
        "subscribed": library.article("Déclarer une naissance", application=library.subscribed),
        "other": library.article("Vendre une concession", application=library.other),
        "internal": library.article("Redémarrer le serveur", audience=Audience.INTERNAL),
        "internal_subscribed": library.article(
            "Purger la file d'état civil", application=library.subscribed, audience=Audience.INTERNAL
        ),
        "draft": library.article("Brouillon d'état civil", application=library.subscribed, publish=False),
    }


def _visible(user) -> set[str]:
    return set(Article.objects.visible_to(user).values_list("title", flat=True))


def test_it_shows_staff_every_article(library, articles):
    assert _visible(library.world.staff) == {a.title for a in articles.values()}


@pytest.mark.parametrize("role", ["manager_a", "agent_a", "elected_a"])
def test_it_shows_a_member_the_published_public_articles_of_its_applications(library, articles, role):
    assert _visible(getattr(library.world, role)) == {"Changer son mot de passe", "Déclarer une naissance"}


def test_it_shows_another_member_its_own_applications_articles(library, articles):
    assert _visible(library.world.manager_b) == {"Changer son mot de passe", "Vendre une concession"}


def test_it_never_shows_an_internal_article_to_a_member(library, articles):
    for user in (library.world.manager_a, library.world.agent_a, library.world.manager_b):
        found = selectors.article_search(actor=user, text="purger serveur redémarrer")
        assert found == []
        assert not Article.objects.visible_to(user).filter(audience=Audience.INTERNAL).exists()


def test_it_hides_an_application_article_once_the_subscription_is_withdrawn(library, articles):
    Subscription.objects.filter(collectivity=library.world.member_a).update(status=SubscriptionStatus.WITHDRAWN)

    assert _visible(library.world.agent_a) == {"Changer son mot de passe"}


def test_it_shows_nothing_to_an_anonymous_visitor(articles):
    assert _visible(AnonymousUser()) == set()
    assert selectors.article_search(actor=AnonymousUser(), text="naissance") == []


def test_it_answers_404_for_an_article_a_member_may_not_read(client, library, articles):
    client.force_login(library.world.agent_a)

    for key in ("other", "internal", "internal_subscribed", "draft"):
        assert client.get(f"/connaissances/{articles[key].slug}/").status_code == 404, key
    assert client.get(f"/connaissances/{articles['subscribed'].slug}/").status_code == 200
