"""Polling an IMAP mailbox, against a local IMAP4rev1 server spoken to by imaplib (no mock)."""

from __future__ import annotations

import io
from email.message import EmailMessage

import pytest
from django.core.management import CommandError, call_command

from mutualis.helpdesk.conf import parse_imap_url, tasks_setting
from mutualis.helpdesk.models import Ticket
from mutualis.helpdesk.tests.mailservers import imap_server_fixture  # noqa: F401 (fixture)
from mutualis.lib.env import ConfigError


@pytest.fixture
def agent(world):
    world.agent_a.email = "agent.a@alpha.test"
    world.agent_a.save(update_fields=["email"])
    return world.agent_a


def eml(subject: str, sender: str = "agent.a@alpha.test", message_id: str | None = None) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["Subject"] = subject
    message["Message-ID"] = message_id or f"<{abs(hash(subject))}@alpha.test>"
    message.set_content(f"Texte de « {subject} »")
    return message.as_bytes()


def poll(settings, url: str) -> str:
    settings.HELPDESK_IMAP = parse_imap_url("MUTUALIS_HELPDESK_IMAP_URL", url)
    out = io.StringIO()
    call_command("helpdesk_poll_imap", stdout=out)
    return out.getvalue()


def test_it_handles_unseen_messages_and_flags_them_seen(agent, settings, imap_server):
    box, url = imap_server
    box.deliver(eml("Déjà lu"))
    box.flags(1).add("\\Seen")
    box.deliver(eml("Scanner bloqué"))
    box.deliver(eml("Qui suis-je ?", sender="inconnu@example.org"))
    output = poll(settings, url)
    assert output.strip() == "boîte IMAP : 2 message(s) non lu(s) — demande créée 1, refusé 1"
    assert list(Ticket.objects.values_list("title", flat=True)) == ["Scanner bloqué"]
    assert all("\\Seen" in box.flags(n) for n in (1, 2, 3))  # a refused message is not read again
    assert {"CAPABILITY", "LOGIN", "SELECT", "SEARCH", "FETCH", "STORE", "LOGOUT"} <= set(box.commands)


def test_it_is_idempotent_by_message_id(agent, settings, imap_server):
    box, url = imap_server
    box.deliver(eml("Scanner bloqué", message_id="<same@alpha.test>"))
    poll(settings, url)
    box.deliver(eml("Scanner bloqué", message_id="<same@alpha.test>"))  # delivered twice
    box.flags(1).discard("\\Seen")  # and the flag lost (another client, a restore)
    output = poll(settings, url)
    assert "doublon 2" in output
    assert Ticket.objects.count() == 1
    assert "boîte IMAP : 0 message(s)" in poll(settings, url)


def test_it_leaves_a_message_unseen_when_handling_it_crashes(agent, settings, imap_server, monkeypatch):
    from mutualis.helpdesk import inbound

    box, url = imap_server
    box.deliver(eml("Scanner bloqué"))

    def crash(raw):
        raise RuntimeError("base indisponible")

    monkeypatch.setattr(inbound, "ingest_message", crash)
    with pytest.raises(RuntimeError):
        poll(settings, url)
    assert "\\Seen" not in box.flags(1)  # BODY.PEEK[]: tried again next time


def test_it_says_clearly_when_the_login_is_refused(agent, settings, imap_server):
    _box, url = imap_server
    with pytest.raises(CommandError, match="relève IMAP impossible"):
        poll(settings, url.replace("s3cret%20pass", "mauvais"))


def test_it_asks_for_the_mailbox_url_when_none_is_set(settings):
    settings.HELPDESK_IMAP = None
    with pytest.raises(CommandError, match="MUTUALIS_HELPDESK_IMAP_URL"):
        call_command("helpdesk_poll_imap")


def test_it_reads_the_imap_url():
    assert parse_imap_url("X", "imaps://help%40op.fr:p%40ss@imap.op.fr/Assistance") == {
        "ssl": True,
        "host": "imap.op.fr",
        "port": 993,
        "user": "help@op.fr",
        "password": "p@ss",
        "mailbox": "Assistance",
    }
    assert parse_imap_url("X", "imap://u:p@127.0.0.1:1143")["mailbox"] == "INBOX"
    assert parse_imap_url("X", "") is None


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("pop3://u:p@host/INBOX", "unknown scheme"),
        ("imaps://host/INBOX", "needs a user"),
        ("imaps://u:p@host:port/INBOX", "port is not a number"),
    ],
)
def test_it_refuses_a_bad_imap_url_naming_the_variable(url, message):
    with pytest.raises(ConfigError, match=f"MUTUALIS_HELPDESK_IMAP_URL: .*{message}"):
        parse_imap_url("MUTUALIS_HELPDESK_IMAP_URL", url)


def test_it_refuses_an_unknown_task_backend_naming_the_variable():
    assert tasks_setting("B", "")["default"]["BACKEND"] == "django_tasks_db.DatabaseBackend"
    with pytest.raises(ConfigError, match="MUTUALIS_TASKS_BACKEND: expected one of database, immediate"):
        tasks_setting("MUTUALIS_TASKS_BACKEND", "redis")
