"""Writing articles: versions, publication, audit; reads counted; votes; deflected tickets."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404

from mutualis.core.models import AuditEntry
from mutualis.knowledge import services
from mutualis.knowledge.models import Article, ArticleStatus, ArticleVote, DeflectedTicket

pytestmark = pytest.mark.django_db


def test_it_keeps_every_version_when_the_text_changes(library):
    article = library.article("Réinitialiser son mot de passe", "Première rédaction.")

    services.article_update(actor=library.world.staff, article=article, data={"body": "Deuxième rédaction."})
    services.article_update(
        actor=library.world.admin, article=article, data={"title": "Changer son mot de passe", "body": "Troisième."}
    )

    article.refresh_from_db()
    assert article.version == 3
    versions = list(article.versions.order_by("number").values_list("number", "title", "body", "author__username"))
    assert versions == [
        (1, "Réinitialiser son mot de passe", "Première rédaction.", "staff"),
        (2, "Réinitialiser son mot de passe", "Deuxième rédaction.", "staff"),
        (3, "Changer son mot de passe", "Troisième.", "admin"),
    ]


def test_it_adds_no_version_when_only_the_audience_changes(library):
    article = library.article("Imprimer un acte", "Texte.")

    services.article_update(actor=library.world.staff, article=article, data={"audience": "internal"})

    article.refresh_from_db()
    assert (article.version, article.audience, article.versions.count()) == (1, "internal", 1)


def test_it_writes_nothing_when_nothing_changed(library):
    article = library.article("Imprimer un acte", "Texte.")
    before = AuditEntry.objects.count()

    services.article_update(actor=library.world.staff, article=article, data={"body": "Texte."})

    assert AuditEntry.objects.count() == before
    assert article.versions.count() == 1


def test_it_audits_creation_edit_and_publication(library):
    article = library.article("Imprimer un acte", "Texte.", publish=False)
    services.article_update(actor=library.world.staff, article=article, data={"body": "Autre texte."})
    services.article_publish(actor=library.world.staff, article=article, published=True)

    entries = list(
        AuditEntry.objects.filter(object_id=str(article.pk), content_type__model="article")
        .order_by("pk")
        .values_list("action", "changes")
    )
    assert [action for action, _ in entries] == ["create", "update", "update"]
    assert entries[1][1]["version"] == [1, 2]
    assert entries[2][1]["status"] == ["draft", "published"]


@pytest.mark.parametrize("role", ["manager_a", "agent_a", "elected_a"])
def test_it_lets_only_operator_staff_write(library, role):
    with pytest.raises(Http404):
        services.article_create(actor=getattr(library.world, role), data={"title": "Titre", "body": "Texte"})
    assert not Article.objects.exists()


def test_it_refuses_an_empty_title_with_a_french_message(library):
    with pytest.raises(ValidationError) as error:
        services.article_create(actor=library.world.staff, data={"title": "", "body": "Texte"})
    assert "title" in error.value.message_dict
    assert not Article.objects.exists()


def test_it_gives_each_article_its_own_slug(library):
    first = library.article("Imprimer un acte")
    second = library.article("Imprimer un acte")
    reserved = library.article("Suggestions")

    assert (first.slug, second.slug) == ("imprimer-un-acte", "imprimer-un-acte-2")
    assert reserved.slug == "suggestions-2"


def test_it_counts_each_reading(library):
    article = library.article("Imprimer un acte")

    services.article_read(article=article)
    services.article_read(article=article)

    article.refresh_from_db()
    assert article.read_count == 2


def test_it_keeps_one_vote_per_account(library):
    article = library.article("Imprimer un acte")
    agent = library.world.agent_a

    services.article_vote(actor=agent, article=article, useful=True)
    services.article_vote(actor=agent, article=article, useful=False)
    services.article_vote(actor=library.world.manager_a, article=article, useful=True)

    assert sorted(ArticleVote.objects.values_list("user__username", "useful")) == [
        ("agent-a", False),
        ("manager-a", True),
    ]
    assert AuditEntry.objects.filter(content_type__model="articlevote").count() == 3


def test_it_refuses_a_vote_on_a_draft(library):
    article = library.article("Brouillon", publish=False)
    with pytest.raises(ValidationError):
        services.article_vote(actor=library.world.staff, article=article, useful=True)
    assert not ArticleVote.objects.exists()


def test_it_records_a_deflected_ticket_with_what_was_typed(library):
    article = library.article("Imprimer un acte", application=library.subscribed)

    services.deflection_record(actor=library.world.agent_a, article=article, typed="  mon imprimante bloque  ")

    deflected = DeflectedTicket.objects.get()
    assert (deflected.user, deflected.organisation, deflected.article, deflected.typed) == (
        library.world.agent_a,
        library.world.member_a,
        article,
        "mon imprimante bloque",
    )
    assert AuditEntry.objects.filter(
        content_type__model="deflectedticket", organisation=library.world.member_a
    ).exists()


@pytest.mark.parametrize("role", ["staff", "elected_a"])
def test_it_counts_deflections_only_for_members_who_file_requests(library, role):
    article = library.article("Imprimer un acte")
    with pytest.raises(ValidationError):
        services.deflection_record(actor=getattr(library.world, role), article=article, typed="texte")
    assert not DeflectedTicket.objects.exists()


def test_it_refuses_a_deflection_on_an_article_the_member_may_not_read(library):
    article = library.article("Cimetières : concessions", application=library.other)
    with pytest.raises(ValidationError):
        services.deflection_record(actor=library.world.agent_a, article=article, typed="texte")
    assert not DeflectedTicket.objects.exists()
    assert Article.objects.get().status == ArticleStatus.PUBLISHED
