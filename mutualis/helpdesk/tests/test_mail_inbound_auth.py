"""Inbound mail is never believed on its From alone: Authentication-Results from a trusted
server, one author, no foreign Sender; operator accounts act by mail only when authenticated."""

from __future__ import annotations

import pytest
from django.core.management import CommandError

from mutualis.helpdesk import services
from mutualis.helpdesk.mailauth import parse_authentication_results
from mutualis.helpdesk.models import InboundMail, Ticket
from mutualis.helpdesk.tests.test_mail_inbound import eml, ingest
from mutualis.testing import factories as f

TRUSTED = "mx.mutualis.test"


@pytest.fixture
def people(world):
    for user, address in ((world.agent_a, "agent.a@alpha.test"), (world.staff, "staff@mutualis.test")):
        user.email = address
        user.save(update_fields=["email"])
    return world


@pytest.fixture(autouse=True)
def trusted_server(settings):
    settings.HELPDESK_TRUSTED_AUTHSERV_IDS = [TRUSTED]


def results(value: str, authserv_id: str = TRUSTED) -> dict[str, str]:
    return {"Authentication-Results": f"{authserv_id}; {value}"}


# -- the parser ------------------------------------------------------------------------------------
def test_it_reads_methods_results_and_properties_past_comments_and_quotes():
    parsed = parse_authentication_results(
        'MX.Mutualis.test 1 (postfix (v3)); dkim/1=pass (good; 2048-bit) header.d=alpha.test header.s="sel;1";\r\n'
        ' spf=fail smtp.mailfrom=evil.org; dmarc=pass reason="aligned" header.from=alpha.test'
    )
    assert parsed is not None and parsed.authserv_id == "mx.mutualis.test"
    assert [(r.method, r.result) for r in parsed.results] == [("dkim", "pass"), ("spf", "fail"), ("dmarc", "pass")]
    assert parsed.results[0].properties == {"header.d": "alpha.test", "header.s": "sel;1"}
    assert parsed.results[2].properties == {"header.from": "alpha.test"}


def test_it_reads_a_header_that_reports_no_result():
    parsed = parse_authentication_results("mx.mutualis.test; none")
    assert parsed is not None and parsed.results == ()
    assert parse_authentication_results("  ") is None


# -- refusals --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("dmarc=fail header.from=alpha.test", "échec DMARC"),
        ("spf=fail smtp.mailfrom=alpha.test", "échec SPF"),
        ("dkim=fail header.d=alpha.test", "échec DKIM"),
    ],
)
def test_it_refuses_what_the_trusted_server_reports_as_failed(people, header, reason):
    with pytest.raises(CommandError, match=reason):
        ingest(eml(headers=results(header)))
    assert not Ticket.objects.exists()
    refused = InboundMail.objects.get()
    assert refused.outcome == "refused" and reason in refused.reason
    assert refused.sender == "agent.a@alpha.test" and refused.subject == "Imprimante en panne"


def test_it_ignores_authentication_results_from_a_server_it_does_not_trust(people):
    # Written by the sender itself, or by a server on the way: proves nothing either way.
    ingest(eml(headers=results("dmarc=fail header.from=alpha.test", authserv_id="mx.ailleurs.example")))
    assert Ticket.objects.count() == 1


def test_it_accepts_a_broken_signature_beside_a_good_one(people):
    ingest(eml(headers=results("dkim=fail header.d=liste.example; dkim=pass header.d=alpha.test")))
    assert Ticket.objects.count() == 1


def test_it_refuses_a_message_with_several_from_addresses(people):
    raw = eml(sender="agent.a@alpha.test").replace(
        b"From: Agent A <agent.a@alpha.test>", b"From: Agent A <agent.a@alpha.test>, Mallory <m@evil.example>"
    )
    with pytest.raises(CommandError, match="plusieurs adresses d'expéditeur"):
        ingest(raw)
    raw = b"From: Mallory <m@evil.example>\r\n" + eml(message_id="<m2@alpha.test>")
    with pytest.raises(CommandError, match="plusieurs adresses d'expéditeur"):
        ingest(raw)
    assert not Ticket.objects.exists()
    assert InboundMail.objects.filter(outcome="refused").count() == 2


def test_it_refuses_a_sender_other_than_from_and_accepts_the_same_address(people):
    with pytest.raises(CommandError, match="Sender"):
        ingest(eml(headers={"Sender": "relais@evil.example"}))
    assert not Ticket.objects.exists()
    ingest(eml(headers={"Sender": "AGENT.A@alpha.test"}, message_id="<m3@alpha.test>"))
    assert Ticket.objects.count() == 1


# -- operator accounts -----------------------------------------------------------------------------
@pytest.fixture
def ticket(people):
    return services.ticket_create(
        actor=people.agent_a,
        collectivity=people.member_a,
        requester=None,
        ticket_type="incident",
        title="Messagerie",
        description="plus d'accès",
    )


def staff_reply(ticket, message_id: str, headers: dict[str, str] | None = None) -> bytes:
    return eml(
        sender="staff@mutualis.test",
        subject=f"Re: [{ticket.reference}] Nouveau message : Messagerie",
        body="Redémarrez le poste.",
        message_id=message_id,
        headers=headers,
    )


def test_it_refuses_an_operator_address_that_nobody_authenticated(ticket):
    with pytest.raises(CommandError, match="adresse de l'opérateur non authentifiée"):
        ingest(staff_reply(ticket, "<s1@mutualis.test>"))
    # Nor is a pass from a server it does not trust enough.
    untrusted = results("dmarc=pass header.from=mutualis.test", authserv_id="mx.ailleurs.example")
    with pytest.raises(CommandError, match="non authentifiée"):
        ingest(staff_reply(ticket, "<s2@mutualis.test>", untrusted))
    # Nor a signature of another domain.
    with pytest.raises(CommandError, match="non authentifiée"):
        ingest(staff_reply(ticket, "<s3@mutualis.test>", results("dkim=pass header.d=evil.example")))
    assert not ticket.followups.exists()
    assert InboundMail.objects.filter(outcome="refused").count() == 3


@pytest.mark.parametrize(
    "header",
    ["dmarc=pass header.from=mutualis.test", "dkim=pass header.d=mutualis.test", "dkim=pass header.i=@mutualis.test"],
)
def test_it_lets_an_authenticated_operator_address_follow_up(ticket, people, header):
    output = ingest(staff_reply(ticket, "<s4@mutualis.test>", results(header)))
    assert "courriel suivi ajouté" in output
    followup = ticket.followups.get()
    assert followup.author == people.staff and followup.body == "Redémarrez le poste."


def test_it_lets_no_operator_address_act_when_no_server_is_trusted(ticket, settings):
    settings.HELPDESK_TRUSTED_AUTHSERV_IDS = []
    with pytest.raises(CommandError, match="non authentifiée"):
        ingest(staff_reply(ticket, "<s5@mutualis.test>", results("dmarc=pass header.from=mutualis.test")))


# -- the Message-ID register -----------------------------------------------------------------------
def test_it_handles_a_refused_message_once_it_passes_and_keeps_one_row(people):
    raw = eml(sender="nouvelle@alpha.test", message_id="<again@alpha.test>")
    with pytest.raises(CommandError, match="expéditeur inconnu"):
        ingest(raw)
    f.UserFactory(username="nouvelle", role="member_agent", organisation=people.member_a, email="nouvelle@alpha.test")
    ingest(raw)
    ingest(raw)
    row = InboundMail.objects.get()
    assert row.outcome != "refused" and row.ticket == Ticket.objects.get()


# -- what operator admins see ----------------------------------------------------------------------
def test_it_shows_refused_messages_to_operator_admins_only(client, people):
    with pytest.raises(CommandError):
        ingest(eml(subject="<script>alert(1)</script> Facture", headers=results("dmarc=fail header.from=alpha.test")))
    with pytest.raises(CommandError):
        ingest(eml(sender="intrus@example.org", message_id="<x@example.org>"))
    ingest(eml(message_id="<ok@alpha.test>"))  # handled: not a refusal

    client.force_login(people.admin)
    page = client.get("/assistance/configuration/courriels-refuses/").content.decode()
    assert "intrus@example.org" in page and "expéditeur inconnu" in page
    assert "agent.a@alpha.test" in page and "échec DMARC signalé par le serveur de réception" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Facture" in page and "<script>alert(1)" not in page
    assert "&lt;ok@alpha.test&gt;" not in page
    assert "2 courriels refusés" in page
    assert (
        'href="/assistance/configuration/courriels-refuses/"'
        in client.get("/assistance/configuration/").content.decode()
    )

    client.force_login(people.staff)
    assert client.get("/assistance/configuration/courriels-refuses/").status_code == 404
    assert "courriels-refuses" not in client.get("/assistance/configuration/").content.decode()


def test_the_migration_carries_the_message_ids_handled_so_far_over(people):
    """Before the register, the audit log held the Message-IDs: a message handled then must stay
    handled after the upgrade, and a refusal of a message handled later must not hide it."""
    import importlib

    from django.apps import apps

    from mutualis.core.audit import AuditDraft, audit_many
    from mutualis.core.models import AuditAction

    ticket = services.ticket_create(
        actor=people.agent_a,
        collectivity=people.member_a,
        requester=None,
        ticket_type="incident",
        title="Messagerie",
        description="plus d'accès",
    )

    def old_entry(message_id: str, outcome: str, **extra: str) -> None:
        changes = {"message_id": [None, message_id], "from": [None, "agent.a@alpha.test"], "outcome": [None, outcome]}
        changes.update({key: [None, value] for key, value in extra.items()})
        audit_many(
            actor=None,
            entries=[AuditDraft(action=AuditAction.IMPORT, object_id="mail:" + message_id[:20], changes=changes)],
            via="mail",
        )

    old_entry("<old@alpha.test>", "refused", reason="expéditeur inconnu")
    old_entry("<old@alpha.test>", "created", ticket=ticket.reference, subject="Messagerie")
    old_entry("<old@alpha.test>", "refused", reason="copie")
    old_entry("<refused@alpha.test>", "refused", reason="expéditeur inconnu")
    InboundMail.objects.all().delete()

    migration = importlib.import_module("mutualis.helpdesk.migrations.0010_inbound_mail")
    migration.copy_from_audit(apps, None)

    handled = InboundMail.objects.get(message_id="<old@alpha.test>")
    assert (handled.outcome, handled.ticket, handled.subject) == ("created", ticket, "Messagerie")
    assert InboundMail.objects.get(message_id="<refused@alpha.test>").outcome == "refused"
    assert "courriel doublon" in ingest(eml(message_id="<old@alpha.test>"))
    assert Ticket.objects.count() == 1
