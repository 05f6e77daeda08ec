"""`glpi_import`: the helpdesk history read from GLPI's database, ticket by ticket with everything
it carries, page by page.

A page of GLPI tickets (in date_mod order) is read with all its rows (actors, groups, followups,
tasks, solutions, satisfaction, links, documents); each ticket's rows are hashed together (the
fingerprint): a ticket already imported with the same fingerprint is skipped, a changed one is
rewritten — unless someone has worked on it in Mutualis since (taken over: listed, never
overwritten). A page is written in one transaction that also moves the checkpoint, so an
interrupted run resumes at the next page with nothing half-written. Bulk writes only: tickets
through bulk_create (their references come from the yearly sequence), followups, tasks,
attachments and records through core.bulk.insert_rows (COPY on PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import mimetypes
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, models, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from mutualis.core.bulk import insert_rows
from mutualis.glpi import html
from mutualis.glpi.directory import Directory, load_directory
from mutualis.glpi.figures import ticket_figures, ticket_waiting
from mutualis.glpi.mapping import Mapping
from mutualis.glpi.models import Checkpoint, ImportRecord
from mutualis.glpi.report import Report
from mutualis.glpi.source import Row, Source
from mutualis.helpdesk import sla
from mutualis.helpdesk.enums import OPEN_STATUSES, Clock, DurationUnit, PendingReason, Status, TicketType
from mutualis.helpdesk.enums import Source as TicketSource
from mutualis.helpdesk.importer import _number, _update
from mutualis.helpdesk.models import Attachment, Followup, SlaEvent, SlaPolicy, Ticket, TicketTask, TransitionLog
from mutualis.lib.business_offsets import OffsetTable
from mutualis.lib.business_time import CalendarSpec, add_business_days, add_business_seconds

TICKETS = "glpi_tickets"
# The rows of a ticket kept as records (so a rewrite finds what the import wrote before).
FOLLOWUPS, TASKS, SOLUTIONS, DOCUMENTS = (
    "glpi_itilfollowups",
    "glpi_tickettasks",
    "glpi_itilsolutions",
    "glpi_documents_items",
)
APPROVALS = "glpi_itilsolutions.approval"  # the followup saying who accepted or refused a solution
OVERLAP = dt.timedelta(hours=1)  # re-read before the checkpoint: rows GLPI wrote in the same second
STATUSES = {
    1: Status.NEW,
    2: Status.ASSIGNED,
    3: Status.IN_PROGRESS,  # "planned": a task is scheduled, the work has started
    4: Status.PENDING,
    5: Status.SOLVED,
    6: Status.CLOSED,
}
TYPES = {1: TicketType.INCIDENT, 2: TicketType.REQUEST}
# GLPI ticket columns read; optional ones (GLPI 9.5 has no takeintoaccountdate) read as NULL.
TICKET_COLUMNS = (
    "id", "entities_id", "name", "date", "closedate", "solvedate", "takeintoaccountdate", "date_mod", "status",
    "users_id_recipient", "content", "urgency", "impact", "priority", "itilcategories_id", "type",
    "time_to_resolve", "time_to_own", "begin_waiting_date", "sla_waiting_duration", "waiting_duration",
    "close_delay_stat", "solve_delay_stat", "takeintoaccount_delay_stat", "actiontime", "is_deleted",
)  # fmt: skip
OPTIONAL = {"takeintoaccountdate", "time_to_own", "time_to_resolve", "begin_waiting_date"}
# The Ticket fields a rewrite sets (reference, external id and creation stay).
REWRITTEN = (
    "title", "description", "ticket_type", "status", "urgency", "impact", "priority", "collectivity", "requester",
    "application", "category", "group", "technician", "opened_at", "taken_at", "solved_at", "closed_at",
    "pending_since", "pending_reason", "waiting_seconds", "satisfaction", "satisfaction_comment", "satisfaction_at",
    "reopen_count", "policy", "calendar", "tto_budget_s", "ttr_budget_s", "tto_due_at", "ttr_due_at",
    "tto_breached", "ttr_breached", "opened_offset", "taken_offset", "solved_offset", "updated_at",
)  # fmt: skip


@dataclass
class Options:
    batch_size: int = 1000
    documents_dir: Path | None = None
    dry_run: bool = False


@dataclass
class Bundle:
    """A GLPI ticket with every row the import reads for it."""

    row: Row
    actors: list[Row]
    groups: list[Row]
    followups: list[Row]
    tasks: list[Row]
    solutions: list[Row]
    satisfaction: Row | None
    links: list[Row]
    documents: list[tuple[Row, int | None]]  # (document, GLPI followup id or None)

    def fingerprint(self) -> str:
        parts = [
            self.row,
            self.actors,
            self.groups,
            self.followups,
            self.tasks,
            self.solutions,
            self.satisfaction,
            self.links,
            [(doc, followup) for doc, followup in self.documents],
        ]
        return hashlib.sha1(repr(parts).encode(), usedforsecurity=False).hexdigest()


def _rows_fingerprint(row: Row) -> str:
    """SHA-1 of a GLPI row's columns (in the SELECT's order, so the same row gives the same text)."""
    return hashlib.sha1(repr(row).encode(), usedforsecurity=False).hexdigest()


class Importer:
    def __init__(
        self,
        source: Source,
        mapping: Mapping,
        options: Options,
        *,
        progress: Callable[[str, int, int], None] | None = None,
    ) -> None:
        self.source = source
        self.mapping = mapping
        self.options = options
        self.progress = progress or (lambda _table, _done, _total: None)
        self.directory: Directory = load_directory(source, mapping)
        self.report = Report(directory=self.directory, timezones=source.timezones, version=source.version)
        self.sla_config = sla.sla_config()
        self.policies: dict[tuple[str, int], sla.PolicyRef | None] = {}
        self.escalation: dict[int, list[int]] | None = None  # policy id → its alert levels (%)
        self.ticket_columns = self._ticket_columns()
        self.stored_files: dict[str, str | None] = {}  # GLPI filepath → storage name (None: unusable)
        self.document_names: dict[int, str] = {}
        self.watchers: dict[int, list[int]] = {}
        self.extras: dict[int, dict[str, Any]] = {}

    def _ticket_columns(self) -> str:
        present = {
            r["name"]
            for r in self.source.rows(
                "SELECT COLUMN_NAME AS name FROM information_schema.COLUMNS"
                " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'glpi_tickets'"
            )
        }
        return ", ".join(c if c in present or c not in OPTIONAL else f"NULL AS {c}" for c in TICKET_COLUMNS)

    # -- reading ------------------------------------------------------------------------------

    def bundles(self, tickets: list[Row]) -> list[Bundle]:
        """Every row of these tickets, read in one query per table."""
        ids = [t["id"] for t in tickets]
        src = self.source
        by: dict[str, dict[int, list[Row]]] = {}

        def group(table: str, rows: Iterable[Row], key: str) -> None:
            grouped: dict[int, list[Row]] = defaultdict(list)
            for row in rows:
                grouped[row[key]].append(row)
            by[table] = grouped

        group(
            "actors",
            src.rows_in(
                "SELECT id, tickets_id, users_id, type, alternative_email FROM glpi_tickets_users"
                " WHERE tickets_id IN %s ORDER BY id",
                ids,
            ),
            "tickets_id",
        )
        group(
            "groups",
            src.rows_in(
                "SELECT id, tickets_id, groups_id, type FROM glpi_groups_tickets WHERE tickets_id IN %s ORDER BY id",
                ids,
            ),
            "tickets_id",
        )
        # itemtype = 'Ticket' always: a Problem's or a Change's followups share items_id with tickets.
        followups = src.rows_in(
            "SELECT id, items_id, date, users_id, content, is_private, date_mod FROM glpi_itilfollowups"
            " WHERE itemtype = 'Ticket' AND items_id IN %s ORDER BY date, id",
            ids,
        )
        group("followups", followups, "items_id")
        group(
            "tasks",
            src.rows_in(
                "SELECT id, tickets_id, date, begin, users_id, users_id_tech, content, is_private, actiontime, date_mod"
                " FROM glpi_tickettasks WHERE tickets_id IN %s ORDER BY date, id",
                ids,
            ),
            "tickets_id",
        )
        group(
            "solutions",
            src.rows_in(
                "SELECT id, items_id, content, date_creation, date_mod, date_approval, users_id, user_name,"
                " users_id_approval, user_name_approval, status FROM glpi_itilsolutions"
                " WHERE itemtype = 'Ticket' AND items_id IN %s ORDER BY date_creation, id",
                ids,
            ),
            "items_id",
        )
        group(
            "satisfaction",
            src.rows_in(
                "SELECT id, tickets_id, date_answered, satisfaction, comment FROM glpi_ticketsatisfactions"
                " WHERE tickets_id IN %s",
                ids,
            ),
            "tickets_id",
        )
        links = self._links(ids)
        followup_ticket = {f["id"]: f["items_id"] for f in followups}
        items = src.rows_in(
            "SELECT id, documents_id, items_id, itemtype, date_creation, users_id FROM glpi_documents_items"
            " WHERE itemtype = 'Ticket' AND items_id IN %s ORDER BY id",
            ids,
        )
        if followup_ticket:
            items += src.rows_in(
                "SELECT id, documents_id, items_id, itemtype, date_creation, users_id FROM glpi_documents_items"
                " WHERE itemtype = 'ITILFollowup' AND items_id IN %s ORDER BY id",
                list(followup_ticket),
            )
        # Inline images: the text names the document (docid=N), whether or not GLPI linked it.
        inline: list[tuple[int, int, int | None]] = []  # (ticket, document, followup)
        for ticket in tickets:
            inline += [(ticket["id"], d, None) for d in html.inline_documents(ticket["content"])]
        for f in followups:
            inline += [(f["items_id"], d, f["id"]) for d in html.inline_documents(f["content"])]
        doc_ids = {i["documents_id"] for i in items} | {d for _t, d, _f in inline}
        documents = (
            {
                d["id"]: d
                for d in src.rows_in(
                    "SELECT id, name, filename, filepath, mime, sha1sum, date_creation, users_id, is_deleted"
                    " FROM glpi_documents WHERE id IN %s",
                    sorted(doc_ids),
                )
            }
            if doc_ids
            else {}
        )
        self.document_names.update({d["id"]: str(d["filename"] or d["name"] or "") for d in documents.values()})
        attached: dict[int, dict[int, tuple[Row, int | None]]] = defaultdict(dict)
        for item in items:
            document = documents.get(item["documents_id"])
            if document is None or document["is_deleted"]:
                continue
            if item["itemtype"] == "Ticket":
                attached[item["items_id"]].setdefault(document["id"], (document, None))
            else:
                ticket_id = followup_ticket[item["items_id"]]
                attached[ticket_id][document["id"]] = (document, item["items_id"])
        for ticket_id, doc_id, followup_id in inline:
            document = documents.get(doc_id)
            if document is not None and not document["is_deleted"]:
                attached[ticket_id].setdefault(doc_id, (document, followup_id))
        return [
            Bundle(
                row=t,
                actors=by["actors"].get(t["id"], []),
                groups=by["groups"].get(t["id"], []),
                followups=by["followups"].get(t["id"], []),
                tasks=by["tasks"].get(t["id"], []),
                solutions=by["solutions"].get(t["id"], []),
                satisfaction=next(iter(by["satisfaction"].get(t["id"], [])), None),
                links=links.get(t["id"], []),
                documents=sorted(attached[t["id"]].values(), key=lambda pair: pair[0]["id"]),
            )
            for t in tickets
        ]

    def _links(self, ids: list[int]) -> dict[int, list[Row]]:
        out: dict[int, list[Row]] = defaultdict(list)
        for start in range(0, len(ids), 5000):
            chunk = tuple(ids[start : start + 5000])
            for row in self.source.rows(
                "SELECT id, tickets_id_1, tickets_id_2, link FROM glpi_tickets_tickets"
                " WHERE tickets_id_1 IN %s OR tickets_id_2 IN %s ORDER BY id",
                (chunk, chunk),
            ):
                for side in ("tickets_id_1", "tickets_id_2"):
                    if row[side] in chunk:
                        out[row[side]].append(row)
        return out

    # -- the run ------------------------------------------------------------------------------

    def run(self) -> Report:
        """Import what appeared or changed since the checkpoint; returns the report."""
        checkpoint = Checkpoint.objects.filter(table=TICKETS).first()
        after: tuple[dt.datetime | None, int] = (None, 0)
        if checkpoint is not None and checkpoint.date_mod:
            after = (dt.datetime.fromisoformat(checkpoint.date_mod) - OVERLAP, 0)
        total = self.source.count_after(TICKETS, after=after)
        done = 0
        seen: set[int] = set()
        self.progress(TICKETS, 0, total)
        pages = self.source.pages(TICKETS, self.ticket_columns, after=after, size=self.options.batch_size)

        def read_next() -> tuple[list[Row], list[Bundle]] | None:
            page = next(pages, None)
            return None if page is None else (page, self.bundles(self.mapped(page)))

        # GLPI is read one page ahead, in a thread of its own (the only one using the GLPI
        # connection), while this one writes: the reads' waits on MariaDB overlap the writes.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="glpi-read") as reader:
            upcoming = reader.submit(read_next)
            while (current := upcoming.result()) is not None:
                upcoming = reader.submit(read_next)
                page, bundles = current
                self.write_page(page, bundles, checkpoint=(page[-1]["date_mod"], page[-1]["id"]))
                seen.update(row["id"] for row in page)
                done += len(page)
                self.progress(TICKETS, done, total)
        if checkpoint is not None and checkpoint.date_mod:
            # Rows of a ticket GLPI changed without moving the ticket's date_mod.
            since = dt.datetime.fromisoformat(checkpoint.date_mod) - OVERLAP
            extra = sorted(self._changed_children(since) - seen)
            for start in range(0, len(extra), self.options.batch_size):
                chunk = extra[start : start + self.options.batch_size]
                page = self.source.rows_in(f"SELECT {self.ticket_columns} FROM glpi_tickets WHERE id IN %s", chunk)  # noqa: S608
                self.write_page(page, self.bundles(self.mapped(page)), checkpoint=None)
        self.link_tickets()
        return self.report

    def _changed_children(self, since: dt.datetime) -> set[int]:
        queries = (
            "SELECT DISTINCT items_id AS t FROM glpi_itilfollowups WHERE itemtype = 'Ticket' AND date_mod >= %s",
            "SELECT DISTINCT tickets_id AS t FROM glpi_tickettasks WHERE date_mod >= %s",
            "SELECT DISTINCT items_id AS t FROM glpi_itilsolutions WHERE itemtype = 'Ticket' AND date_mod >= %s",
            "SELECT DISTINCT tickets_id AS t FROM glpi_ticketsatisfactions WHERE date_answered >= %s",
            "SELECT DISTINCT items_id AS t FROM glpi_documents_items WHERE itemtype = 'Ticket' AND date_mod >= %s",
        )
        ids: set[int] = set()
        for sql in queries:
            ids |= {row["t"] for row in self.source.rows(sql, (since,))}
        return ids

    # -- one page -----------------------------------------------------------------------------

    def mapped(self, page: list[Row]) -> list[Row]:
        """The page's tickets to import: out of GLPI's trash, of a mapped entity."""
        return [row for row in page if not row["is_deleted"] and row["entities_id"] in self.directory.organisations]

    def write_page(
        self, page: list[Row], bundles: list[Bundle], *, checkpoint: tuple[dt.datetime | None, int] | None
    ) -> None:
        """Write a page's `bundles` (its mapped tickets, read by `bundles`) and move the checkpoint
        to its last row, in one transaction; the rest of the page is counted and listed."""
        report = self.report
        records = {
            r.glpi_id: r for r in ImportRecord.objects.filter(table=TICKETS, glpi_id__in=[row["id"] for row in page])
        }
        for row in page:
            if row["is_deleted"]:
                report.trashed(row["id"], imported=row["id"] in records)
            elif row["entities_id"] not in self.directory.organisations:
                report.unmapped_entity(row["entities_id"], row["id"])
        fresh: list[tuple[Bundle, str]] = []
        changed: list[tuple[Bundle, str, ImportRecord]] = []
        for bundle in bundles:
            fingerprint = bundle.fingerprint()
            record = records.get(bundle.row["id"])
            if record is None:
                fresh.append((bundle, fingerprint))
            elif record.fingerprint == fingerprint:
                report.count("tickets unchanged")
            else:
                changed.append((bundle, fingerprint, record))
        taken = self._taken_over([record for _b, _f, record in changed])
        for bundle, _fingerprint, record in changed:
            if record.object_id in taken:
                report.taken_over(bundle.row["id"], taken[record.object_id])
        changed = [c for c in changed if c[2].object_id not in taken]
        if self.options.dry_run:
            report.count("tickets created", len(fresh))
            report.count("tickets updated", len(changed))
            for bundle, _f in fresh:
                self._ticket(bundle, Ticket())  # fills the report's lists (unmatched people, categories)
                for document, _followup in bundle.documents:
                    self.stored_file(document, bundle.row["id"])  # reads and checks, stores nothing
            return
        with transaction.atomic():
            self._write(fresh, changed)
            if checkpoint is not None:
                date_mod, last_id = checkpoint
                Checkpoint.objects.update_or_create(
                    table=TICKETS,
                    defaults={
                        "date_mod": date_mod.isoformat() if date_mod else "",
                        "last_id": last_id,
                        "updated_at": timezone.now(),
                    },
                )

    def _taken_over(self, records: list[ImportRecord]) -> dict[int, str]:
        """Imported tickets someone worked on in Mutualis since: {ticket id: what shows it}."""
        if not records:
            return {}
        at = {r.object_id: r.imported_at for r in records if r.object_id}
        ids = list(at)
        # A ticket gone from Mutualis (deleted there) is not brought back either.
        found: dict[int, str] = dict.fromkeys(ids, _("supprimé dans Mutualis"))
        for pk, updated, answered in Ticket.objects.filter(pk__in=ids).values_list(
            "pk", "updated_at", "satisfaction_at"
        ):
            del found[pk]
            if updated > at[pk]:
                found[pk] = _("modifié dans Mutualis")
            elif answered and answered > at[pk]:
                found[pk] = _("enquête de satisfaction répondue dans Mutualis")
        for model, label in (
            (Followup, _("suivi ajouté dans Mutualis")),
            (TicketTask, _("tâche ajoutée dans Mutualis")),
            (Attachment, _("pièce jointe ajoutée dans Mutualis")),
            (TransitionLog, _("statut changé dans Mutualis")),
        ):
            rows = model.objects.filter(ticket_id__in=ids).values("ticket_id").annotate(last=Max("created_at"))
            for row in rows:
                if row["last"] > at[row["ticket_id"]] and row["ticket_id"] not in found:
                    found[row["ticket_id"]] = label
        return found

    def _write(self, fresh: list[tuple[Bundle, str]], changed: list[tuple[Bundle, str, ImportRecord]]) -> None:
        now = timezone.now()
        report = self.report
        new_tickets = [
            self._ticket(bundle, Ticket(external_id=f"glpi:{bundle.row['id']}", source=TicketSource.IMPORT))
            for bundle, _f in fresh
        ]
        _number(new_tickets)
        _insert_tickets(new_tickets, now)
        rewritten: list[Ticket] = []
        if changed:
            existing = Ticket.objects.in_bulk([record.object_id for _b, _f, record in changed])
            for bundle, _f, record in changed:
                ticket = existing[record.object_id]
                self._ticket(bundle, ticket)
                ticket.updated_at = now
                rewritten.append(ticket)
            _update(rewritten, REWRITTEN)
            ids = [t.pk for t in rewritten]
            # The rows the import wrote before go; the ticket's rows are written again below.
            Attachment.objects.filter(ticket_id__in=ids).delete()
            Followup.objects.filter(ticket_id__in=ids).delete()
            TicketTask.objects.filter(ticket_id__in=ids).delete()
            Ticket.watchers.through.objects.filter(ticket_id__in=ids).delete()
            ImportRecord.objects.filter(
                table__in=[FOLLOWUPS, TASKS, SOLUTIONS, APPROVALS, DOCUMENTS],
                ticket_glpi_id__in=[bundle.row["id"] for bundle, _f, _r in changed],
            ).delete()
        report.count("tickets created", len(new_tickets))
        report.count("tickets updated", len(rewritten))
        pairs = [(b, t) for (b, _f), t in zip(fresh, new_tickets, strict=True)]
        pairs += [(b, t) for (b, _f, _r), t in zip(changed, rewritten, strict=True)]
        children = _Children(self, now)
        for bundle, ticket in pairs:
            children.add(bundle, ticket)
        children.flush()
        self._levels_already_crossed([ticket for _b, ticket in pairs], now)
        records: list[tuple[Any, ...]] = children.records
        at = datetime_adapter()
        adapt_json = connection.ops.adapt_json_value
        fingerprints = {id(b): f for b, f in fresh} | {id(b): f for b, f, _r in changed}
        ImportRecord.objects.filter(table=TICKETS, glpi_id__in=[b.row["id"] for b, _f, _r in changed]).delete()
        for bundle, ticket in pairs:
            extra = self.extras.pop(bundle.row["id"], None)
            glpi_id = bundle.row["id"]
            json_extra = adapt_json(extra, None) if extra else None
            records.append(
                (TICKETS, glpi_id, glpi_id, ticket.pk, fingerprints[id(bundle)], at(ticket.updated_at), json_extra)
            )
            self.report.figures.append(ticket_figures(bundle, ticket, self.source))
        insert_rows(
            ImportRecord,
            ("table", "glpi_id", "ticket_glpi_id", "object_id", "fingerprint", "imported_at", "extra"),
            records,
        )

    # -- a ticket's own fields ----------------------------------------------------------------

    def _ticket(self, bundle: Bundle, ticket: Ticket) -> Ticket:
        row = bundle.row
        src, directory, report = self.source, self.directory, self.report
        extra: dict[str, Any] = {}
        organisation = directory.organisations[row["entities_id"]]
        ticket.collectivity = organisation
        ticket.title = (html.decode_plain(row["name"] or "").strip() or _("(sans titre)"))[:250]
        ticket.description = html.to_markdown(row["content"], image=self._image_label) or _("(sans description)")
        ticket.ticket_type = TYPES.get(row["type"], TicketType.INCIDENT)
        ticket.status = STATUSES.get(row["status"], Status.NEW)
        ticket.urgency = min(5, max(1, row["urgency"] or 3))
        ticket.impact = min(5, max(1, row["impact"] or 3))
        ticket.priority = min(6, max(1, row["priority"] or 3))
        opened = src.aware(row["date"])
        assert opened is not None  # GLPI requires a ticket's date
        ticket.opened_at = opened
        taken = src.aware(row["takeintoaccountdate"])
        if taken is None and row["takeintoaccount_delay_stat"]:
            # GLPI 9.5: the delay to the first assignment, in seconds from the opening.
            taken = opened + dt.timedelta(seconds=row["takeintoaccount_delay_stat"])
        ticket.taken_at = taken
        solved_or_closed = row["status"] in (5, 6)
        ticket.solved_at = src.aware(row["solvedate"]) if solved_or_closed else None
        ticket.closed_at = src.aware(row["closedate"]) if row["status"] == 6 else None
        if row["status"] == 4:
            ticket.pending_since = src.aware(row["begin_waiting_date"]) or opened
            ticket.pending_reason = PendingReason.REQUESTER
        else:
            ticket.pending_since, ticket.pending_reason = None, ""
        category = row["itilcategories_id"]
        ticket.application_id = directory.applications.get(category)
        ticket.category_id = directory.categories.get(category)
        if category and category not in directory.mapping.categories:
            report.unmapped_category(category, row["id"])
        # Actors: the first requester and assigned technician the import may name; observers watch.
        ticket.requester_id = ticket.technician_id = None
        self.watchers[row["id"]] = []
        anonymous: list[str] = []
        unmatched: list[str] = []
        for actor in bundle.actors:
            if not actor["users_id"]:
                if actor["alternative_email"] and actor["type"] == 1:
                    anonymous.append(str(actor["alternative_email"]))
                    report.count("anonymous requesters")
                elif actor["alternative_email"]:
                    report.count("anonymous observers or technicians (not kept)")
                continue
            person = directory.user(actor["users_id"])
            if person is None or person.account is None:
                label = person.name if person else f"#{actor['users_id']}"
                unmatched.append(label)
                report.unmatched_user(person.login if person else f"#{actor['users_id']}", row["id"])
                continue
            account = person.account
            if actor["type"] == 1 and ticket.requester_id is None:
                if account.organisation_id == organisation.pk or account.is_operator:
                    ticket.requester_id = account.id
                else:
                    report.note(
                        row["id"], _("demandeur %(name)s d'une autre collectivité : non repris") % {"name": person.name}
                    )
            elif actor["type"] == 2 and ticket.technician_id is None:
                if account.is_operator:
                    ticket.technician_id = account.id
                else:
                    report.note(
                        row["id"], _("technicien %(name)s hors de l'opérateur : non repris") % {"name": person.name}
                    )
            elif actor["type"] == 3 and (account.organisation_id == organisation.pk or account.is_operator):
                self.watchers[row["id"]].append(account.id)
        ticket.group_id = None
        for link in bundle.groups:
            if link["type"] != 2:
                continue
            service = directory.services.get(link["groups_id"])
            if service is None:
                report.unmapped_group(link["groups_id"], row["id"])
            elif ticket.group_id is None:
                ticket.group_id = service
        if anonymous:
            extra["requesters"] = anonymous
        if unmatched:
            extra["unmatched"] = sorted(set(unmatched))
        # Satisfaction: GLPI's 0–5 stars; Mutualis's survey is 1–5 with the same stars, so 1–5 are
        # kept as they are and 0 (possible in GLPI, not in Mutualis) becomes 1, counted.
        ticket.satisfaction, ticket.satisfaction_comment, ticket.satisfaction_at = None, "", None
        answer = bundle.satisfaction
        if answer and answer["satisfaction"] is not None and answer["date_answered"]:
            stars = int(answer["satisfaction"])
            if stars == 0:
                report.count("satisfaction 0 → 1")
            ticket.satisfaction = min(5, max(1, stars))
            ticket.satisfaction_comment = html.decode_plain(answer["comment"] or "").strip()
            ticket.satisfaction_at = src.aware(answer["date_answered"])
        ticket.reopen_count = sum(1 for s in bundle.solutions if s["status"] == 4)
        self._service_levels(ticket, bundle)
        if extra:
            self.extras[row["id"]] = extra
        return ticket

    def _service_levels(self, ticket: Ticket, bundle: Bundle) -> None:
        """Mutualis's policy and calendar (by type and priority, as helpdesk.importer does), the
        indicators' offsets and the waiting on that calendar, the budgets; GLPI's due dates as
        GLPI committed them, Mutualis's where GLPI had none. Business seconds come from the
        calendar's offsets table (a subtraction), not from walking the days."""
        key = (ticket.ticket_type, ticket.priority)
        if key not in self.policies:
            # History carries no "blocking" flag: only the general policies apply.
            self.policies[key] = sla.policy_for(ticket_type=key[0], priority=key[1], blocking=False)
        policy = self.policies[key]
        config = self.sla_config
        calendar = config.calendar(policy.calendar_id if policy else config.default_calendar_id)
        assert calendar is not None  # the configuration holds the default and every active policy's calendar
        table = calendar.offsets()
        ticket.policy_id = policy.id if policy else None
        ticket.calendar_id = calendar.id
        ticket.opened_offset = table.offset(ticket.opened_at)
        ticket.taken_offset = table.offset(ticket.taken_at) if ticket.taken_at else None
        ticket.solved_offset = table.offset(ticket.solved_at) if ticket.solved_at else None
        ticket.waiting_seconds = ticket_waiting(bundle, ticket, table, self.source)
        row = bundle.row
        ticket.tto_due_at = self.source.aware(row["time_to_own"])
        ticket.ttr_due_at = self.source.aware(row["time_to_resolve"])
        ticket.tto_budget_s = ticket.ttr_budget_s = None
        if policy is not None:
            spec = calendar.spec
            ticket.tto_budget_s = _budget(spec, table, ticket.opened_at, policy.tto_value, policy.tto_unit)
            ticket.ttr_budget_s = _budget(spec, table, ticket.opened_at, policy.ttr_value, policy.ttr_unit)
            if ticket.tto_due_at is None and ticket.tto_budget_s is not None:
                ticket.tto_due_at = add_business_seconds(spec, ticket.opened_at, ticket.tto_budget_s)
            if ticket.ttr_due_at is None and ticket.ttr_budget_s is not None:
                budget = ticket.ttr_budget_s + ticket.waiting_seconds
                ticket.ttr_due_at = add_business_seconds(spec, ticket.opened_at, budget)
        ticket.tto_breached = bool(ticket.tto_due_at and ticket.taken_at and ticket.taken_at > ticket.tto_due_at)
        ticket.ttr_breached = bool(ticket.ttr_due_at and ticket.solved_at and ticket.solved_at > ticket.ttr_due_at)

    def _levels_already_crossed(self, tickets: list[Ticket], now: dt.datetime) -> None:
        """An open ticket's service-level thresholds already crossed when it comes in are recorded
        as told, so the escalation sweep tells its group only about what happens after the import
        (history is not news)."""
        if self.escalation is None:
            self.escalation = {
                pk: [int(part) for part in percents.split(",") if part.strip()]
                for pk, percents in SlaPolicy.objects.values_list("pk", "escalation_percents")
            }
        events = []
        for ticket in tickets:
            if ticket.status not in OPEN_STATUSES or ticket.policy_id is None:
                continue
            calendar = self.sla_config.calendar(ticket.calendar_id)
            assert calendar is not None
            for clock, budget in ((Clock.TTO, ticket.tto_budget_s), (Clock.TTR, ticket.ttr_budget_s)):
                if not budget or (clock == Clock.TTO and ticket.taken_at is not None):
                    continue
                percent = 100 * sla.clock_elapsed(ticket, calendar.spec, clock, now) / budget
                levels = self.escalation.get(ticket.policy_id, [])
                events += [SlaEvent(ticket=ticket, clock=clock, percent=level) for level in levels if percent >= level]
        SlaEvent.objects.filter(ticket__in=[t.pk for t in tickets]).delete()
        SlaEvent.objects.bulk_create(events)

    def _image_label(self, docid: int) -> str:
        name = self.document_names.get(docid, "")
        return _("image : %(name)s") % {"name": name} if name else _("image (document GLPI %(id)d)") % {"id": docid}

    # -- links between tickets, once every ticket of the run is in ----------------------------

    def link_tickets(self) -> None:
        """GLPI's links (1 linked, 2 duplicate, 3 son, 4 parent) onto the tickets both imported:
        a duplicate is merged into the other ticket, the others linked; never over a link set in
        Mutualis."""
        if self.options.dry_run:
            return
        links = self.source.rows("SELECT tickets_id_1, tickets_id_2, link FROM glpi_tickets_tickets ORDER BY id")
        if not links:
            return
        glpi_ids = {r["tickets_id_1"] for r in links} | {r["tickets_id_2"] for r in links}
        objects = dict(
            ImportRecord.objects.filter(table=TICKETS, glpi_id__in=glpi_ids).values_list("glpi_id", "object_id")
        )
        current = {
            pk: (linked, merged)
            for pk, linked, merged in Ticket.objects.filter(pk__in=[pk for pk in objects.values() if pk]).values_list(
                "pk", "linked_to_id", "merged_into_id"
            )
        }
        linked: dict[int, int] = {}
        merged: dict[int, int] = {}
        for row in links:
            one, two = objects.get(row["tickets_id_1"]), objects.get(row["tickets_id_2"])
            if one is None or two is None:
                continue
            if row["link"] == 2:
                if current[one][1] is None:
                    merged.setdefault(one, two)
            elif row["link"] == 4:  # 1 is the parent of 2: the child points to its parent
                if current[two][0] is None:
                    linked.setdefault(two, one)
            elif current[one][0] is None:
                linked.setdefault(one, two)
        with transaction.atomic():
            for pk, other in linked.items():
                Ticket.objects.filter(pk=pk, linked_to__isnull=True).update(linked_to=other)
            for pk, other in merged.items():
                Ticket.objects.filter(pk=pk, merged_into__isnull=True).update(merged_into=other)
        self.report.count("links", len(linked) + len(merged))

    # -- documents ----------------------------------------------------------------------------

    def stored_file(self, document: Row, ticket_glpi_id: int) -> str | None:
        """The storage name of a GLPI document's file, stored once however many tickets use it;
        None when it cannot be used (no folder given, missing, SHA-1 not GLPI's), listed."""
        filepath = str(document["filepath"] or "")
        if filepath in self.stored_files:
            name = self.stored_files[filepath]
            if name is None:
                self.report.file_problem(ticket_glpi_id, document["id"], filepath, _("voir plus haut"))
            return name
        folder = self.options.documents_dir
        problem, name = "", None
        if folder is None:
            problem = _("dossier des documents de GLPI non donné (--documents-dir)")
        elif not filepath or ".." in Path(filepath).parts or Path(filepath).is_absolute():
            problem = _("chemin refusé")
        else:
            path = folder / filepath
            try:
                data = path.read_bytes()
            except OSError:
                problem = _("fichier absent du dossier des documents")
            else:
                digest = hashlib.sha1(data, usedforsecurity=False).hexdigest()
                expected = str(document["sha1sum"] or "").lower()
                if expected and digest != expected:
                    problem = _("SHA-1 différent de celui de GLPI (fichier altéré ou remplacé)")
                elif not self.options.dry_run:
                    suffix = Path(str(document["filename"] or filepath)).suffix.lower()[:10]
                    name = f"helpdesk/glpi/{digest[:2]}/{digest}{suffix}"
                    if not default_storage.exists(name):
                        name = default_storage.save(name, ContentFile(data))
                        self.report.count("files stored")
                else:
                    name = filepath
        if problem:
            self.report.file_problem(ticket_glpi_id, document["id"], filepath, problem)
        self.stored_files[filepath] = name
        return name


def _budget(spec: CalendarSpec, table: OffsetTable, start: dt.datetime, value: int | None, unit: str) -> int | None:
    """helpdesk.sla.budget_seconds, with the business seconds read from the offsets table."""
    if value is None:
        return None
    if unit == DurationUnit.HOURS:
        return value * 3600
    return table.offset(add_business_days(spec, start, value)) - table.offset(start)


def datetime_adapter() -> Callable[[dt.datetime | None], Any]:
    """Aware datetimes as the database takes them in bulk: as they are for psycopg; as SQLite's
    UTC text otherwise (what Django's adapt_datetimefield_value gives, without its per-value
    checks: a third of the inserts' preparation)."""
    if connection.vendor == "postgresql":
        return lambda value: value
    if connection.vendor != "sqlite":
        return connection.ops.adapt_datetimefield_value

    def adapt(value: dt.datetime | None) -> str | None:
        return None if value is None else str(value.astimezone(dt.UTC).replace(tzinfo=None))

    return adapt


def _insert_tickets(tickets: list[Ticket], now: dt.datetime) -> None:
    """The page's new tickets in one insert (COPY on PostgreSQL) with reserved ids: bulk_create
    spends most of its time preparing each of a ticket's fifty values through the field API."""
    fields = list(Ticket._meta.concrete_fields)
    datetimes = {field.attname for field in fields if isinstance(field, models.DateTimeField)}
    adapt = datetime_adapter()
    rows = []
    for ticket, pk in zip(tickets, reserve_ids(Ticket, len(tickets)), strict=True):
        ticket.pk = pk
        ticket.created_at = ticket.updated_at = now
        row = []
        for field in fields:
            value = getattr(ticket, field.attname)
            if field.attname in datetimes:
                value = adapt(value)
            elif isinstance(value, enum.Enum):
                value = value.value
            row.append(value)
        rows.append(tuple(row))
    insert_rows(Ticket, [field.name for field in fields], rows)


def reserve_ids(model: type[Any], count: int) -> list[int]:
    """`count` primary keys for rows inserted with explicit ids (followups, tasks and attachments
    reference each other before they exist). PostgreSQL: from the table's sequence. SQLite: after
    the highest ever given, inside the page's transaction (SQLite writes one at a time)."""
    if count == 0:
        return []
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count]
            )
            return [row[0] for row in cursor.fetchall()]
        quoted = connection.ops.quote_name(table)
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {quoted}")  # noqa: S608
        top = cursor.fetchone()[0]
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        row = cursor.fetchone()
        first = max(top, row[0] if row else 0) + 1
        return list(range(first, first + count))


class _Children:
    """The rows of a page's tickets, gathered as plain tuples and inserted at once."""

    FOLLOWUP = ("id", "ticket", "author", "body", "is_private", "is_solution", "source", "created_at", "updated_at")
    TASK = (
        "id",
        "ticket",
        "author",
        "description",
        "duration_seconds",
        "done_on",
        "is_private",
        "created_at",
        "updated_at",
    )
    ATTACHMENT = (
        "id",
        "ticket",
        "followup",
        "file",
        "name",
        "size",
        "content_type",
        "uploaded_by",
        "created_at",
        "updated_at",
    )

    def __init__(self, importer: Importer, now: dt.datetime) -> None:
        self.importer = importer
        self.now = now
        self.followups: list[list[Any]] = []
        self.followup_keys: list[tuple[str, int, int, str]] = []  # record (table, glpi id, ticket, fingerprint)
        self.glpi_followup: dict[int, int] = {}  # GLPI followup id → index in followups
        self.tasks: list[list[Any]] = []
        self.task_keys: list[tuple[str, int, int, str]] = []
        self.attachments: list[tuple[list[Any], int | None]] = []  # (row, GLPI followup id)
        self.attachment_keys: list[tuple[str, int, int, str]] = []
        self.watchers: list[tuple[int, int]] = []
        self.records: list[tuple[Any, ...]] = []

    def _author(self, glpi_user: int | None, fallback_name: str = "") -> tuple[int | None, str]:
        """The author's account, or None with a visible line naming them as GLPI knew them."""
        directory = self.importer.directory
        person = directory.user(glpi_user)
        if person is not None and person.account is not None:
            return person.account.id, ""
        name = person.name if person else fallback_name
        if not name:
            return None, ""
        return None, "*" + html._escape(
            _("Écrit dans GLPI par %(name)s (sans compte dans Mutualis)") % {"name": name}
        ) + "*\n\n"

    def _followup(
        self,
        ticket: Ticket,
        glpi_user: int | None,
        body: str,
        *,
        private: bool,
        solution: bool,
        at: dt.datetime,
        fallback_name: str = "",
    ) -> None:
        author, prefix = self._author(glpi_user, fallback_name)
        self.followups.append(
            [
                None,
                ticket.pk,
                author,
                prefix + (body or _("(vide)")),
                private,
                solution,
                TicketSource.IMPORT.value,
                at,
                at,
            ]
        )

    def add(self, bundle: Bundle, ticket: Ticket) -> None:
        importer, src, report = self.importer, self.importer.source, self.importer.report
        glpi_ticket = bundle.row["id"]
        label = importer._image_label
        for user_id in dict.fromkeys(importer.watchers.pop(glpi_ticket, [])):
            self.watchers.append((ticket.pk, user_id))
        for f in bundle.followups:
            at = src.aware(f["date"]) or ticket.opened_at
            self.glpi_followup[f["id"]] = len(self.followups)
            self.followup_keys.append((FOLLOWUPS, f["id"], glpi_ticket, _rows_fingerprint(f)))
            self._followup(
                ticket,
                f["users_id"],
                html.to_markdown(f["content"], image=label),
                private=bool(f["is_private"]),
                solution=False,
                at=at,
            )
            if not f["users_id"] or importer.directory.account_id(f["users_id"]) is None:
                report.count("followups without account")
        report.count("followups", len(bundle.followups))
        for s in bundle.solutions:
            at = src.aware(s["date_creation"]) or ticket.solved_at or ticket.opened_at
            self.followup_keys.append((SOLUTIONS, s["id"], glpi_ticket, _rows_fingerprint(s)))
            self._followup(
                ticket,
                s["users_id"],
                html.to_markdown(s["content"], image=label),
                private=False,
                solution=True,
                at=at,
                fallback_name=str(s["user_name"] or ""),
            )
            report.count("solutions")
            approval = src.aware(s["date_approval"])
            if s["status"] in (3, 4):
                person = importer.directory.user(s["users_id_approval"])
                who = person.name if person else str(s["user_name_approval"] or "") or _("le demandeur")
                text = (
                    _("Solution refusée par %(name)s.") if s["status"] == 4 else _("Solution acceptée par %(name)s.")
                ) % {"name": html._escape(who)}
                author, _prefix = self._author(s["users_id_approval"], who)
                self.followups.append(
                    [
                        None,
                        ticket.pk,
                        author,
                        text,
                        False,
                        False,
                        TicketSource.IMPORT.value,
                        approval or at,
                        approval or at,
                    ]
                )
                self.followup_keys.append((APPROVALS, s["id"], glpi_ticket, _rows_fingerprint(s)))
                report.count("solutions refused" if s["status"] == 4 else "solutions accepted")
        for t in bundle.tasks:
            # The technician who did the work, else who wrote the task; with neither account the
            # task comes in all the same, its time counted, its text naming them as GLPI did.
            author = importer.directory.account_id(t["users_id_tech"]) or importer.directory.account_id(t["users_id"])
            prefix = ""
            if author is None:
                prefix = self._author(t["users_id_tech"])[1] or self._author(t["users_id"])[1]
                report.count("tasks without account")
            at = src.aware(t["date"]) or ticket.opened_at
            done = src.aware(t["begin"]) or at
            text = prefix + (html.to_markdown(t["content"], image=label) or _("(vide)"))
            seconds, private = int(t["actiontime"] or 0), bool(t["is_private"])
            self.tasks.append([None, ticket.pk, author, text, seconds, timezone.localdate(done), private, at, at])
            self.task_keys.append((TASKS, t["id"], glpi_ticket, _rows_fingerprint(t)))
            report.count("tasks")
        for document, followup in bundle.documents:
            name = importer.stored_file(document, glpi_ticket)
            if name is None:
                continue
            at = src.aware(document["date_creation"]) or ticket.opened_at
            filename = str(document["filename"] or document["name"] or name.rsplit("/", 1)[-1])[:255]
            mime = str(document["mime"] or mimetypes.guess_type(filename)[0] or "application/octet-stream")[:120]
            size = default_storage.size(name) if not importer.options.dry_run else 0
            row = [
                None,
                ticket.pk,
                None,
                name,
                filename,
                size,
                mime,
                importer.directory.account_id(document["users_id"]),
                at,
                at,
            ]
            self.attachments.append((row, followup))
            self.attachment_keys.append((DOCUMENTS, document["id"], glpi_ticket, _rows_fingerprint(document)))
            report.count("attachments")

    def flush(self) -> None:
        at = datetime_adapter()
        now = at(self.now)
        for model, rows, keys in (
            (Followup, self.followups, self.followup_keys),
            (TicketTask, self.tasks, self.task_keys),
            (Attachment, [row for row, _f in self.attachments], self.attachment_keys),
        ):
            for row, pk in zip(rows, reserve_ids(model, len(rows)), strict=True):
                row[0] = pk
            self.records += [(*key[:3], row[0], key[3], now, None) for key, row in zip(keys, rows, strict=True)]
        for row, followup in self.attachments:
            if followup is not None and followup in self.glpi_followup:
                row[2] = self.followups[self.glpi_followup[followup]][0]
        date = connection.ops.adapt_datefield_value
        for row in self.followups:
            row[7], row[8] = at(row[7]), at(row[8])
        for row in self.tasks:
            row[5], row[7], row[8] = date(row[5]), at(row[7]), at(row[8])
        for row, _f in self.attachments:
            row[8], row[9] = at(row[8]), at(row[9])
        insert_rows(Followup, self.FOLLOWUP, [tuple(r) for r in self.followups])
        insert_rows(TicketTask, self.TASK, [tuple(r) for r in self.tasks])
        insert_rows(Attachment, self.ATTACHMENT, [tuple(r) for r, _f in self.attachments])
        insert_rows(Ticket.watchers.through, ("ticket", "user"), self.watchers)
