"""The notices' part of `load_demo`: a maintenance ended last month, a major incident on the
messaging under way now with a few tickets linked to it, and a maintenance planned next week.
Dates are relative to the moment of loading; written through the notices' and the helpdesk's
services (audit, timeline). Loading again adds nothing: each notice is known by its title."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from mutualis.accounts.models import Role, User
from mutualis.catalog.models import ACTIVE_STATUSES, Application
from mutualis.helpdesk import services as helpdesk
from mutualis.members.models import OperatorService, Organisation
from mutualis.notices import services
from mutualis.notices.enums import Action, Kind
from mutualis.notices.models import Notice

PAST = "Montée de version du logiciel de finances"
INCIDENT = "Messagerie : envoi et réception interrompus"
PLANNED = "Maintenance du parapheur électronique"


def _application(software: str) -> Application | None:
    """The catalogue's application running `software`, when the data set has it."""
    return Application.objects.filter(software__icontains=software).order_by("pk").first()


def _at(now: dt.datetime, days: int, hour: int, minute: int = 0) -> dt.datetime:
    """`days` from today at `hour`:`minute`, Paris time."""
    local = timezone.localtime(now) + dt.timedelta(days=days)
    return local.replace(hour=hour, minute=minute, second=0, microsecond=0)


def load_notices(now: dt.datetime | None = None) -> None:
    now = now or timezone.now()
    staff = User.objects.filter(role=Role.OPERATOR_STAFF, is_active=True).order_by("pk").first()
    if staff is None:
        return
    finances = _application("Civil-Net-Finances")
    messaging = _application("Zimbra")
    signature = _application("i-Parapheur")

    if finances is not None and not Notice.objects.filter(title=PAST).exists():
        past = services.notice_create(
            actor=staff,
            kind=Kind.MAINTENANCE,
            title=PAST,
            description=(
                "Passage à la version 2026 du logiciel de finances.\n\n"
                "- le logiciel est **indisponible** pendant l'opération ;\n"
                "- les mandats et titres en cours sont conservés."
            ),
            applications=[finances],
            starts_at=_at(now, -30, 18),
            planned_end_at=_at(now, -30, 22),
        )
        services.notice_transition(actor=staff, notice=past, action=Action.START, now=_at(now, -30, 18, 2))
        services.notice_end(
            actor=staff,
            notice=past,
            message="Montée de version terminée, le logiciel est disponible.",
            now=_at(now, -30, 21, 40),
        )

    if messaging is not None and not Notice.objects.filter(title=INCIDENT).exists():
        started = now - dt.timedelta(hours=2)
        incident = services.notice_create(
            actor=staff,
            kind=Kind.INCIDENT,
            title=INCIDENT,
            description=(
                "Depuis ce matin, la messagerie n'envoie ni ne reçoit plus de courriel. "
                "Les équipes d'hébergement cherchent la cause ; **inutile d'ouvrir un nouveau ticket** : "
                "suivez cet avis."
            ),
            applications=[messaging],
            starts_at=started,
            planned_end_at=now + dt.timedelta(hours=3),
            in_progress=True,
        )
        services.notice_message_add(
            actor=staff,
            notice=incident,
            body="La cause est identifiée (stockage saturé) ; retour prévu dans l'après-midi.",
        )
        _incident_tickets(incident, messaging, staff)

    if signature is not None and not Notice.objects.filter(title=PLANNED).exists():
        services.notice_create(
            actor=staff,
            kind=Kind.MAINTENANCE,
            title=PLANNED,
            description=(
                "Mise à jour de sécurité du parapheur : les circuits de signature sont suspendus pendant l'opération."
            ),
            applications=[signature],
            starts_at=_at(now, 7, 19),
            planned_end_at=_at(now, 7, 21),
        )


def _incident_tickets(incident: Notice, messaging: Application, staff: User) -> None:
    """Three members' requests about the outage, linked to the incident."""
    group = messaging.support_group or OperatorService.objects.order_by("pk").first()
    members = Organisation.objects.filter(
        subscriptions__application=messaging, subscriptions__status__in=ACTIVE_STATUSES
    ).order_by("name")[:3]
    titles = ["Plus de courriel depuis ce matin", "Impossible d'envoyer un message", "Boîte aux lettres injoignable"]
    for member, title in zip(members, titles, strict=False):
        requester = User.objects.filter(organisation=member, is_active=True).order_by("pk").first()
        if requester is None:
            continue
        ticket = helpdesk.ticket_create(
            actor=requester,
            collectivity=member,
            requester=None,
            ticket_type="incident",
            title=title,
            description="Les agents ne reçoivent plus aucun courriel.",
            application=messaging,
            group=group,
        )
        services.notice_ticket_link(actor=staff, notice=incident, reference=ticket.reference)
