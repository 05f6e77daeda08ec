"""A realistic helpdesk history for the demo, calibrated on the reference operator (about 335
tickets a month, a peak month near 436), written in bulk but with every field the services write.

Why bulk and not `ticket_create` / `ticket_transition` per ticket: this is history, not activity.
A service call per ticket would mail every requester and technician, write an audit entry per
ticket and per transition, and take minutes for two years; here the rows are computed in Python
exactly as the services compute them (reference from the year's TicketSequence, priority from the
matrix, `sla.policy_for`, `sla.budget_seconds` and `sla.refresh_due_dates` on the calendar's spec,
business offsets from the calendar's offset table, breach flags, the transition log, tasks), then
written with `bulk_create`, and one audit entry records the generation.

Generated tickets carry an `external_id` starting with `demo-`: a new run deletes them first (and
only them), so running it again with the same seed gives the same history.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max
from django.db.models.functions import Substr
from django.utils import timezone

from mutualis.accounts.models import OPERATOR_ROLES, Role, User
from mutualis.catalog.models import ACTIVE_STATUSES, Application, Subscription
from mutualis.core.audit import audit_record
from mutualis.core.models import AuditAction
from mutualis.demo import ola as ola_demo
from mutualis.helpdesk import sla
from mutualis.helpdesk.enums import OPEN_STATUSES, Action, Clock, PendingReason, Source, Status, TicketType
from mutualis.helpdesk.models import (
    Attachment,
    Calendar,
    Followup,
    PriorityCell,
    SlaEvent,
    SlaPolicy,
    Ticket,
    TicketSequence,
    TicketTask,
    TransitionLog,
)
from mutualis.lib.business_offsets import OffsetTable
from mutualis.lib.business_time import CalendarSpec, add_business_seconds
from mutualis.members.models import Organisation
from mutualis.ola.models import VendorEpisode
from mutualis.quality.kpis import TZ, Month

PREFIX = "demo-"
MONTHLY_MEAN = 335  # the reference operator's average (sitiv-2022.json, helpdesk)
# Month of the year → relative volume: the September return is the peak (≈ 1.3 × the mean, the
# reference's 436), July and August the summer dip, December the holidays.
SEASON = {1: 1.08, 2: 1.0, 3: 1.08, 4: 0.98, 5: 0.92, 6: 1.02, 7: 0.72, 8: 0.55, 9: 1.25, 10: 1.1, 11: 1.02, 12: 0.85}
MONTH_NOISE = 0.03
INCIDENT_SHARE = 0.4
WEEKDAY_WEIGHT = (1.15, 1.05, 1.0, 1.0, 0.85, 0.03, 0.02)  # Monday … Sunday
CLOSED_DAY_WEIGHT = 0.03  # public holidays and closures: a few tickets all the same (mail, forms)
IN_HOURS_SHARE = 0.93
URGENCY = {TicketType.INCIDENT: (3, 12, 45, 28, 12), TicketType.REQUEST: (10, 35, 45, 8, 2)}
IMPACT = {TicketType.INCIDENT: (5, 25, 45, 20, 5), TicketType.REQUEST: (15, 40, 40, 5, 0)}
BLOCKING_SHARE = 0.15  # of incidents with urgency ≥ 4
# Business seconds, log-normal: (median, sigma) per priority.
TTO = {6: (300, 0.9), 5: (600, 0.9), 4: (1200, 0.9), 3: (2700, 0.9), 2: (5400, 0.9), 1: (10800, 0.9)}
TTR = {
    6: (2 * 3600, 1.0),
    5: (3 * 3600, 1.0),
    4: (5 * 3600, 1.0),
    3: (10 * 3600, 1.1),
    2: (16 * 3600, 1.1),
    1: (28 * 3600, 1.1),
}
TTR_BLOCKING = (3 * 3600, 0.7)
TTR_MAX = 120 * 8 * 3600
PENDING_SHARE, PENDING = 0.18, (6 * 3600, 1.0)
REASSIGN_SHARE, REASSIGN_TWICE_SHARE = 0.07, 0.01
REFUSE_SHARE, REOPEN_SHARE = 0.02, 0.03
ACCEPT_SHARE = 0.35  # accepted by the requester; the rest closed by the system a week later
AUTO_CLOSE = dt.timedelta(days=7)
SURVEY_SHARE = 0.30
SURVEY = ((5, 50), (4, 32), (3, 10), (2, 5), (1, 3))
SOURCES = ((Source.WEB, 55), (Source.MAIL, 30), (Source.FORM, 15))
TITLES = {
    TicketType.INCIDENT: (
        "Erreur à l'ouverture de {app}",
        "{app} : lenteurs importantes",
        "{app} : impression impossible",
        "Message d'erreur dans {app}",
        "{app} inaccessible depuis ce matin",
        "{app} : données manquantes",
    ),
    TicketType.REQUEST: (
        "Création d'un compte {app}",
        "Droits supplémentaires dans {app}",
        "Paramétrage de {app}",
        "Formation à {app}",
        "Export de données depuis {app}",
        "Question sur l'utilisation de {app}",
    ),
}
TASKS = ("Analyse", "Diagnostic", "Intervention à distance", "Échange avec l'éditeur", "Paramétrage", "Vérification")


@dataclass
class Result:
    tickets: int = 0
    deleted: int = 0
    transitions: int = 0
    tasks: int = 0
    vendor_episodes: int = 0
    months: list[tuple[str, int]] = field(default_factory=list)

    def summary(self) -> str:
        counts = [n for _m, n in self.months]
        full = counts[:-1] or counts  # the current month is partial
        peak = max(self.months, key=lambda item: item[1]) if self.months else ("-", 0)
        return (
            f"{self.tickets} tickets sur {len(self.months)} mois (moyenne {sum(full) / max(1, len(full)):.0f} "
            f"par mois complet, pic {peak[1]} en {peak[0]}), {self.transitions} changements de statut, "
            f"{self.tasks} tâches, {self.vendor_episodes} attentes de l'éditeur ; "
            f"{self.deleted} tickets de démonstration précédents remplacés"
        )


class _Clock:
    """A calendar's spec and offset table: business offsets and their inverse."""

    def __init__(self, calendar: Calendar) -> None:
        self.calendar = calendar
        self.spec: CalendarSpec = sla.calendar_spec(calendar)
        self.table: OffsetTable = calendar.offsets()

    def offset(self, instant: dt.datetime) -> int:
        return self.table.offset(instant)

    def at(self, offset: int) -> dt.datetime:
        """The first instant whose offset is `offset` (an opening hour)."""
        table = self.table
        index = max(0, bisect.bisect_right(table.before, offset) - 1)
        seconds = table.starts[index] + (offset - table.before[index])
        return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)


def _lognormal(rng: random.Random, median: float, sigma: float) -> int:
    return max(60, int(rng.lognormvariate(math.log(median), sigma)))


def month_counts(months: Sequence[Month], rng: random.Random) -> list[int]:
    mean_season = sum(SEASON.values()) / 12
    return [
        round(MONTHLY_MEAN * SEASON[m.month] / mean_season * (1 + rng.uniform(-MONTH_NOISE, MONTH_NOISE)))
        for m in months
    ]


def _arrivals(month: Month, count: int, spec: CalendarSpec, rng: random.Random) -> list[dt.datetime]:
    """Opening instants: working days (Monday busiest), working hours mostly, quiet on weekends,
    public holidays and closures."""
    days, weights = [], []
    day = dt.date(month.year, month.month, 1)
    while day.month == month.month:
        days.append(day)
        weights.append(CLOSED_DAY_WEIGHT if spec.is_closed(day) else WEEKDAY_WEIGHT[day.weekday()])
        day += dt.timedelta(days=1)
    instants = []
    for day in rng.choices(days, weights, k=count):
        intervals = spec.intervals(day)
        if intervals and rng.random() < IN_HOURS_SHARE:
            start, end = rng.choices(intervals, [1.4] + [1.0] * (len(intervals) - 1))[0]
            instant = start + dt.timedelta(seconds=rng.randrange(int((end - start).total_seconds())))
        else:
            local = dt.datetime.combine(day, dt.time(7), TZ) + dt.timedelta(seconds=rng.randrange(13 * 3600))
            instant = local
        instants.append(instant.astimezone(dt.UTC).replace(microsecond=0))
    return sorted(instants)


@dataclass
class _Context:
    members: list[Organisation]
    member_weights: list[float]
    subscribed: dict[int, list[Application]]
    app_weight: dict[int, float]
    requesters: dict[int, list[User]]
    technicians: list[User]
    matrix: dict[tuple[int, int], int]
    policies: dict[tuple[str, int, bool], SlaPolicy | None] = field(default_factory=dict)
    clocks: dict[int, _Clock] = field(default_factory=dict)
    default_calendar: Calendar | None = None

    def policy(self, ticket_type: str, priority: int, blocking: bool) -> SlaPolicy | None:
        key = (ticket_type, priority, blocking)
        if key not in self.policies:
            # The run's own instances (it sets them on the tickets it builds), read once per key.
            found = sla.policy_for(ticket_type=ticket_type, priority=priority, blocking=blocking)
            self.policies[key] = SlaPolicy.objects.select_related("calendar").get(pk=found.id) if found else None
        return self.policies[key]

    def clock(self, calendar: Calendar) -> _Clock:
        if calendar.pk not in self.clocks:
            self.clocks[calendar.pk] = _Clock(calendar)
        return self.clocks[calendar.pk]


def _context(rng: random.Random) -> _Context:
    """Members with at least one subscription, weighted by their agents — or, where the number of
    agents is unknown (the demo data set does not give it), by their number of subscribed
    applications, a proxy for their size; applications weighted by a fixed, seeded popularity."""
    subscribed: dict[int, list[Application]] = defaultdict(list)
    for subscription in (
        Subscription.objects.filter(status__in=ACTIVE_STATUSES, collectivity__in=Organisation.objects.members())
        .select_related("application__support_group")
        .order_by("collectivity_id", "application__slug")
    ):
        subscribed[subscription.collectivity_id].append(subscription.application)
    members = list(Organisation.objects.filter(pk__in=subscribed).order_by("slug"))
    weights = [float(m.agents_count or len(subscribed[m.pk])) for m in members]
    applications = sorted({a.pk: a for apps in subscribed.values() for a in apps}.values(), key=lambda a: a.slug)
    # A few applications draw most tickets (finance, HR, civil status in practice): log-normal.
    app_weight = {a.pk: rng.lognormvariate(0, 0.9) for a in applications}
    requesters: dict[int, list[User]] = defaultdict(list)
    for user in User.objects.filter(
        organisation__in=members, is_active=True, role__in=[Role.MEMBER_MANAGER, Role.MEMBER_AGENT]
    ).order_by("username"):
        requesters[user.organisation_id].append(user)  # type: ignore[index]
    technicians = list(
        User.objects.filter(role__in=OPERATOR_ROLES, is_active=True, organisation__kind="operator").order_by("username")
    )
    matrix = {(u, i): p for u, i, p in PriorityCell.objects.values_list("urgency", "impact", "priority")}
    return _Context(members, weights, subscribed, app_weight, requesters, technicians, matrix)


@dataclass
class _Event:
    at: dt.datetime
    action: str
    actor: str  # "technician", "requester", "system"
    reason: str = ""
    comment: str = ""


def _plan(ticket: Ticket, clock: _Clock, rng: random.Random) -> list[_Event]:
    """The whole life of a ticket, on business offsets, whatever `now` is."""
    opened = clock.offset(ticket.opened_at)
    tto = _lognormal(rng, *TTO[ticket.priority])
    median, sigma = TTR_BLOCKING if ticket.blocking else TTR[ticket.priority]
    ttr = min(TTR_MAX, max(tto + 300, _lognormal(rng, median, sigma)))
    events = [_Event(clock.at(opened + tto), Action.ASSIGN, "technician")]
    if rng.random() < 0.5:
        events.append(_Event(clock.at(opened + tto + rng.randrange(60, 900)), Action.TAKE, "technician"))
    work = ttr - tto
    waiting = 0
    if rng.random() < PENDING_SHARE:
        start = opened + tto + int(work * rng.uniform(0.2, 0.8))
        waiting = _lognormal(rng, *PENDING)
        reason = PendingReason.VENDOR if rng.random() < 0.4 else PendingReason.REQUESTER
        events.append(_Event(clock.at(start), Action.WAIT, "technician", reason=reason))
        resumer = "requester" if reason == PendingReason.REQUESTER else "technician"
        events.append(_Event(clock.at(start + waiting), Action.RESUME, resumer))
    if rng.random() < REASSIGN_SHARE:
        for fraction in (0.3, 0.6)[: 2 if rng.random() < REASSIGN_TWICE_SHARE / REASSIGN_SHARE else 1]:
            instant = clock.at(opened + tto + int(work * fraction))
            events.append(_Event(instant, "reassign", "technician"))
    solved = opened + ttr + waiting
    events.append(_Event(clock.at(solved), Action.SOLVE, "technician", comment="Solution apportée."))
    draw = rng.random()
    if draw < REFUSE_SHARE:
        refused = solved + _lognormal(rng, 2 * 3600, 0.8)
        events.append(_Event(clock.at(refused), Action.REFUSE, "requester", comment="Le problème persiste."))
        solved = refused + _lognormal(rng, 3 * 3600, 0.8)
        events.append(_Event(clock.at(solved), Action.SOLVE, "technician", comment="Correction complémentaire."))
    final = clock.at(solved)
    if draw > 1 - REOPEN_SHARE:
        closed = final + AUTO_CLOSE
        events.append(_Event(closed, Action.CLOSE, "system"))
        reopened = closed + dt.timedelta(seconds=rng.randrange(3600, 5 * 86400))
        events.append(_Event(reopened, Action.REOPEN, "requester", comment="Le problème est revenu."))
        final = clock.at(clock.offset(reopened) + _lognormal(rng, 4 * 3600, 0.8))
        events.append(_Event(final, Action.SOLVE, "technician", comment="Nouvelle correction."))
    if rng.random() < ACCEPT_SHARE:
        events.append(
            _Event(clock.at(clock.offset(final) + _lognormal(rng, 3 * 3600, 1.0)), Action.ACCEPT, "requester")
        )
    else:
        events.append(_Event(final + AUTO_CLOSE, Action.CLOSE, "system"))
    events.sort(key=lambda e: e.at)
    return events


def _replay(
    ticket: Ticket, events: list[_Event], clock: _Clock, now: dt.datetime, people: dict[str, Any], ctx: _Context
) -> list[tuple[Any, ...]]:
    """Apply the events up to `now` as `services._apply` does, and return the transition log as
    (instant, actor id, action, from, to, comment)."""
    logs = []
    for event in events:
        if event.at > now:
            break
        source = ticket.status
        actor = people[event.actor]
        if event.action == "reassign":
            others = [t for t in ctx.technicians if t.pk != getattr(ticket.technician, "pk", None)]
            if not others:
                continue
            if ticket.external_id is None:  # every generated ticket gets one in `_one`
                raise ValueError(f"demo ticket {ticket.pk} has no external_id")
            ticket.technician = people["technician"] = others[int(ticket.external_id[len(PREFIX) :]) % len(others)]
            ticket.reassign_count += 1
            if source in {Status.NEW, Status.IN_PROGRESS, Status.PENDING}:
                event = _Event(event.at, Action.ASSIGN, "technician")
            else:
                continue
        if ticket.status == Status.PENDING and ticket.pending_since is not None:
            ticket.waiting_seconds += clock.offset(event.at) - clock.offset(ticket.pending_since)
            ticket.pending_since, ticket.pending_reason = None, ""
            sla.refresh_due_dates(ticket, clock.spec)
        target = {
            Action.ASSIGN: Status.ASSIGNED,
            Action.TAKE: Status.IN_PROGRESS,
            Action.WAIT: Status.PENDING,
            Action.RESUME: Status.IN_PROGRESS,
            Action.SOLVE: Status.SOLVED,
            Action.REFUSE: Status.IN_PROGRESS,
            Action.ACCEPT: Status.CLOSED,
            Action.CLOSE: Status.CLOSED,
            Action.REOPEN: Status.IN_PROGRESS,
        }[Action(event.action)]
        if event.action == Action.TAKE and source != Status.ASSIGNED:
            continue
        if event.action in {Action.ASSIGN, Action.TAKE, Action.WAIT, Action.SOLVE} and ticket.taken_at is None:
            ticket.taken_at = event.at
            ticket.taken_offset = clock.offset(event.at)
            ticket.tto_breached = bool(ticket.tto_due_at and event.at > ticket.tto_due_at)
        if event.action == Action.WAIT:
            ticket.pending_since, ticket.pending_reason = event.at, event.reason
        elif event.action == Action.SOLVE:
            ticket.solved_at = event.at
            ticket.solved_offset = clock.offset(event.at)
            ticket.ttr_breached = ticket.ttr_breached or bool(ticket.ttr_due_at and event.at > ticket.ttr_due_at)
        elif event.action in {Action.ACCEPT, Action.CLOSE}:
            ticket.closed_at = event.at
        elif event.action == Action.REFUSE:
            ticket.solved_at = ticket.solved_offset = None
        elif event.action == Action.REOPEN:
            ticket.closed_at = ticket.solved_at = ticket.solved_offset = None
            ticket.reopen_count += 1
        ticket.status = target
        logs.append((event.at, actor.pk if actor else None, str(event.action), str(source), str(target), event.comment))
    return logs


def _forget(now: dt.datetime) -> int:
    """Delete the previous generation (and only it); give back its reference numbers when nothing
    was numbered after them."""
    generated = Ticket.objects.filter(external_id__startswith=PREFIX)
    last_by_year = {
        int(year): last
        for year, last in generated.annotate(year=Substr("reference", 1, 4))
        .values("year")
        .annotate(last=Max("reference"))
        .values_list("year", "last")
    }
    count = generated.count()
    ids = generated.values("pk")
    # Straight DELETEs: the collector would load every row of every related table first.
    VendorEpisode.objects.filter(ticket__in=ids)._raw_delete(VendorEpisode.objects.db)  # they point at the log
    for model in (TransitionLog, TicketTask, Followup, SlaEvent, Ticket.watchers.through):
        model.objects.filter(ticket__in=ids)._raw_delete(model.objects.db)
    Attachment.objects.filter(ticket__in=ids).delete()  # a demo user may have attached a file
    Ticket.objects.filter(linked_to__in=ids).update(linked_to=None)
    Ticket.objects.filter(merged_into__in=ids).update(merged_into=None)
    Ticket.objects.filter(external_id__startswith=PREFIX)._raw_delete(Ticket.objects.db)
    for year, last_reference in last_by_year.items():
        sequence = TicketSequence.objects.select_for_update().filter(year=year).first()
        if sequence is None or sequence.last != int(last_reference[5:]):
            continue  # something was numbered after the demo history: keep the numbers used
        remaining = Ticket.objects.filter(reference__startswith=f"{year}-").aggregate(m=Max("reference"))["m"]
        TicketSequence.objects.filter(year=year).update(last=int(remaining[5:]) if remaining else 0)
    return count


def _number(tickets: list[Ticket]) -> None:
    """References from each opening year's sequence, in opening order (as the importer does)."""
    by_year: dict[int, list[Ticket]] = defaultdict(list)
    for ticket in tickets:
        by_year[timezone.localtime(ticket.opened_at).year].append(ticket)
    for year, batch in sorted(by_year.items()):
        TicketSequence.objects.select_for_update().get_or_create(year=year)
        sequence = TicketSequence.objects.get(pk=year)
        for number, ticket in enumerate(batch, start=sequence.last + 1):
            ticket.reference = f"{year}-{number:06d}"
        TicketSequence.objects.filter(pk=year).update(last=sequence.last + len(batch))


def _stamp(model: type, stamps: list[tuple[dt.datetime, dt.datetime, int]]) -> None:
    """created_at/updated_at are auto_now(_add) and bulk_create overwrites them: set the history's
    own instants afterwards, one prepared UPDATE run."""
    table = model._meta.db_table  # type: ignore[attr-defined]
    sql = f'UPDATE "{table}" SET created_at = %s, updated_at = %s WHERE id = %s'  # noqa: S608
    field = model._meta.get_field("created_at")  # type: ignore[attr-defined]
    params = [(field.get_db_prep_save(c, connection), field.get_db_prep_save(u, connection), pk) for c, u, pk in stamps]
    with connection.cursor() as cursor:
        for start in range(0, len(params), 20_000):
            cursor.executemany(sql, params[start : start + 20_000])


def _insert(model: type, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """Rows of a child table in one prepared INSERT run (executemany): tens of thousands of log
    rows through bulk_create spend seconds compiling SQL and building model instances."""
    meta = model._meta  # type: ignore[attr-defined]
    fields = [meta.get_field(name.removesuffix("_id")) for name in columns]
    dated = [i for i, f in enumerate(fields) if f.get_internal_type() in {"DateTimeField", "DateField"}]
    names = ", ".join(f'"{f.column}"' for f in fields)
    sql = f'INSERT INTO "{meta.db_table}" ({names}) VALUES ({", ".join(["%s"] * len(fields))})'  # noqa: S608
    params = []
    for row in rows:
        values = list(row)
        for i in dated:
            values[i] = fields[i].get_db_prep_save(values[i], connection)
        params.append(values)
    with connection.cursor() as cursor:
        for start in range(0, len(params), 20_000):
            cursor.executemany(sql, params[start : start + 20_000])


BATCH = 2000


def generate(*, months: int, seed: int, now: dt.datetime | None = None, actor: User | None = None) -> Result:
    """Replace the generated history with `months` months ending with the current one."""
    if months < 1:
        raise ValueError("--months doit être au moins 1")
    now = (now or timezone.now()).replace(microsecond=0)
    rng = random.Random(seed)
    local = timezone.localtime(now, TZ)
    last = Month(local.year, local.month)
    span = [last]
    while len(span) < months:
        previous = span[-1]
        span.append(Month(previous.year - (previous.month == 1), (previous.month - 2) % 12 + 1))
    span.reverse()
    result = Result()
    with transaction.atomic():
        result.deleted = _forget(now)
        ctx = _context(rng)
        if not ctx.members:
            return result
        default_calendar = sla.default_calendar()
        counts = month_counts(span, rng)
        tickets: list[Ticket] = []
        lives: list[tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]] = []
        default_spec = ctx.clock(default_calendar).spec
        for month, count in zip(span, counts, strict=True):
            arrivals = [t for t in _arrivals(month, count, default_spec, rng) if t <= now]
            result.months.append((str(month), len(arrivals)))
            for opened_at in arrivals:
                ticket, logs, tasks = _one(ctx, rng, opened_at, now, default_calendar, len(tickets))
                tickets.append(ticket)
                lives.append((logs, tasks))
        _number(tickets)
        Ticket.objects.bulk_create(tickets, batch_size=BATCH)
        _stamp(Ticket, [(t.opened_at, t.closed_at or t.solved_at or t.taken_at or t.opened_at, t.pk) for t in tickets])
        log_rows, task_rows, solution_rows = [], [], []
        for ticket, (logs, tasks) in zip(tickets, lives, strict=True):
            log_rows += [(ticket.pk, *log) for log in logs]
            solution_rows += [
                (at, at, ticket.pk, actor, comment, False, True, Source.WEB)
                for at, actor, action, _s, _t, comment in logs
                if action == Action.SOLVE
            ]
            task_rows += [(at, at, ticket.pk, *task) for at, *task in tasks]
        _insert(
            TransitionLog,
            ("ticket_id", "created_at", "actor_id", "action", "from_status", "to_status", "comment"),
            log_rows,
        )
        _insert(
            Followup,
            ("created_at", "updated_at", "ticket_id", "author_id", "body", "is_private", "is_solution", "source"),
            solution_rows,
        )
        _insert(
            TicketTask,
            (
                "created_at",
                "updated_at",
                "ticket_id",
                "author_id",
                "description",
                "duration_seconds",
                "done_on",
                "is_private",
            ),
            task_rows,
        )
        # The alerts the periodic escalation would have recorded on the tickets still open: the
        # « menacé » queue (warned at 75 %) shows them as it would in production.
        event_rows = [
            row
            for ticket in tickets
            if ticket.status in OPEN_STATUSES and ticket.policy is not None
            for row in _sla_events(ticket, ctx.clock(ticket.calendar).spec, now)
        ]
        _insert(SlaEvent, ("ticket_id", "clock", "percent", "created_at"), event_rows)
        result.vendor_episodes = ola_demo.record_generated_episodes(PREFIX)
        logs_count = len(log_rows)
        result.tickets, result.transitions, result.tasks = len(tickets), logs_count, len(task_rows)
        audit_record(
            actor=actor,
            action=AuditAction.IMPORT,
            object_repr=f"historique de démonstration de l'assistance ({months} mois, graine {seed})",
            changes={
                "tickets": [result.deleted, result.tickets],
                "transitions": [None, result.transitions],
                "tasks": [None, result.tasks],
            },
            via="cli",
        )
    return result


def _sla_events(ticket: Ticket, spec: CalendarSpec, now: dt.datetime) -> list[tuple[Any, ...]]:
    """(ticket, clock, level, instant) of each level an open ticket's clocks have crossed by `now`,
    as `services.sla_escalate` records them (the instant: when the budget's share ran out)."""
    assert ticket.policy is not None
    rows = []
    for clock, budget in ((Clock.TTO, ticket.tto_budget_s), (Clock.TTR, ticket.ttr_budget_s)):
        if not budget or (clock == Clock.TTO and ticket.taken_at is not None):
            continue
        elapsed = sla.clock_elapsed(ticket, spec, clock, now)
        waiting = ticket.waiting_seconds if clock == Clock.TTR else 0
        for level in ticket.policy.levels():
            if 100 * elapsed >= level * budget:
                crossed = add_business_seconds(spec, ticket.opened_at, budget * level // 100 + waiting)
                rows.append((ticket.pk, str(clock), level, min(crossed, now)))
    return rows


def _one(
    ctx: _Context, rng: random.Random, opened_at: dt.datetime, now: dt.datetime, default_calendar: Calendar, n: int
) -> tuple[Ticket, list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    member = rng.choices(ctx.members, ctx.member_weights)[0]
    apps = ctx.subscribed[member.pk]
    application = rng.choices(apps, [ctx.app_weight[a.pk] for a in apps])[0]
    ticket_type = TicketType.INCIDENT if rng.random() < INCIDENT_SHARE else TicketType.REQUEST
    urgency = rng.choices(range(1, 6), URGENCY[ticket_type])[0]
    impact = rng.choices(range(1, 6), IMPACT[ticket_type])[0]
    priority = ctx.matrix.get((urgency, impact), round((urgency + impact) / 2))
    blocking = ticket_type == TicketType.INCIDENT and urgency >= 4 and rng.random() < BLOCKING_SHARE
    policy = ctx.policy(ticket_type, priority, blocking)
    calendar = policy.calendar if policy else default_calendar
    clock = ctx.clock(calendar)
    requesters: Sequence[User | None] = ctx.requesters.get(member.pk) or [None]
    requester = rng.choice(requesters)
    technician = rng.choice(ctx.technicians) if ctx.technicians else None
    ticket = Ticket(
        external_id=f"{PREFIX}{n + 1:06d}",
        ticket_type=ticket_type,
        source=rng.choices([source for source, _ in SOURCES], [weight for _, weight in SOURCES])[0],
        collectivity=member,
        requester=requester,
        application=application,
        title=rng.choice(TITLES[ticket_type]).format(app=application.name)[:250],
        description="Ticket de l'historique de démonstration.",
        urgency=urgency,
        impact=impact,
        priority=priority,
        blocking=blocking,
        group=application.support_group or (technician.service if technician else None),
        technician=None,
        policy=policy,
        calendar=calendar,
        opened_at=opened_at,
        status=Status.NEW,
    )
    ticket.opened_offset = clock.offset(opened_at)
    if policy is not None:
        ticket.tto_budget_s = sla.budget_seconds(clock.spec, opened_at, policy.tto_value, policy.tto_unit)
        ticket.ttr_budget_s = sla.budget_seconds(clock.spec, opened_at, policy.ttr_value, policy.ttr_unit)
        sla.refresh_due_dates(ticket, clock.spec)
    events = _plan(ticket, clock, rng)
    ticket.technician = technician if events[0].at <= now else None
    people = {"technician": technician, "requester": requester, "system": None}
    logs = _replay(ticket, events, clock, now, people, ctx)
    if ticket.status not in {Status.SOLVED, Status.CLOSED} and ticket.policy is not None:
        # What the periodic escalation (sla_escalate) would have marked by now.
        if ticket.taken_at is None and ticket.tto_due_at and now > ticket.tto_due_at:
            ticket.tto_breached = True
        if ticket.pending_since is None and ticket.ttr_due_at and now > ticket.ttr_due_at:
            ticket.ttr_breached = True
    survey_limit = dt.timedelta(days=settings.HELPDESK_SURVEY_DAYS)
    if ticket.closed_at is not None and rng.random() < SURVEY_SHARE:
        answered = ticket.closed_at + dt.timedelta(seconds=rng.randrange(600, 3 * 86400))
        if answered <= now and answered - ticket.closed_at <= survey_limit:
            ticket.satisfaction = rng.choices(*zip(*SURVEY, strict=True))[0]
            ticket.satisfaction_at = answered
    tasks = []
    if ticket.taken_at is not None and ticket.technician is not None:
        end = ticket.solved_at or ticket.closed_at or now
        for _ in range(rng.choices((1, 2, 3), (60, 30, 10))[0]):
            instant = ticket.taken_at + (end - ticket.taken_at) * rng.random()
            minutes = min(240, max(5, round(_lognormal(rng, 25 * 60, 0.8) / 300) * 5))
            # (instant, author, description, seconds, day, private), as task_add writes it
            day = timezone.localtime(instant, TZ).date()
            tasks.append((instant, ticket.technician.pk, rng.choice(TASKS), minutes * 60, day, True))
    return ticket, logs, tasks
