"""How a ticket's priority and service level read in a list (the staff queue, « Mes demandes »,
the home panels): a word beside every colour, and the business time left to the resolution due
date, from the calendar's cached offsets table (no query per row)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mutualis.helpdesk import sla
from mutualis.helpdesk.enums import OPEN_STATUSES
from mutualis.helpdesk.models import Ticket
from mutualis.helpdesk.selectors import AT_RISK_HOURS
from mutualis.lib.business_offsets import OffsetTable

# GLPI's six priorities (helpdesk migration 0009 names them the same way).
PRIORITY_LABELS = {
    1: gettext_lazy("très basse"),
    2: gettext_lazy("basse"),
    3: gettext_lazy("moyenne"),
    4: gettext_lazy("haute"),
    5: gettext_lazy("très haute"),
    6: gettext_lazy("majeure"),
}
# The share of the budget used from which a ticket is threatened (the 75 % escalation).
AT_RISK_PERCENT = 75
DEFAULT_DAY_S = 8 * 3600


def priority_label(priority: int) -> str:
    """« P4 haute »: the number the staff know from GLPI and its word."""
    return f"P{priority} {PRIORITY_LABELS.get(priority, '')}".strip()


def business_duration(seconds: int, day_s: int = DEFAULT_DAY_S) -> str:
    """A business duration as a list shows it: « 25 min », « 3 h », « 2 j » (business days of
    the calendar's average opening day), rounded down so the time left is never flattered."""
    seconds = max(0, int(seconds))
    if seconds < 3600:
        return _("%(n)d min") % {"n": max(1, seconds // 60)} if seconds else _("0 min")
    if seconds < day_s:
        return _("%(n)d h") % {"n": seconds // 3600}
    return _("%(n)d j") % {"n": seconds // day_s}


@dataclass(frozen=True)
class SlaState:
    key: str  # ok, at_risk, breached, paused, none, done: the CSS class
    label: str  # the state in words, never the colour alone
    left: str  # « reste 3 h », « dépassé de 2 j », « échéance passée » or ""


class SlaReader:
    """Reads rows' service level against their calendars; a calendar's offsets table and day
    length are looked up once per page (cached reference data, sla.sla_calendar)."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now
        self._tables: dict[int, tuple[OffsetTable, int]] = {}
        # The states in words, translated once per page rather than once per row.
        self.done = SlaState("done", _("terminé"), "")
        self.none = SlaState("none", _("sans délai"), "")
        self.paused = SlaState("paused", _("suspendu"), "")
        self.words = {
            "breached": _("dépassé"),
            "late_by": _("dépassé de %(d)s"),
            "passed": _("échéance passée"),
            "left": _("reste %(d)s"),
            "tto": _("prise en compte dépassée"),
            "at_risk": _("menacé"),
            "ok": _("dans les délais"),
        }

    def _calendar(self, calendar_id: int) -> tuple[OffsetTable, int]:
        found = self._tables.get(calendar_id)
        if found is None:
            ref = sla.sla_calendar(calendar_id)
            open_days = sum(1 for intervals in ref.spec.hours.values() if intervals)
            day_s = ref.spec.open_seconds_per_week() // open_days if open_days else DEFAULT_DAY_S
            found = self._tables[calendar_id] = (ref.offsets(), day_s or DEFAULT_DAY_S)
        return found

    def state(self, ticket: Ticket) -> SlaState:
        """Reads status, calendar_id, pending_since, ttr_due_at, ttr_budget_s and the breach flags."""
        words = self.words
        if ticket.status not in OPEN_STATUSES:
            return self.done
        if ticket.ttr_due_at is None:
            return SlaState("breached", words["breached"], "") if ticket.tto_breached else self.none
        if ticket.pending_since is not None:
            # The resolution clock stops while the ticket waits; the due date moves on resume.
            return self.paused
        table, day_s = self._calendar(ticket.calendar_id)
        due, now = table.offset(ticket.ttr_due_at), table.offset(self.now)
        if ticket.ttr_breached or ticket.ttr_due_at <= self.now:
            # Past due outside opening hours (a Friday evening's due date on Saturday) is not yet
            # late in business time: said so, rather than « dépassé de 0 min ».
            late = now - due
            left = words["late_by"] % {"d": business_duration(late, day_s)} if late >= 60 else words["passed"]
            return SlaState("breached", words["breached"], left)
        left = words["left"] % {"d": business_duration(due - now, day_s)}
        if ticket.tto_breached:
            return SlaState("breached", words["tto"], left)
        budget = ticket.ttr_budget_s or 0
        used = 100 * (budget - (due - now)) / budget if budget else 0
        soon = ticket.ttr_due_at <= self.now + dt.timedelta(hours=AT_RISK_HOURS)
        if soon or used >= AT_RISK_PERCENT:
            return SlaState("at_risk", words["at_risk"], left)
        return SlaState("ok", words["ok"], left)
