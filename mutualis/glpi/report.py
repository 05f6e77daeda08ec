"""The import's report: counts, everything it could not map, match or read, the tickets it left
alone, and the figures that differ from GLPI's and why. Printed at the end of a run and kept
with it (ImportRun.report)."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mutualis.glpi.figures import Figures

if TYPE_CHECKING:
    from mutualis.glpi.directory import Directory

SHOWN = 50  # ticket numbers listed per line of the printed report; the count says the rest

# The counts keep English keys (stored with each run and in its audit entry, read by the bench);
# the printed report names them in the operator's words, like the rest of the report.
COUNT_LABELS = {
    "tickets created": "tickets créés",
    "tickets updated": "tickets mis à jour",
    "tickets unchanged": "tickets inchangés",
    "tickets in GLPI's trash": "tickets dans la corbeille de GLPI (non repris)",
    "tickets of unmapped entities": "tickets d'entités sans correspondance (non repris)",
    "tickets taken over in Mutualis": "tickets repris en main dans Mutualis (non écrasés)",
    "anonymous requesters": "demandeurs sans compte (adresse seule)",
    "anonymous observers or technicians (not kept)": "observateurs ou techniciens sans compte (non repris)",
    "satisfaction 0 → 1": "satisfactions à 0 ramenées à 1",
    "links": "liens entre tickets",
    "files stored": "fichiers enregistrés",
    "followups": "suivis",
    "followups without account": "suivis d'auteurs sans compte",
    "solutions": "solutions",
    "solutions accepted": "solutions acceptées",
    "solutions refused": "solutions refusées",
    "tasks": "tâches",
    "tasks without account": "tâches d'auteurs sans compte",
    "attachments": "pièces jointes",
    "differences": "délais différents de GLPI",
    "missing or mismatching files": "fichiers absents ou altérés",
    "unmatched GLPI users": "utilisateurs GLPI sans compte",
}


def _hours(seconds: int | None) -> str:
    if seconds is None:
        return "—"
    return f"{seconds / 3600:.1f} h"


def _ids(ids: list[int], limit: int | None = SHOWN) -> str:
    ordered = sorted(ids)
    if limit is None or len(ordered) <= limit:
        return ", ".join(str(i) for i in ordered)
    return ", ".join(str(i) for i in ordered[:limit]) + f" … (+{len(ordered) - limit})"


@dataclass
class Report:
    directory: Directory
    timezones: bool
    version: str
    counts: Counter[str] = field(default_factory=Counter)
    entities: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    categories: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    groups: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    users: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    trashed_imported: list[int] = field(default_factory=list)
    taken: dict[int, str] = field(default_factory=dict)
    files: list[tuple[int, int, str, str]] = field(default_factory=list)  # (ticket, document, path, problem)
    notes: list[tuple[int, str]] = field(default_factory=list)
    figures: list[Figures] = field(default_factory=list)

    def count(self, key: str, n: int = 1) -> None:
        self.counts[key] += n

    def trashed(self, glpi_id: int, *, imported: bool) -> None:
        self.count("tickets in GLPI's trash")
        if imported:
            self.trashed_imported.append(glpi_id)

    def unmapped_entity(self, entity: int, ticket: int) -> None:
        self.count("tickets of unmapped entities")
        self.entities[entity].append(ticket)

    def unmapped_category(self, category: int, ticket: int) -> None:
        self.categories[category].append(ticket)

    def unmapped_group(self, group: int, ticket: int) -> None:
        self.groups[group].append(ticket)

    def unmatched_user(self, login: str, ticket: int) -> None:
        self.users[login].add(ticket)

    def taken_over(self, glpi_id: int, why: str) -> None:
        self.count("tickets taken over in Mutualis")
        self.taken[glpi_id] = why

    def file_problem(self, ticket: int, document: int, path: str, problem: str) -> None:
        self.files.append((ticket, document, path, problem))

    def note(self, ticket: int, text: str) -> None:
        self.notes.append((ticket, text))

    @property
    def differences(self) -> list[Figures]:
        return [f for f in self.figures if f.reason]

    def as_counts(self) -> dict[str, int]:
        counts = dict(self.counts)
        counts["differences"] = len(self.differences)
        counts["missing or mismatching files"] = len(self.files)
        counts["unmatched GLPI users"] = len(self.users)
        return counts

    def text(self, limit: int | None = SHOWN) -> str:
        """The report; `limit` tickets shown per list (None: all of them, as the run keeps it)."""
        d = self.directory
        out: list[str] = []
        mode = "fuseaux horaires activés (UTC)" if self.timezones else f"heure de PHP ({d.mapping.timezone})"
        out.append(f"GLPI {self.version or '?'} — dates : {mode}")
        out.append("Décomptes :")
        out += [f"  {COUNT_LABELS.get(key, key)} : {value}" for key, value in sorted(self.as_counts().items())]
        if d.broken:
            out.append("Correspondances du fichier sans objet dans Mutualis :")
            out += [f"  {line}" for line in d.broken]
        sections: list[tuple[str, dict[int, list[int]], dict[int, str]]] = [
            ("Entités sans correspondance (tickets non repris)", self.entities, d.entity_names),
            ("Catégories sans correspondance (tickets repris sans application)", self.categories, d.category_names),
            ("Groupes sans correspondance (attribution non reprise)", self.groups, d.group_names),
        ]
        for title, found, names in sections:
            if found:
                out.append(f"{title} :")
                out += [
                    f"  {key} « {names.get(key, '?')} » : {len(tickets)} ticket(s) — {_ids(tickets, limit)}"
                    for key, tickets in sorted(found.items())
                ]
        if self.users:
            out.append("Utilisateurs GLPI sans compte Mutualis (jamais créés ; nom gardé sur le ticket) :")
            out += [
                f"  {login} : {len(t)} ticket(s) — {_ids(list(t), limit)}" for login, t in sorted(self.users.items())
            ]
        if self.files:
            out.append("Documents non repris :")
            out += [f"  ticket {t}, document {doc} ({path}) : {problem}" for t, doc, path, problem in self.files]
        if self.taken:
            out.append("Tickets déjà repris en main dans Mutualis (non écrasés) :")
            out += [f"  {glpi_id} : {why}" for glpi_id, why in sorted(self.taken.items())]
        if self.trashed_imported:
            out.append(f"Mis à la corbeille de GLPI après leur import (laissés) : {_ids(self.trashed_imported, limit)}")
        if self.notes:
            out.append("Remarques :")
            out += [f"  ticket {t} : {text}" for t, text in self.notes]
        differences = self.differences
        if differences:
            out.append("Délais différents de ceux de GLPI (GLPI → Mutualis ; prise en compte, résolution, attente) :")
            by_reason: dict[str, list[Figures]] = defaultdict(list)
            for figure in differences:
                by_reason[figure.reason].append(figure)
            for reason, figures in sorted(by_reason.items()):
                out.append(f"  {reason} : {len(figures)} ticket(s)")
                figures.sort(key=lambda f: f.glpi_id)
                for f in figures[:limit]:
                    out.append(
                        f"    GLPI {f.glpi_id} ({f.reference}) : {_hours(f.tto_glpi)} → {_hours(f.tto_mutualis)} ; "
                        f"{_hours(f.ttr_glpi)} → {_hours(f.ttr_mutualis)} ; "
                        f"{_hours(f.waiting_glpi)} → {_hours(f.waiting_mutualis)}"
                    )
                if limit is not None and len(figures) > limit:
                    out.append(f"    … et {len(figures) - limit} autre(s) (tous dans le rapport gardé avec la reprise)")
        return "\n".join(out)
