"""French full-text search: PostgreSQL's `french` configuration (stems: plurals, verb forms), or
SQLite's FTS5 table (accents folded; plural marks dropped), behind one selector."""

from __future__ import annotations

import pytest
from django.db import connection

from mutualis.knowledge import selectors, services
from mutualis.knowledge.search import FTS_TABLE, snippet, words_of

pytestmark = pytest.mark.django_db
postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's french configuration")
sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's FTS5 table")


def _titles(actor, text, **kwargs) -> list[str]:
    return [a.title for a in selectors.article_search(actor=actor, text=text, **kwargs)]


@pytest.fixture
def printing(library):
    library.article("Configurer une imprimante réseau", "Ajoutez l'imprimante depuis le panneau de configuration.")
    library.article("Changer son mot de passe", "Le mot de passe se change depuis le portail des agents.")
    library.article(
        "Télétransmettre un acte à la préfecture",
        "Les actes partent au contrôle de légalité par le tiers de télétransmission.",
        application=library.subscribed,
    )
    return library


def test_it_finds_an_article_by_a_plural_of_its_words(printing):
    assert _titles(printing.world.agent_a, "imprimantes") == ["Configurer une imprimante réseau"]


def test_it_finds_an_article_by_its_accented_words(printing):
    assert _titles(printing.world.agent_a, "préfecture télétransmission") == ["Télétransmettre un acte à la préfecture"]


def test_it_finds_the_word_being_typed_as_a_prefix(printing):
    assert _titles(printing.world.agent_a, "mot de pass") == ["Changer son mot de passe"]
    assert _titles(printing.world.agent_a, "télétrans") == ["Télétransmettre un acte à la préfecture"]


def test_it_ranks_the_article_with_more_of_the_words_first(printing):
    found = _titles(printing.world.agent_a, "imprimante réseau mot de passe agents portail")
    assert found[0] == "Changer son mot de passe"
    assert set(found) == {"Changer son mot de passe", "Configurer une imprimante réseau"}


def test_it_filters_by_application(printing):
    assert _titles(printing.world.agent_a, "acte", application=printing.subscribed.pk) == [
        "Télétransmettre un acte à la préfecture"
    ]
    assert _titles(printing.world.agent_a, "imprimante", application=printing.subscribed.pk) == []


def test_it_ignores_query_syntax_typed_by_a_user(printing):
    assert _titles(printing.world.agent_a, "\"imprimante* OR NEAR( -- ' ; :*") == ["Configurer une imprimante réseau"]
    assert _titles(printing.world.agent_a, "!!! ?") == [
        a.title for a in selectors.article_search(actor=printing.world.agent_a, text="")
    ]


def test_it_searches_the_text_as_edited_not_as_first_written(printing):
    article = printing.article("Sauvegarder ses fichiers", "Utilisez le lecteur réseau partagé.")
    services.article_update(
        actor=printing.world.staff, article=article, data={"body": "Déposez-les dans le nuage communal."}
    )

    assert _titles(printing.world.agent_a, "partagé") == []
    assert _titles(printing.world.agent_a, "nuage") == ["Sauvegarder ses fichiers"]


@postgresql_only
def test_it_stems_french_verbs_on_postgresql(printing):
    assert _titles(printing.world.agent_a, "configuration") == ["Configurer une imprimante réseau"]


@postgresql_only
def test_it_uses_the_gin_index_on_postgresql(printing):
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'knowledge_article_search_gin'")
        assert "gin (search_vector)" in cursor.fetchone()[0]


@sqlite_only
def test_it_folds_accents_on_sqlite(printing):
    assert _titles(printing.world.agent_a, "prefecture") == ["Télétransmettre un acte à la préfecture"]
    assert _titles(printing.world.agent_a, "RESEAU") == ["Configurer une imprimante réseau"]


@sqlite_only
def test_it_keeps_the_fts5_table_in_step_with_the_articles(printing):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT sql FROM sqlite_master WHERE name = '{FTS_TABLE}'")
        assert "remove_diacritics 2" in cursor.fetchone()[0]
        cursor.execute(f"SELECT count(*) FROM {FTS_TABLE}")
        assert cursor.fetchone()[0] == 3


def test_it_marks_the_words_found_in_an_escaped_snippet():
    body = "Avant tout, **vérifiez** que l'imprimante <b>est</b> allumée. " + "Texte. " * 60
    shown = snippet(body, "Imprimantes vérifiez")
    assert "<mark>imprimante</mark>" in shown
    assert "<mark>vérifiez</mark>" in shown
    assert "&lt;b&gt;est&lt;/b&gt;" in shown
    assert shown.endswith(" …")


def test_it_keeps_words_of_two_characters_or_more_once_without_stop_words():
    assert words_of("Le PC ne démarre pas, le PC ! Mon écran x") == ["pc", "démarre", "écran"]
