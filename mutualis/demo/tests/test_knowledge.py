"""The demo's knowledge base: fifteen published articles on the demo applications, two internal,
searchable in French; loading twice adds nothing."""

from __future__ import annotations

import pytest

from mutualis.accounts.models import Role, User
from mutualis.demo.loader import load_demo
from mutualis.knowledge.models import Article, Audience
from mutualis.knowledge.selectors import article_search


@pytest.mark.django_db
def test_it_loads_fifteen_articles_once_and_finds_them_in_french():
    load_demo()
    load_demo()

    articles = Article.objects.all()
    assert articles.count() == 15
    assert all(a.is_published and a.version == 1 for a in articles)
    assert articles.filter(audience=Audience.INTERNAL).count() == 2
    assert articles.exclude(application=None).count() >= 10
    staff = User.objects.filter(role=Role.OPERATOR_STAFF).first()
    assert [a.title for a in article_search(actor=staff, text="imprimantes", limit=1)] == [
        "Ajouter une imprimante réseau sur son poste"
    ]
    agent = User.objects.filter(role=Role.MEMBER_MANAGER).exclude(organisation=None).first()  # the demo has no agent
    assert agent is not None
    assert not any(a.audience == Audience.INTERNAL for a in article_search(actor=agent, text="impression archives"))
