"""A maintenance contract with commitments over an application a member subscribes to, and a
helper that opens a ticket on it; instants in Paris time, November 2026 (the 11th is a holiday)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from mutualis.catalog.models import Application, Vendor
from mutualis.helpdesk import services
from mutualis.helpdesk.enums import Action, DurationUnit, PendingReason
from mutualis.helpdesk.models import Ticket
from mutualis.ola.models import Commitment
from mutualis.procurement.enums import Procedure
from mutualis.procurement.models import Contract
from mutualis.testing import factories as f

PARIS = ZoneInfo("Europe/Paris")


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=PARIS)


def make_contract(code: str, application: Application, vendor: Vendor, **extra: object) -> Contract:
    contract = Contract.objects.create(
        code=code,
        object=f"Maintenance {code}",
        procedure=Procedure.ADAPTED,
        max_amount_ht=Decimal("10000"),
        **extra,
    )
    contract.applications.add(application)
    contract.holders.add(vendor)
    return contract


@dataclass
class Ola:
    vendor: Vendor
    application: Application
    bare_application: Application  # no contract covers it
    contract: Contract
    commitment: Commitment


@pytest.fixture
def ola(world) -> Ola:
    vendor = f.VendorFactory.create(slug="arpege", name="Arpège")
    application = f.ApplicationFactory.create(slug="etat-civil", name="État civil", vendor=vendor)
    bare = f.ApplicationFactory.create(slug="cimetieres", name="Cimetières", vendor=vendor)
    for app in (application, bare):
        f.SubscriptionFactory.create(collectivity=world.member_a, application=app)
    contract = make_contract(
        "M-ARPEGE", application, vendor, starts_on=dt.date(2026, 1, 1), ends_on=dt.date(2026, 12, 31)
    )
    commitment = Commitment.objects.create(
        contract=contract, respond_value=2, respond_unit=DurationUnit.HOURS, fix_value=4, fix_unit=DurationUnit.HOURS
    )
    return Ola(vendor, application, bare, contract, commitment)


def open_ticket(world, application: Application, *, now: dt.datetime, urgency: int = 3) -> Ticket:
    ticket = services.ticket_create(
        actor=world.agent_a,
        collectivity=world.member_a,
        requester=None,
        ticket_type="incident",
        title="Acte introuvable",
        description="…",
        application=application,
        urgency=urgency,
        impact=urgency,
        now=now,
    )
    return services.ticket_assign(actor=world.staff, ticket=ticket, group=None, technician=world.staff, now=now)


def wait_vendor(world, ticket: Ticket, now: dt.datetime) -> None:
    services.ticket_transition(
        actor=world.staff, ticket=ticket, action=Action.WAIT, pending_reason=PendingReason.VENDOR, now=now
    )


def resume(world, ticket: Ticket, now: dt.datetime) -> None:
    services.ticket_transition(actor=world.staff, ticket=ticket, action=Action.RESUME, now=now)
