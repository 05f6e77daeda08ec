"""`last_tick()`: the latest completed tick over every scheduler process, None before any."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from mutualis.core.models import SchedulerProcess
from mutualis.core.scheduler import last_tick

pytestmark = pytest.mark.django_db


def test_it_is_none_before_any_tick() -> None:
    assert last_tick() is None
    SchedulerProcess.objects.create(holder="a:1:x", host="a", pid=1, started_at=timezone.now())
    assert last_tick() is None


def test_it_is_the_latest_tick_of_all_processes() -> None:
    now = timezone.now()
    SchedulerProcess.objects.create(holder="a:1:x", host="a", pid=1, started_at=now, last_tick_at=now)
    SchedulerProcess.objects.create(
        holder="b:2:y", host="b", pid=2, started_at=now, last_tick_at=now - dt.timedelta(minutes=5)
    )
    assert last_tick() == now
