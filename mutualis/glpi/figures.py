"""Honest figures: each imported ticket's times recomputed on Mutualis's calendar, compared with
what GLPI stored (takeintoaccount_delay_stat, solve_delay_stat, waiting_duration), and why they
differ when they do.

GLPI counts its delays in calendar seconds unless the ticket's SLA has a calendar, subtracts the
waiting it recorded, and computes solve_delay_stat once, at the first solution; some versions
lose the paused time (waiting_duration stays 0 though the ticket waited). Mutualis counts
business seconds on the ticket's calendar, minus the waiting it can see."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

from mutualis.helpdesk.models import Ticket
from mutualis.lib.business_offsets import OffsetTable

if TYPE_CHECKING:
    from mutualis.glpi.importer import Bundle
    from mutualis.glpi.source import Source

TOLERANCE_S = 60  # GLPI rounds to the second at several steps; differences under a minute are noise

STALE = _("réouvert, statistique périmée")
PAUSE_LOST = _("temps d'attente perdu par GLPI")
CALENDAR = _("temps calendaire contre temps ouvré")


@dataclass(frozen=True)
class Figures:
    glpi_id: int
    reference: str
    tto_glpi: int | None
    tto_mutualis: int | None
    ttr_glpi: int | None
    ttr_mutualis: int | None
    waiting_glpi: int
    waiting_mutualis: int
    reason: str  # "" when the figures agree


def waiting_period(bundle: Bundle, source: Source) -> tuple[dt.datetime, dt.datetime] | None:
    """The last waiting period GLPI's rows show on a ticket no longer waiting: from
    begin_waiting_date (GLPI keeps it after the ticket leaves status 4) to the next followup or
    solution (what took it out of waiting)."""
    row = bundle.row
    begin = source.aware(row["begin_waiting_date"])
    if begin is None or row["status"] == 4:
        return None
    ends = [source.aware(f["date"]) for f in bundle.followups] + [
        source.aware(s["date_creation"]) for s in bundle.solutions
    ]
    later = sorted(end for end in ends if end is not None and end > begin)
    end = later[0] if later else source.aware(row["solvedate"])
    return (begin, end) if end is not None and end > begin else None


def ticket_waiting(bundle: Bundle, ticket: Ticket, table: OffsetTable, source: Source) -> int:
    """Business seconds the ticket waited, on its calendar.

    GLPI's waiting_duration when it recorded one (the sum of every period); else what its
    service-level clock paused (sla_waiting_duration: the versions that lose waiting_duration
    still push the due date); both are calendar seconds of unknown periods, so they become
    business seconds in the proportion of business time over the ticket's life. Else the last
    period the rows show (begin_waiting_date to the next followup or solution), counted exactly."""
    recorded = int(bundle.row["waiting_duration"] or 0) or int(bundle.row.get("sla_waiting_duration") or 0)
    if recorded:
        end = ticket.solved_at or ticket.closed_at
        if end is None or end <= ticket.opened_at:
            return 0
        calendar_span = (end - ticket.opened_at).total_seconds()
        business_span = table.offset(end) - table.offset(ticket.opened_at)
        return max(0, min(business_span, round(recorded * business_span / calendar_span)))
    period = waiting_period(bundle, source)
    if period is None:
        return 0
    return max(0, table.offset(period[1]) - table.offset(period[0]))


def ticket_figures(bundle: Bundle, ticket: Ticket, source: Source) -> Figures:
    row = bundle.row
    opened = ticket.opened_offset or 0
    tto_m = ticket.taken_offset - opened if ticket.taken_offset is not None else None
    ttr_m = max(0, ticket.solved_offset - opened - ticket.waiting_seconds) if ticket.solved_offset is not None else None
    tto_g = int(row["takeintoaccount_delay_stat"]) if ticket.taken_at else None
    ttr_g = int(row["solve_delay_stat"]) if ticket.solved_at else None
    waiting_g = int(row["waiting_duration"] or 0)
    reason = ""
    solved, date = source.aware(row["solvedate"]), source.aware(row["date"])
    # solve_delay_stat is set at the first solution: after a reopening, the last one came later.
    if (
        ttr_g is not None
        and solved is not None
        and date is not None
        and len(bundle.solutions) > 1
        and (solved - date).total_seconds() - waiting_g - ttr_g > TOLERANCE_S
    ):
        reason = str(STALE)
    if not reason and waiting_g == 0 and ticket.waiting_seconds > 0:
        reason = str(PAUSE_LOST)
    if not reason and any(
        g is not None and m is not None and abs(g - m) > TOLERANCE_S for g, m in ((tto_g, tto_m), (ttr_g, ttr_m))
    ):
        reason = str(CALENDAR)
    return Figures(
        glpi_id=row["id"],
        reference=ticket.reference,
        tto_glpi=tto_g,
        tto_mutualis=tto_m,
        ttr_glpi=ttr_g,
        ttr_mutualis=ttr_m,
        waiting_glpi=waiting_g,
        waiting_mutualis=ticket.waiting_seconds,
        reason=reason,
    )
