"""The knowledge base's pages: search, an article and its votes, staff writing and versions, the
suggestions under a new request's form and « ma question est résolue », citing in a staff answer."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from mutualis.knowledge.models import Article, ArticleVote, DeflectedTicket
from mutualis.questionnaires.tests.helpers import build_questionnaire

pytestmark = pytest.mark.django_db


def test_it_searches_with_a_snippet_and_filters(client, library):
    library.article("Configurer une imprimante", "Ajoutez l'imprimante réseau depuis le panneau.")
    library.article("Déclarer une naissance", "Saisissez l'acte.", application=library.subscribed)
    client.force_login(library.world.agent_a)

    page = client.get("/connaissances/", {"q": "imprimantes"}).content.decode()
    assert "1 article trouvé" in page
    assert "<mark>imprimante</mark>" in page
    assert 'role="search"' in page

    page = client.get("/connaissances/", {"q": "", "application": library.subscribed.pk}).content.decode()
    assert "Déclarer une naissance" in page and "Configurer une imprimante" not in page


def test_it_lists_only_applications_with_articles_the_member_reads(client, library):
    library.article("Vendre une concession", application=library.other)
    library.article("Déclarer une naissance", application=library.subscribed)
    client.force_login(library.world.agent_a)

    page = client.get("/connaissances/").content.decode()

    assert f'<option value="{library.subscribed.pk}">' in page
    assert f'<option value="{library.other.pk}">' not in page


def test_it_counts_a_reading_and_takes_a_vote(client, library):
    article = library.article("Configurer une imprimante", "## Étapes\n\n1. Ouvrir le panneau")
    client.force_login(library.world.agent_a)

    page = client.get(f"/connaissances/{article.slug}/").content.decode()
    assert "<h2>Étapes</h2>" in page
    assert "Cet article vous a-t-il été utile ?" in page
    response = client.post(f"/connaissances/{article.slug}/vote/", {"useful": "non"})

    assert response.status_code == 302
    article.refresh_from_db()
    assert article.read_count == 1
    assert ArticleVote.objects.get().useful is False
    assert 'aria-pressed="true"' in client.get(f"/connaissances/{article.slug}/").content.decode()


def test_it_refuses_a_vote_that_is_neither_yes_nor_no(client, library):
    article = library.article("Configurer une imprimante")
    client.force_login(library.world.agent_a)

    response = client.post(f"/connaissances/{article.slug}/vote/", {"useful": "peut-être"}, follow=True)

    assert "Répondez « oui » ou « non »." in response.content.decode()
    assert not ArticleVote.objects.exists()


def test_it_lets_staff_write_publish_and_read_the_versions(client, library):
    client.force_login(library.world.staff)
    response = client.post(
        "/connaissances/nouveau/",
        {
            "title": "Scanner un document",
            "body": "Première ligne",
            "audience": "public",
            "category": library.category.pk,
        },
    )
    article = Article.objects.get()
    assert response["Location"] == f"/connaissances/{article.slug}/"
    assert not article.is_published

    client.post(
        f"/connaissances/{article.slug}/modifier/",
        {"title": "Scanner un document", "body": "Première ligne\nDeuxième ligne", "audience": "public"},
    )
    client.post(f"/connaissances/{article.slug}/publication/", {"publish": "1"})

    article.refresh_from_db()
    assert (article.version, article.is_published, article.category) == (2, True, None)
    versions = client.get(f"/connaissances/{article.slug}/versions/").content.decode()
    assert "version 2" in versions and "version 1" in versions
    diff = client.get(f"/connaissances/{article.slug}/versions/2/").content.decode()
    assert re.search(r"<ins><span class=\"kb-diff-mark\">\+ ajouté </span>Deuxième ligne</ins>", diff)
    assert client.get(f"/connaissances/{article.slug}/versions/9/").status_code == 404


def test_it_shows_the_form_errors_in_french(client, library):
    client.force_login(library.world.staff)

    response = client.post("/connaissances/nouveau/", {"title": "", "body": "", "audience": "public"})

    assert response.status_code == 200
    assert "Ce champ est obligatoire." in response.content.decode()
    assert not Article.objects.exists()


@pytest.mark.parametrize("role", ["manager_a", "agent_a", "elected_a"])
def test_it_keeps_the_writing_pages_from_members(client, library, role):
    article = library.article("Configurer une imprimante")
    client.force_login(getattr(library.world, role))

    assert client.get("/connaissances/nouveau/").status_code == 404
    assert client.get(f"/connaissances/{article.slug}/modifier/").status_code == 404
    assert client.get(f"/connaissances/{article.slug}/versions/").status_code == 404
    assert client.post(f"/connaissances/{article.slug}/publication/", {"publish": "0"}).status_code == 404
    article.refresh_from_db()
    assert article.is_published


def test_it_suggests_at_most_five_articles_to_a_member_typing_a_request(client, library):
    for n in range(7):
        library.article(f"Imprimante numéro {n}", "L'imprimante ne répond plus.")
    library.article("Imprimante interne", audience="internal")
    client.force_login(library.world.agent_a)

    page = client.get(
        "/connaissances/suggestions/", {"csrfmiddlewaretoken": "x", "resume": "Mon imprimante", "agents": "12"}
    ).content.decode()

    assert page.count("Ma question est résolue") == 5
    assert "Imprimante interne" not in page
    assert 'name="typed" value="Mon imprimante"' in page
    assert client.get("/connaissances/suggestions/", {"resume": "im"}).content.decode().strip() == ""


def test_it_renders_the_suggestions_under_the_request_form(client, library):
    questionnaire = build_questionnaire(library.world)
    client.force_login(library.world.agent_a)

    page = client.get(reverse("questionnaires:fill", kwargs={"slug": questionnaire.slug})).content.decode()

    form_end = page.index("</form>")
    panel = page.index('hx-get="/connaissances/suggestions/"')
    assert form_end < panel
    assert 'hx-trigger="keyup changed delay:400ms from:previous form"' in page
    assert 'aria-live="polite"' in page[panel:]


def test_it_records_a_deflected_ticket_and_confirms(client, library):
    article = library.article("Configurer une imprimante", application=library.subscribed)
    client.force_login(library.world.agent_a)

    response = client.post(f"/connaissances/{article.slug}/resolue/", {"typed": "Mon imprimante"}, follow=True)

    assert response.redirect_chain[-1][0] == f"/connaissances/resolue/?article={article.slug}"
    page = response.content.decode()
    assert "Votre question est résolue" in page and "Configurer une imprimante" in page
    assert DeflectedTicket.objects.get().typed == "Mon imprimante"


def test_it_finds_articles_to_cite_for_staff_only(client, library):
    article = library.article("Configurer une imprimante")
    client.force_login(library.world.staff)

    page = client.get("/connaissances/citer/", {"q": "imprimante"}).content.decode()

    assert f'data-kb-cite-url="http://testserver/connaissances/{article.slug}/"' in page
    assert 'data-kb-cite-title="Configurer une imprimante"' in page
    client.force_login(library.world.manager_a)
    assert client.get("/connaissances/citer/", {"q": "imprimante"}).status_code == 404


def test_it_keeps_the_search_page_query_count_flat(client, library):
    client.force_login(library.world.agent_a)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/connaissances/", {"q": "imprimante"}).status_code == 200
        return len(queries)

    library.article("Imprimante 1", application=library.subscribed, category=library.category)
    count()  # the first request of the session reads what later ones find cached
    small = count()
    for n in range(2, 12):
        library.article(f"Imprimante {n}", application=library.subscribed, category=library.category)
    assert count() == small


def test_it_offers_citing_an_article_on_the_staff_ticket_page(client, library):
    from mutualis.helpdesk import services as helpdesk

    ticket = helpdesk.ticket_create(
        actor=library.world.staff,
        collectivity=library.world.member_a,
        requester=None,
        ticket_type="request",
        title="Imprimante",
        description="Elle ne répond plus.",
        application=library.subscribed,
    )
    client.force_login(library.world.staff)

    page = client.get(reverse("helpdesk:ticket", args=[ticket.reference])).content.decode()

    assert "Citer un article" in page
    assert 'hx-get="/connaissances/citer/"' in page
    assert 'id="id_body"' in page  # the followup the link is inserted into
    client.force_login(library.world.manager_a)
    assert "Citer un article" not in client.get(reverse("helpdesk:ticket", args=[ticket.reference])).content.decode()
