"""Import of a ticket history exported from GLPI (CSV): validated whole, then written whole.

Every row is checked first and every problem is collected (line, column, reason); anything
rejected means nothing is written. Otherwise the tickets are inserted or updated (by external id,
so a second import updates) in one transaction with bulk writes, one audit entry for the whole
file, and no notification: history is not news."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connections, router, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from mutualis.accounts.models import OPERATOR_ROLES, User
from mutualis.catalog.models import Application, SubscriptionStatus
from mutualis.catalog.selectors import TICKET_STATUSES, subscription_pairs
from mutualis.core.audit import audit_record
from mutualis.core.models import AuditAction
from mutualis.helpdesk import sla
from mutualis.helpdesk.enums import Source, Status, TicketType
from mutualis.helpdesk.models import PriorityCell, Ticket, TicketSequence
from mutualis.members.models import OperatorService, Organisation

COLUMNS = (
    "external_id",
    "title",
    "type",
    "status",
    "urgency",
    "impact",
    "priority",
    "application",
    "collectivity",
    "requester",
    "group",
    "technician",
    "opened_at",
    "taken_at",
    "solved_at",
    "closed_at",
    "waiting_seconds",
    "satisfaction",
)
REQUIRED = ("external_id", "title", "type", "status", "collectivity", "opened_at")
PARIS = ZoneInfo("Europe/Paris")
BATCH = 500
# The fields an import writes on a ticket it already holds (reference and description are kept).
UPDATED_FIELDS = (
    "title",
    "ticket_type",
    "status",
    "urgency",
    "impact",
    "priority",
    "application",
    "collectivity",
    "requester",
    "group",
    "technician",
    "opened_at",
    "taken_at",
    "solved_at",
    "closed_at",
    "waiting_seconds",
    "satisfaction",
    "satisfaction_at",
    "policy",
    "calendar",
    "tto_budget_s",
    "ttr_budget_s",
    "tto_due_at",
    "ttr_due_at",
    "tto_breached",
    "ttr_breached",
    "opened_offset",
    "taken_offset",
    "solved_offset",
    "updated_at",
)


class ImportRejected(Exception):
    """The file was refused; `errors` says why, one line each. Nothing was written."""

    def __init__(self, errors: list[str], result: ImportResult) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors
        self.result = result


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    rejected: int = 0
    dry_run: bool = False
    references: list[str] = field(default_factory=list)

    def summary(self) -> str:
        line = _("%(created)d créé(s), %(updated)d mis à jour, %(rejected)d rejeté(s)") % {
            "created": self.created,
            "updated": self.updated,
            "rejected": self.rejected,
        }
        return line + " (" + _("simulation : rien n’a été écrit") + ")" if self.dry_run else line


@dataclass
class _Row:
    line: int
    external_id: str
    values: dict[str, Any]


class _Lookup:
    """Names, slugs, codes, usernames and mails resolved from a few queries loaded once."""

    def __init__(self) -> None:
        self.applications = _index(
            Application.objects.only("id", "slug", "name"), lambda a: [a.slug], lambda a: [a.name]
        )
        self.collectivities = _index(
            Organisation.objects.collectivities().only("id", "slug", "name", "insee_code", "kind"),
            lambda o: [o.slug],
            lambda o: [o.insee_code, o.name],
        )
        self.groups = _index(OperatorService.objects.only("id", "slug", "name"), lambda s: [s.slug], lambda s: [s.name])
        self.users = _index(
            User.objects.only("id", "username", "email", "organisation_id", "role", "is_superuser"),
            lambda u: [u.username],
            lambda u: [u.email],
        )
        # History may name an application the member has since withdrawn, never one it never had.
        self.subscriptions = subscription_pairs(statuses=[*TICKET_STATUSES, SubscriptionStatus.WITHDRAWN])


def _index(objects: Iterable[Any], exact: Any, loose: Any) -> tuple[dict[str, Any], dict[str, list[Any]]]:
    """Two maps: exact keys (slug, username: unique) and case-insensitive others (may collide)."""
    first: dict[str, Any] = {}
    second: dict[str, list[Any]] = defaultdict(list)
    for obj in objects:
        for key in exact(obj):
            if key:
                first[key] = obj
        for key in loose(obj):
            if key:
                second[key.strip().casefold()].append(obj)
    return first, second


def _find(index: tuple[dict[str, Any], dict[str, list[Any]]], value: str) -> tuple[Any | None, int]:
    """The object named by `value` and how many objects matched (0: unknown, >1: ambiguous)."""
    exact, loose = index
    if value in exact:
        return exact[value], 1
    matches = loose.get(value.casefold(), [])
    return (matches[0] if len(matches) == 1 else None), len(matches)


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    """CSV records with the line each starts on (a quoted cell may span lines)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    previous = 0
    for record in reader:
        yield previous + 1, record
        previous = reader.line_num


def _parse_datetime(value: str) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=PARIS)
    return parsed


def _check_header(header: list[str]) -> list[str]:
    names = [name.strip() for name in header]
    missing = [name for name in COLUMNS if name not in names]
    unknown = [name for name in names if name not in COLUMNS]
    errors = []
    if missing:
        errors.append(_("en-tête : colonne(s) manquante(s) : %(names)s") % {"names": ", ".join(missing)})
    if unknown:
        errors.append(_("en-tête : colonne(s) inconnue(s) : %(names)s") % {"names": ", ".join(unknown)})
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        errors.append(_("en-tête : colonne(s) en double : %(names)s") % {"names": ", ".join(duplicated)})
    if not errors and names != list(COLUMNS):
        errors.append(
            _("en-tête : les colonnes doivent être dans cet ordre : %(names)s") % {"names": ",".join(COLUMNS)}
        )
    return errors


class _RowChecker:
    def __init__(self, lookup: _Lookup, matrix: dict[tuple[int, int], int]) -> None:
        self.lookup = lookup
        self.matrix = matrix
        self.errors: list[str] = []
        self._line = 0

    def error(self, column: str, reason: str) -> None:
        self.errors.append(
            _("ligne %(line)d, colonne %(column)s : %(reason)s")
            % {"line": self._line, "column": column, "reason": reason}
        )

    def check(self, line: int, cells: dict[str, str]) -> dict[str, Any] | None:
        self._line = line
        before = len(self.errors)
        for name in REQUIRED:
            if not cells[name]:
                self.error(name, _("valeur obligatoire"))
        values: dict[str, Any] = {"external_id": cells["external_id"], "title": cells["title"][:250]}
        if len(cells["external_id"]) > 64:
            self.error("external_id", _("64 caractères au plus"))
        if cells["type"] and cells["type"] not in TicketType.values:
            self.error("type", _("type inconnu « %(value)s » (incident ou request)") % {"value": cells["type"]})
        values["ticket_type"] = cells["type"]
        if cells["status"] and cells["status"] not in Status.values:
            self.error(
                "status",
                _("statut inconnu « %(value)s » (%(allowed)s)")
                % {"value": cells["status"], "allowed": ", ".join(Status.values)},
            )
        values["status"] = cells["status"]
        for name in ("urgency", "impact", "priority", "satisfaction"):
            values[name] = self._scale(name, cells[name])
        values["urgency"] = values["urgency"] or 3
        values["impact"] = values["impact"] or 3
        if values["priority"] is None:
            urgency, impact = values["urgency"], values["impact"]
            values["priority"] = self.matrix.get((urgency, impact), round((urgency + impact) / 2))
        values["waiting_seconds"] = 0
        if cells["waiting_seconds"]:
            try:
                values["waiting_seconds"] = int(cells["waiting_seconds"])
                if values["waiting_seconds"] < 0:
                    raise ValueError
            except ValueError:
                self.error(
                    "waiting_seconds",
                    _("« %(value)s » n'est pas un nombre de secondes positif") % {"value": cells["waiting_seconds"]},
                )
        values["application"] = self._ref(
            "application", cells["application"], self.lookup.applications, _("application inconnue « %(value)s »")
        )
        collectivity = self._ref(
            "collectivity",
            cells["collectivity"],
            self.lookup.collectivities,
            _("collectivité inconnue « %(value)s » (identifiant, nom ou code INSEE d'un adhérent)"),
        )
        values["collectivity"] = collectivity
        application = values["application"]
        pair = (collectivity.pk if collectivity else None, application.pk if application else None)
        if None not in pair and pair not in self.lookup.subscriptions:
            self.error(
                "application",
                _("%(org)s n'est pas abonnée à l'application « %(app)s »")
                % {"org": collectivity.name, "app": application.name},
            )
        values["group"] = self._ref(
            "group", cells["group"], self.lookup.groups, _("groupe inconnu « %(value)s » (service de l'opérateur)")
        )
        values["technician"] = self._ref(
            "technician", cells["technician"], self.lookup.users, _("compte inconnu « %(value)s »")
        )
        technician = values["technician"]
        if technician is not None and not (technician.is_superuser or technician.role in OPERATOR_ROLES):
            self.error(
                "technician", _("« %(value)s » n'est pas un agent de l'opérateur") % {"value": cells["technician"]}
            )
        # An unknown requester (an agent who left, a deleted account) is allowed: the ticket has none.
        requester, count = _find(self.lookup.users, cells["requester"]) if cells["requester"] else (None, 0)
        if count > 1:
            self.error("requester", _("« %(value)s » désigne plusieurs comptes") % {"value": cells["requester"]})
        if requester is not None and collectivity is not None and requester.organisation_id != collectivity.pk:
            self.error(
                "requester",
                _("le demandeur « %(value)s » n'appartient pas à %(org)s")
                % {"value": cells["requester"], "org": collectivity.name},
            )
        values["requester"] = requester
        for name in ("opened_at", "taken_at", "solved_at", "closed_at"):
            values[name] = self._date(name, cells[name])
        opened, taken, solved, closed = (values[n] for n in ("opened_at", "taken_at", "solved_at", "closed_at"))
        if opened and taken and taken < opened:
            self.error("taken_at", _("la prise en compte précède l'ouverture"))
        if opened and solved and solved < opened:
            self.error("solved_at", _("la date de résolution précède la date d'ouverture"))
        if solved and closed and closed < solved:
            self.error("closed_at", _("la date de clôture précède la date de résolution"))
        elif opened and closed and closed < opened:
            self.error("closed_at", _("la date de clôture précède la date d'ouverture"))
        return values if len(self.errors) == before else None

    def _scale(self, name: str, value: str) -> int | None:
        if not value:
            return None
        try:
            number = int(value)
        except ValueError:
            number = 0
        if not 1 <= number <= 5:
            self.error(name, _("« %(value)s » : un entier de 1 à 5 attendu") % {"value": value})
            return None
        return number

    def _ref(self, column: str, value: str, index: Any, unknown: str) -> Any:
        if not value:
            return None
        obj, count = _find(index, value)
        if count == 0:
            self.error(column, unknown % {"value": value})
        elif count > 1:
            self.error(
                column, _("« %(value)s » est ambigu : %(count)d correspondances") % {"value": value, "count": count}
            )
        return obj

    def _date(self, column: str, value: str) -> dt.datetime | None:
        if not value:
            return None
        try:
            return _parse_datetime(value)
        except ValueError:
            self.error(
                column,
                _("date illisible « %(value)s » (ISO 8601 attendu, par exemple 2024-03-05 14:30:00)")
                % {"value": value},
            )
            return None


def validate(text: str) -> tuple[list[_Row], list[str], int]:
    """The rows ready to write, the errors, and how many rows were rejected."""
    records = _records(text)
    try:
        _line, header = next(records)
    except StopIteration:
        return [], [_("fichier vide : l'en-tête est attendu sur la première ligne")], 0
    if header and header[0].startswith("\ufeff"):
        header[0] = header[0][1:]
    errors = _check_header(header)
    if errors:
        return [], errors, 0
    checker = _RowChecker(_Lookup(), dict(_matrix()))
    rows: list[_Row] = []
    seen: dict[str, int] = {}
    rejected = 0
    for line, record in records:
        if not any(cell.strip() for cell in record):
            continue
        if len(record) != len(COLUMNS):
            checker.errors.append(
                _("ligne %(line)d : %(count)d cellule(s) pour %(expected)d colonnes")
                % {"line": line, "count": len(record), "expected": len(COLUMNS)}
            )
            rejected += 1
            continue
        cells = {name: cell.strip() for name, cell in zip(COLUMNS, record, strict=True)}
        values = checker.check(line, cells)
        external_id = cells["external_id"]
        if external_id and external_id in seen:
            checker._line = line
            checker.error(
                "external_id",
                _("l'identifiant « %(value)s » figure déjà ligne %(first)d")
                % {"value": external_id, "first": seen[external_id]},
            )
            values = None
        elif external_id:
            seen[external_id] = line
        if values is None:
            rejected += 1
        else:
            rows.append(_Row(line, external_id, values))
    return rows, checker.errors, rejected


def _matrix() -> Iterable[tuple[tuple[int, int], int]]:
    for urgency, impact, priority in PriorityCell.objects.values_list("urgency", "impact", "priority"):
        yield (urgency, impact), priority


class _Levels:
    """The service-level policy and its calendar per (type, priority), looked up once each in the
    cached configuration (sla.sla_config)."""

    def __init__(self) -> None:
        self.policies: dict[tuple[str, int], sla.PolicyRef | None] = {}
        self.config = sla.sla_config()

    def apply(self, ticket: Ticket) -> None:
        key = (ticket.ticket_type, ticket.priority)
        if key not in self.policies:
            # History carries no "blocking" flag: only the general policies apply.
            self.policies[key] = sla.policy_for(ticket_type=key[0], priority=key[1], blocking=False)
        policy = self.policies[key]
        config = self.config
        calendar = config.calendar(policy.calendar_id if policy else config.default_calendar_id)
        assert calendar is not None  # the configuration holds the default and every active policy's calendar
        ticket.policy_id = policy.id if policy else None
        ticket.calendar_id = calendar.id
        ticket.tto_budget_s = ticket.ttr_budget_s = ticket.tto_due_at = ticket.ttr_due_at = None
        ticket.tto_breached = ticket.ttr_breached = False
        # The indicators subtract these cumulative business seconds (mutualis.lib.business_offsets).
        table = calendar.offsets()
        ticket.opened_offset = table.offset(ticket.opened_at)
        ticket.taken_offset = table.offset(ticket.taken_at) if ticket.taken_at else None
        ticket.solved_offset = table.offset(ticket.solved_at) if ticket.solved_at else None
        if policy is None:
            return
        spec = calendar.spec
        ticket.tto_budget_s = sla.budget_seconds(spec, ticket.opened_at, policy.tto_value, policy.tto_unit)
        ticket.ttr_budget_s = sla.budget_seconds(spec, ticket.opened_at, policy.ttr_value, policy.ttr_unit)
        sla.refresh_due_dates(ticket, spec)
        ticket.tto_breached = bool(ticket.tto_due_at and ticket.taken_at and ticket.taken_at > ticket.tto_due_at)
        ticket.ttr_breached = bool(ticket.ttr_due_at and ticket.solved_at and ticket.solved_at > ticket.ttr_due_at)


def _fill(ticket: Ticket, values: dict[str, Any], levels: _Levels, now: dt.datetime) -> None:
    for name, value in values.items():
        setattr(ticket, name, value)
    ticket.satisfaction_at = (
        (values["closed_at"] or values["solved_at"] or values["opened_at"]) if values["satisfaction"] else None
    )
    ticket.updated_at = now
    levels.apply(ticket)


def ticket_import(*, actor: User | None, content: bytes, source: str = "", dry_run: bool = False) -> ImportResult:
    """Validate the whole file, then (unless `dry_run`) create or update every ticket in one
    transaction. Raises ImportRejected, writing nothing, when any row is refused."""
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as error:
        line = content[: error.start].count(b"\n") + 1
        raise ImportRejected(
            [_("ligne %(line)d : le fichier n'est pas en UTF-8") % {"line": line}], ImportResult(dry_run=dry_run)
        ) from None
    rows, errors, rejected = validate(text)
    if errors:
        raise ImportRejected(errors, ImportResult(rejected=rejected, dry_run=dry_run))
    existing: dict[str, Ticket] = {}
    ids = [row.external_id for row in rows]
    for start in range(0, len(ids), BATCH):
        for ticket in Ticket.objects.filter(external_id__in=ids[start : start + BATCH]).only("id", "external_id"):
            existing[ticket.external_id] = ticket  # type: ignore[index]
    result = ImportResult(
        created=sum(row.external_id not in existing for row in rows),
        updated=sum(row.external_id in existing for row in rows),
        dry_run=dry_run,
    )
    if dry_run:
        return result
    now = timezone.now()
    levels = _Levels()
    with transaction.atomic():
        fresh: list[Ticket] = []
        changed: list[Ticket] = []
        for row in rows:
            found = existing.get(row.external_id)
            if found is None:
                ticket = Ticket(
                    external_id=row.external_id,
                    source=Source.IMPORT,
                    description=_("Ticket importé (identifiant d'origine %(id)s).") % {"id": row.external_id},
                )
                fresh.append(ticket)
            else:
                ticket = found
                changed.append(ticket)
            _fill(ticket, row.values, levels, now)
        _number(fresh)
        Ticket.objects.bulk_create(fresh, batch_size=BATCH)
        _update(changed, UPDATED_FIELDS)
        audit_record(
            actor=actor,
            action=AuditAction.IMPORT,
            object_repr=f"tickets {source}".strip(),
            changes={"created": [None, result.created], "updated": [None, result.updated], "file": [None, source]},
            via="import",
        )
    result.references = [ticket.reference for ticket in fresh]
    return result


def _update(tickets: list[Ticket], fields: Iterable[str]) -> None:
    """One prepared UPDATE run for every ticket (executemany). Django's bulk_update writes a CASE
    per field and row, which takes minutes on 100,000 rows; this takes seconds."""
    if not tickets:
        return
    connection = connections[router.db_for_write(Ticket)]
    meta = Ticket._meta
    columns = [meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    # Identifiers only come from the model's metadata, quoted; every value is a parameter.
    sql = "UPDATE {} SET {} WHERE {} = %s".format(  # noqa: S608
        quote(meta.db_table),
        ", ".join(f"{quote(str(column.column))} = %s" for column in columns),  # type: ignore[union-attr]
        quote(str(meta.pk.column)),
    )
    params = [
        [column.get_db_prep_save(getattr(ticket, column.attname), connection) for column in columns]  # type: ignore[union-attr]
        + [ticket.pk]
        for ticket in tickets
    ]
    with connection.cursor() as cursor:
        for start in range(0, len(params), 10 * BATCH):
            cursor.executemany(sql, params[start : start + 10 * BATCH])


def _number(tickets: list[Ticket]) -> None:
    """References from each opening year's sequence, in opening order (one lock per year)."""
    by_year: dict[int, list[Ticket]] = defaultdict(list)
    for ticket in tickets:
        by_year[timezone.localtime(ticket.opened_at).year].append(ticket)
    for year, batch in sorted(by_year.items()):
        batch.sort(key=lambda t: t.opened_at)
        TicketSequence.objects.select_for_update().get_or_create(year=year)
        TicketSequence.objects.filter(pk=year).update(last=F("last") + len(batch))
        last = TicketSequence.objects.values_list("last", flat=True).get(pk=year)
        for number, ticket in enumerate(batch, start=last - len(batch) + 1):
            ticket.reference = f"{year}-{number:06d}"
