"""What users write reaches no mail raw: sanitised Markdown in the HTML part, plain words in the
text part, a clean one-line subject; every notification goes through mutualis/core/mail.py."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from mutualis.helpdesk import services
from mutualis.helpdesk.enums import Action
from mutualis.helpdesk.tests.mailservers import smtp_server_fixture  # noqa: F401 (fixture)

HOSTILE = (
    "# Titre piégé\n\n"
    "Un texte **gras** et un [lien](https://exemple.test/doc).\n\n"
    '<img src=x onerror="alert(1)">\n\n'
    '<a href="javascript:alert(2)">cliquez</a> et [là](javascript:alert(3))\n\n'
    "<script>alert(4)</script>"
)


@pytest.fixture
def people(world):
    for user, address in ((world.agent_a, "agent.a@alpha.test"), (world.staff, "staff@mutualis.test")):
        user.email = address
        user.save(update_fields=["email"])
    return world


def open_ticket(world, *, title="Écran noir", description=HOSTILE):
    return services.ticket_create(
        actor=world.agent_a,
        collectivity=world.member_a,
        requester=None,
        ticket_type="incident",
        title=title,
        description=description,
        group=world.staff.service,
    )


def elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    found = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, dict(attrs)))

    Collector().feed(html)
    return found


def assert_no_raw_markup(sent) -> None:
    html = sent.html
    # Nothing a user typed became an element or an attribute of the HTML part.
    tags = elements(html)
    assert not [tag for tag, _ in tags if tag in {"img", "script"}]
    assert not [attrs for _, attrs in tags if any(name.startswith("on") for name in attrs)]
    assert not [attrs for _, attrs in tags if "javascript" in (attrs.get("href") or "")]
    assert "&lt;img src=x onerror=" in html and "&lt;script&gt;" in html  # shown as typed
    assert "<strong>gras</strong>" in html and "<h1>Titre piégé</h1>" in html
    assert '<a href="https://exemple.test/doc" rel="noopener noreferrer">lien</a>' in html
    # The text part reads like the page: no Markdown markers left.
    text = sent.text
    assert "**" not in text and "# Titre" not in text and "](" not in text
    assert "Un texte gras et un lien (https://exemple.test/doc)." in text
    assert "Titre piégé" in text


def test_it_sanitises_the_description_in_the_creation_mail(people, smtp_server, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        open_ticket(people)
    (sent,) = smtp_server.to("agent.a@alpha.test")
    assert_no_raw_markup(sent)


@pytest.mark.parametrize("author", ["agent_a", "staff"])
def test_it_sanitises_a_followup_whoever_wrote_it(people, smtp_server, django_capture_on_commit_callbacks, author):
    ticket = open_ticket(people, description="Rien de spécial.")
    smtp_server.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.followup_add(actor=getattr(people, author), ticket=ticket, body=HOSTILE)
    (sent,) = [m for m in smtp_server.messages if "Nouveau message" in m.subject][:1]
    assert_no_raw_markup(sent)


def test_it_sanitises_a_solution_and_the_closure_summary(people, smtp_server, django_capture_on_commit_callbacks):
    ticket = open_ticket(people, description="Rien de spécial.")
    smtp_server.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_transition(actor=people.staff, ticket=ticket, action=Action.SOLVE, comment=HOSTILE)
    (solved,) = smtp_server.to("agent.a@alpha.test")
    assert "Solution proposée" in solved.subject
    assert_no_raw_markup(solved)


def test_it_escapes_a_hostile_title_and_keeps_the_subject_on_one_clean_line(
    people, smtp_server, django_capture_on_commit_callbacks
):
    title = "<b>Urgent</b>\u202egpj.exe\r\nBcc: victime@example.org"
    with django_capture_on_commit_callbacks(execute=True):
        ticket = open_ticket(people, title=title, description="Rien.")
    (sent,) = smtp_server.to("agent.a@alpha.test")
    assert sent.subject == f"[{ticket.reference}] Demande enregistrée : <b>Urgent</b> gpj.exe Bcc: victime@example.org"
    assert sent.message["Bcc"] is None and "victime@example.org" not in sent.rcpt_tos
    assert "<b>Urgent</b>" not in sent.html and "&lt;b&gt;Urgent&lt;/b&gt;" in sent.html
