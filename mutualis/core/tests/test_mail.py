"""The one mail rendering path: user text as sanitised Markdown (HTML part) or plain words (text
part), every other value escaped, links absolute on MUTUALIS_BASE_URL, clean subjects."""

import pytest
from django.core import mail

from mutualis.core.mail import absolute_url, header_text, mail_message
from mutualis.lib.markup import markdown_html, markdown_text


def test_it_turns_markdown_into_plain_words():
    text = markdown_text(
        "# Titre\n\nUn **gras**, un _italique_, un [lien](https://exemple.test/a) et `du code`.\n\n"
        "- un\n- deux\n\n1. premier\n2. second\n\n> cité\n\n| a | b |\n|---|---|\n| 1 | 2 |"
    )
    assert text == (
        "Titre\n\nUn gras, un italique, un lien (https://exemple.test/a) et du code.\n\n"
        "• un\n• deux\n\n1. premier\n2. second\n\ncité\n\na | b\n1 | 2"
    )


def test_it_keeps_typed_html_as_text_and_drops_hostile_links():
    typed = '<img src=x onerror="alert(1)"> [x](javascript:alert(2))'
    assert markdown_text(typed) == '<img src=x onerror="alert(1)"> x'
    html = markdown_html(typed)
    assert "<img" not in html and "javascript" not in html


def test_it_builds_absolute_links_on_the_base_url_only_from_a_path(settings):
    settings.MUTUALIS_BASE_URL = "https://mutualis.example.fr"
    assert absolute_url("/assistance/") == "https://mutualis.example.fr/assistance/"
    with pytest.raises(ValueError, match="starting with '/'"):
        absolute_url("evil.example/")


def test_it_keeps_a_header_on_one_line_without_control_or_bidi_characters():
    assert header_text("Objet\r\nBcc: x@y.z\u202e\u0000 fin") == "Objet Bcc: x@y.z fin"


def test_it_sends_both_parts_with_user_text_sanitised_and_other_values_escaped(settings):
    settings.DEFAULT_FROM_EMAIL = "mutualis@exemple.test"
    message = mail_message(
        subject="Réinitialisation",
        template="accounts/mail/password_reset.txt",
        context={"user": _User(), "link": "https://mutualis.example.fr/x/?a=1&b=2", "days": 1},
        to=["agent@alpha.test"],
    )
    message.send()
    (sent,) = mail.outbox
    assert "https://mutualis.example.fr/x/?a=1&b=2" in sent.body and "&amp;" not in sent.body
    (html, _mime) = sent.alternatives[0]
    assert 'href="https://mutualis.example.fr/x/?a=1&amp;b=2"' in html
    assert "Bonjour &lt;b&gt;Agent&lt;/b&gt;" in html and "Bonjour <b>Agent</b>" in sent.body


class _User:
    username = "agent"

    def get_full_name(self) -> str:
        return "<b>Agent</b>"
