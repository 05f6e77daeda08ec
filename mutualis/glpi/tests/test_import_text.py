"""GLPI's rich text into Mutualis's Markdown, and the mapping file: no database needed."""

from __future__ import annotations

from pathlib import Path

import pytest

from mutualis.glpi import html
from mutualis.glpi.mapping import CategoryTarget, MappingError, load_mapping, parse_mapping
from mutualis.lib.markup import markdown_html

V9 = "&lt;p&gt;Bonjour,&lt;/p&gt;&lt;p&gt;l'imprimante &lt;strong&gt;HP&lt;/strong&gt; est en panne.&lt;/p&gt;"
V10 = (
    "&#60;p&#62;Bonjour,&#60;/p&#62;&#60;p&#62;l'imprimante &#60;strong&#62;HP&#60;/strong&#62;"
    " est en panne.&#60;/p&#62;"
)


MIXED = V9.split("&lt;/p&gt;")[0] + "&lt;/p&gt;" + "&#60;p&#62;" + V10.split("&#60;p&#62;", 2)[2]


@pytest.mark.parametrize("stored", [V9, V10, MIXED], ids=["9.5", "10.0", "mixed"])
def test_both_generations_and_a_mix_decode_to_the_same_markdown(stored):
    assert html.to_markdown(stored) == "Bonjour,\n\nl'imprimante **HP** est en panne."


def test_a_text_encoded_twice_is_decoded_twice():
    assert html.to_markdown("&amp;lt;p&amp;gt;Deux fois&amp;lt;/p&amp;gt;") == "Deux fois"


def test_scripts_and_styles_are_dropped_and_markup_in_text_never_passes():
    stored = (
        "&#60;p&#62;Erreur :&#60;/p&#62;&#60;script&#62;alert('x')&#60;/script&#62;&#60;style&#62;p{}&#60;/style&#62;"
    )
    text = html.to_markdown(stored)
    assert text == "Erreur :"
    # A user who typed "<b>" as text in GLPI (stored &amp;lt;b&amp;gt;… once more) sees it, never bold.
    typed = html.to_markdown("&#60;p&#62;la balise &#38;lt;b&#38;gt; ne marche pas&#60;/p&#62;")
    assert "<b>" not in markdown_html(typed)
    assert "&lt;b&gt;" in markdown_html(typed)


def test_lists_links_and_line_breaks_become_markdown():
    stored = html.decode(
        "&#60;ul&#62;&#60;li&#62;un&#60;/li&#62;&#60;li&#62;deux&#60;/li&#62;&#60;/ul&#62;"
        '&#60;p&#62;voir &#60;a href="https://glpi.example/doc"&#62;la doc&#60;/a&#62;&#60;br&#62;merci&#60;/p&#62;'
    )
    assert html.to_markdown(stored) == "- un\n- deux\n\nvoir [la doc](https://glpi.example/doc)  \nmerci"


def test_a_javascript_link_keeps_its_text_only():
    text = html.to_markdown('<p><a href="javascript:alert(1)">clic</a></p>')
    assert text == "clic"
    assert "javascript" not in markdown_html(text)


def test_an_inline_image_is_named_after_its_attachment():
    stored = (
        '&#60;p&#62;Capture :&#60;img src="/front/document.send.php?docid=42&#38;amp;tickets_id=7" /&#62;&#60;/p&#62;'
    )
    assert html.inline_documents(stored) == [42]
    assert html.to_markdown(stored, image=lambda docid: f"image : capture-{docid}.png") == (
        "Capture :[image : capture-42.png]"
    )


def test_plain_text_keeps_its_characters_shown_as_typed():
    assert html.to_markdown("1 * 2 # pas un titre") == "1 \\* 2 \\# pas un titre"
    assert html.to_markdown("l&#39;imprimante &amp; le scanner") == "l'imprimante & le scanner"
    assert html.decode_plain("L&amp;#039;accueil") == "L'accueil"


def test_the_sample_mapping_reads():
    mapping = load_mapping(Path(__file__).resolve().parents[1] / "sample" / "glpi.toml")
    assert mapping.timezone == "Europe/Paris"
    assert 0 in mapping.entities
    assert mapping.categories[8] == CategoryTarget(application="portail-agent-lemonldap-ng", category="comptes-acces")
    assert mapping.users["jdupont"] == "admin"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[entities]\nabc = "x"', "[entities] abc : un identifiant GLPI (nombre) est attendu"),
        ('[glpi]\ntimezone = "Mars/Olympus"', "fuseau inconnu « Mars/Olympus »"),
        ('[categories]\n5 = { app = "x" }', "[categories] 5"),
        ("[entities]\n1 = 3", "[entities] 1 : un identifiant (texte) est attendu"),
        ('[groupes]\n1 = "x"', "section(s) inconnue(s) : groupes"),
        ("[entities", "fichier illisible"),
    ],
)
def test_a_bad_mapping_says_which_key(text, message):
    with pytest.raises(MappingError) as error:
        parse_mapping(text)
    assert message in str(error.value)
