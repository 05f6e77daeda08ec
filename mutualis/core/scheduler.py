"""The scheduler of periodic commands: each app registers its jobs from AppConfig.ready, and
`mutualis scheduler` runs each period of each job once, whatever the number of schedulers."""

from __future__ import annotations

import datetime as dt

from django.db.models import Max

from mutualis.core.models import SchedulerProcess


def last_tick() -> dt.datetime | None:
    """When a scheduler last completed a tick (any process, any machine); None if never."""
    return SchedulerProcess.objects.aggregate(last=Max("last_tick_at"))["last"]
