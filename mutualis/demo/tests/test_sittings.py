"""The demo's sitting: the comité syndical convened, held with its quorum and closed three weeks
ago, two deliberations adopted and numbered; the bureau's delegation; loading twice adds nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from mutualis.demo.loader import load_demo
from mutualis.governance.enums import SittingState
from mutualis.governance.models import AgendaItem, Delegation, Sitting


@pytest.mark.django_db
def test_it_loads_a_closed_sitting_with_two_numbered_deliberations_once():
    load_demo()
    load_demo()

    (sitting,) = Sitting.objects.filter(body__slug="comite-syndical")
    assert sitting.state == SittingState.CLOSED
    assert [t.target for t in sitting.transitions.all()] == [
        SittingState.CONVENED,
        SittingState.HELD,
        SittingState.CLOSED,
    ]
    assert sitting.starts_at < timezone.now() - dt.timedelta(days=20)
    assert sitting.present is not None and sitting.in_office is not None
    assert sitting.present > sitting.in_office // 2
    year = timezone.localtime(sitting.starts_at).year
    numbers = [i.number for i in AgendaItem.objects.filter(sitting=sitting).order_by("position")]
    assert numbers == [f"{year}-001", f"{year}-002"]
    assert Delegation.objects.filter(delegate="bureau", threshold_ht__isnull=False).count() == 1
