"""The GLPI import as a service: a run record, the import, its report, one audit entry; and the
dry run, which reads GLPI and Mutualis and writes nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.utils import timezone

from mutualis.core.audit import audit_record
from mutualis.core.models import AuditAction
from mutualis.glpi.directory import Directory, match_counts
from mutualis.glpi.importer import Importer, Options
from mutualis.glpi.mapping import Mapping
from mutualis.glpi.models import ImportRun, RunStatus
from mutualis.glpi.report import Report
from mutualis.glpi.source import Source


@dataclass
class Outcome:
    report: Report
    run: ImportRun | None  # None for a dry run
    mapping_text: str = ""


def mapping_text(directory: Directory, source: Source) -> str:
    """What the import would apply: entities → members, groups → services, categories →
    applications, users matched and how; and what GLPI uses that the mapping leaves out."""
    out = ["Entités → collectivités :"]
    rows = source.rows("SELECT entities_id, COUNT(*) AS n FROM glpi_tickets WHERE is_deleted = 0 GROUP BY entities_id")
    used = {r["entities_id"]: int(r["n"]) for r in rows}
    for glpi_id, organisation in sorted(directory.organisations.items()):
        name = directory.entity_names.get(glpi_id, "?")
        out.append(
            f"  {glpi_id} « {name} » → {organisation.slug} ({organisation.name}) : {used.get(glpi_id, 0)} ticket(s)"
        )
    for glpi_id, count in sorted(used.items()):
        if glpi_id not in directory.organisations:
            name = directory.entity_names.get(glpi_id, "?")
            out.append(f"  {glpi_id} « {name} » → SANS CORRESPONDANCE : {count} ticket(s) non repris")
    out.append("Groupes → services de l'opérateur :")
    for glpi_id, name in sorted(directory.group_names.items()):
        service = directory.mapping.groups.get(glpi_id) if glpi_id in directory.services else None
        out.append(f"  {glpi_id} « {name} » → {service or 'SANS CORRESPONDANCE'}")
    out.append("Catégories → applications / catégories :")
    for glpi_id, name in sorted(directory.category_names.items()):
        target = directory.mapping.categories.get(glpi_id)
        parts: list[str] = []
        if glpi_id in directory.applications and target:
            parts.append(f"application {target.application}")
        if glpi_id in directory.categories and target:
            parts.append(f"catégorie {target.category}")
        out.append(f"  {glpi_id} « {name} » → {', '.join(parts) or 'SANS CORRESPONDANCE'}")
    counts = match_counts(directory)
    out.append("Utilisateurs GLPI → comptes : " + ", ".join(f"{how} {n}" for how, n in sorted(counts.items())))
    for user in sorted(directory.users.values(), key=lambda u: u.login):
        if user.account:
            account = f"{user.account.username} (par {user.how})"
        elif user.agent_without_account:
            account = f"SANS COMPTE (agent de l'annuaire {user.agent_without_account}, sans compte ; jamais créé)"
        else:
            account = "SANS COMPTE (jamais créé)"
        out.append(f"  {user.name} → {account}")
    if directory.broken:
        out.append("Correspondances du fichier sans objet dans Mutualis :")
        out += [f"  {line}" for line in directory.broken]
    return "\n".join(out)


def glpi_import(
    *,
    url: str,
    mapping: Mapping,
    options: Options,
    progress: Callable[[str, int, int], None] | None = None,
) -> Outcome:
    """Import (or, with options.dry_run, only read and report) GLPI's helpdesk history. A run that
    fails keeps its committed pages, is recorded as interrupted with its counts and audited; the
    next run resumes from the checkpoint."""
    source = Source(url, php_timezone=mapping.timezone)
    try:
        importer = Importer(source, mapping, options, progress=progress)
        if options.dry_run:
            report = importer.run()
            return Outcome(report=report, run=None, mapping_text=mapping_text(importer.directory, source))
        run = ImportRun.objects.create(started_at=timezone.now(), source=source.location.label)
        status = RunStatus.FAILED
        try:
            importer.run()
            status = RunStatus.DONE
        finally:
            report = importer.report
            run.finished_at = timezone.now()
            run.status = status
            run.counts = report.as_counts()
            run.report = report.text(limit=None)
            run.save(update_fields=["finished_at", "status", "counts", "report"])
            audit_record(
                actor=None,
                action=AuditAction.IMPORT,
                obj=run,
                object_repr=f"GLPI {source.location.label}",
                changes={key: [None, value] for key, value in {**run.counts, "status": status}.items()},
                via="import",
            )
        return Outcome(report=report, run=run)
    finally:
        source.close()
