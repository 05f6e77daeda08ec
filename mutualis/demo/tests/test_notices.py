"""The demo's notices: a past maintenance, a major incident under way with linked tickets, a
maintenance next week; loading twice adds nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from mutualis.demo.loader import load_demo
from mutualis.notices import selectors
from mutualis.notices.enums import Kind, State
from mutualis.notices.models import Notice, NoticeTicket


@pytest.mark.django_db
def test_it_loads_three_notices_once_with_dates_around_now():
    load_demo()
    load_demo()
    now = timezone.now()
    notices = {n.state: n for n in Notice.objects.all()}
    assert Notice.objects.count() == 3
    past, current, planned = notices[State.ENDED], notices[State.IN_PROGRESS], notices[State.PLANNED]
    assert past.kind == Kind.MAINTENANCE and past.ended_at is not None and past.ended_at < now - dt.timedelta(days=20)
    assert current.kind == Kind.INCIDENT and current.starts_at < now < current.planned_end_at
    assert planned.kind == Kind.MAINTENANCE
    assert now + dt.timedelta(days=6) < planned.starts_at < now + dt.timedelta(days=8)
    assert NoticeTicket.objects.filter(notice=current).count() == 3
    assert selectors.affected_members(notice=current).count() >= 3
    assert [u.kind for u in current.updates.all()] == ["published", "message"]
