"""The helpdesk's batch commands: the service-level sweep, and mail read from standard input."""

from __future__ import annotations

import datetime as dt
import io
import sys
from email.message import EmailMessage

from django.core.management import call_command
from django.utils import timezone

from mutualis.helpdesk import services
from mutualis.helpdesk.models import SlaEvent, Ticket


def test_it_escalates_and_prints_a_summary_line(world, monkeypatch):
    ticket = services.ticket_create(
        actor=world.agent_a,
        collectivity=world.member_a,
        requester=None,
        ticket_type="incident",
        title="Bloquant",
        description="x",
        blocking=True,
        urgency=5,
        impact=5,
        now=timezone.now() - dt.timedelta(days=30),
    )
    out = io.StringIO()
    call_command("helpdesk_sla_escalate", stdout=out)
    events = SlaEvent.objects.filter(ticket=ticket).count()
    assert events >= 3  # 50, 75 and 100 % of the resolution budget at least
    assert out.getvalue().strip() == f"niveaux de service : {events} alerte(s) enregistrée(s)"
    ticket.refresh_from_db()
    assert ticket.ttr_breached
    out = io.StringIO()
    call_command("helpdesk_sla_escalate", stdout=out)  # each level is told once
    assert out.getvalue().strip() == "niveaux de service : 0 alerte(s) enregistrée(s)"


def test_it_reads_the_message_from_standard_input(world, monkeypatch):
    world.agent_a.email = "agent.a@alpha.test"
    world.agent_a.save(update_fields=["email"])
    message = EmailMessage()
    message["From"] = "agent.a@alpha.test"
    message["Subject"] = "Depuis stdin"
    message["Message-ID"] = "<stdin@alpha.test>"
    message.set_content("corps")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(message.as_bytes())))
    call_command("helpdesk_ingest_email", stdout=io.StringIO())
    assert Ticket.objects.get().title == "Depuis stdin"
