"""A small helpdesk history to anonymise or erase: tickets with followups, tasks, attachments,
watchers and mail, closed on chosen dates."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.core.files.uploadedfile import SimpleUploadedFile

from mutualis.helpdesk import services
from mutualis.helpdesk.enums import Action
from mutualis.helpdesk.models import Ticket

PARIS = ZoneInfo("Europe/Paris")


def at(year: int, month: int, day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(year, month, day, hour, tzinfo=PARIS)


def closed_ticket(
    world: Any, *, opened: dt.datetime, title: str = "Mot de passe de Jean Dupont", **kwargs: Any
) -> Ticket:
    """A ticket of Alpha requested by agent_a, answered by staff with a task and an attachment,
    solved and closed the next day (a Tuesday-to-Wednesday week keeps business time simple)."""
    ticket = services.ticket_create(
        actor=world.staff,
        collectivity=world.member_a,
        requester=world.agent_a,
        ticket_type="incident",
        title=title,
        description="Jean Dupont (jean.dupont@alpha.test, 06 12 34 56 78) ne peut plus se connecter.",
        watchers=[world.manager_a],
        attachments=[SimpleUploadedFile("capture-jean.png", b"\x89PNG fake", content_type="image/png")],
        now=opened,
        **kwargs,
    )
    services.ticket_assign(
        actor=world.staff, ticket=ticket, group=None, technician=world.staff, now=opened + dt.timedelta(hours=1)
    )
    services.followup_add(
        actor=world.agent_a, ticket=ticket, body="Merci, c'est Jean Dupont.", now=opened + dt.timedelta(hours=2)
    )
    services.followup_add(
        actor=world.staff, ticket=ticket, body="Compte de Jean débloqué.", now=opened + dt.timedelta(hours=3)
    )
    services.task_add(
        actor=world.staff, ticket=ticket, description="Appel à Jean Dupont", duration_seconds=900, done_on=opened.date()
    )
    services.ticket_transition(
        actor=world.staff,
        ticket=ticket,
        action=Action.SOLVE,
        comment="Réglé pour Jean Dupont",
        now=opened + dt.timedelta(hours=4),
    )
    services.ticket_transition(actor=world.staff, ticket=ticket, action=Action.CLOSE, now=opened + dt.timedelta(days=1))
    ticket.refresh_from_db()
    services.satisfaction_record(
        ticket=ticket, rating=4, comment="Merci de la part de Jean", now=opened + dt.timedelta(days=1, hours=1)
    )
    ticket.refresh_from_db()
    return ticket
