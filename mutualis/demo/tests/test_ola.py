"""The vendor clocks in the demo: commitments on the maintenance contracts, and episodes derived
from the generated history's waits for the vendor, replaced on each run."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from mutualis.demo.generator import PREFIX, generate
from mutualis.demo.ola import COMMITMENTS, load_ola
from mutualis.helpdesk import sla
from mutualis.helpdesk.enums import Action
from mutualis.helpdesk.models import TransitionLog
from mutualis.lib.business_time import business_seconds
from mutualis.ola.models import Commitment, VendorEpisode
from mutualis.procurement.enums import Procedure
from mutualis.procurement.models import Contract
from mutualis.quality.kpis import TZ, Month
from mutualis.quality.vendor_clocks import vendor_compliance
from mutualis.testing import factories as f

NOW = dt.datetime(2026, 11, 30, 18, 0, tzinfo=TZ)


@pytest.fixture
def covered(world):
    vendor = f.VendorFactory(slug="berger-levrault", name="Berger-Levrault")
    apps = [f.ApplicationFactory(slug=f"app-{i}", name=f"Application {i}", vendor=vendor) for i in range(3)]
    for app in apps:
        f.SubscriptionFactory(collectivity=world.member_a, application=app)
    contract = Contract.objects.create(
        code="2022M01", object="Maintenance", procedure=Procedure.ADAPTED, max_amount_ht=Decimal("1000")
    )
    contract.applications.set(apps[:2])
    contract.holders.add(vendor)
    return contract


def test_it_puts_commitments_on_the_demo_contracts_idempotently(covered):
    load_ola()
    load_ola()
    assert Commitment.objects.filter(contract=covered).count() == len(COMMITMENTS["2022M01"])


def test_it_derives_the_vendor_episodes_of_the_generated_history(covered):
    load_ola()
    result = generate(months=6, seed=7, now=NOW)
    episodes = list(VendorEpisode.objects.select_related("started_log", "ended_log", "ticket"))
    assert result.vendor_episodes == len(episodes) > 10
    waits = TransitionLog.objects.filter(ticket__external_id__startswith=PREFIX, action=Action.WAIT).count()
    assert len(episodes) < waits  # the waits for the requester are left out
    spec = sla.sla_calendar(sla.sla_config().default_calendar_id).spec
    for episode in episodes:
        assert episode.started_log.action == Action.WAIT
        if episode.ended_log is not None:
            assert episode.ended_log.actor_id != episode.ticket.requester_id
            seconds = business_seconds(spec, episode.started_at, episode.ended_at)
            assert episode.end_offset - episode.start_offset == seconds
    assert {e.contract_id for e in episodes} == {covered.pk, None}
    assert all((e.commitment is None) == (e.contract is None) for e in episodes)
    rows = vendor_compliance(first=Month(2026, 6), last=Month(2026, 11))
    assert sum(r["episodes"] for r in rows) == sum(
        1 for e in episodes if e.ended_at and e.ended_at >= Month(2026, 6).start()
    )

    again = generate(months=6, seed=7, now=NOW)  # the previous generation and its episodes go
    assert again.vendor_episodes == VendorEpisode.objects.count() == len(episodes)
