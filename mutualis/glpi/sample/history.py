"""A GLPI database to import from: GLPI 10.0's tables (schema.sql) filled with a seeded helpdesk
history of a syndicate's member towns that holds every case that catches importers.

    python -m mutualis.glpi.sample.history --url mysql://glpi_test:glpi_test@127.0.0.1:3306/glpi_demo \\
        --tickets 2000 [--timezones] [--documents-dir DIR]

creates the database if needed, loads the schema (dropping GLPI's tables first) and writes the
history; sample/glpi.toml maps it onto the demo's data (`mutualis load_demo`)."""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import random
import re
import sys
import time
import tomllib
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import pymysql
import pymysql.connections

SCHEMA_FILE = Path(__file__).with_name("schema.sql")
MAPPING_FILE = Path(__file__).with_name("glpi.toml")


# -- connections ------------------------------------------------------------------------------
def connect(url: str, *, utc: bool = False) -> pymysql.connections.Connection:
    """A connection to the server of `url`, on its database when the URL names one. `utc` sets the
    session's time zone to UTC, so `timestamp` columns take and give UTC instants."""
    parts = urlsplit(url)
    return pymysql.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 3306,
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        database=unquote(parts.path.lstrip("/")) or None,
        charset="utf8mb4",
        autocommit=False,
        init_command="SET time_zone = '+00:00'" if utc else None,
    )


def database_url(server_url: str, name: str) -> str:
    """`server_url` (mysql://user:password@host:port/…) with its database replaced by `name`."""
    parts = urlsplit(server_url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", ""))


def redacted(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    user = unquote(parts.username or "")
    return urlunsplit((parts.scheme, f"{user}@{netloc}" if user else netloc, parts.path, "", ""))


_NAME = re.compile(r"^[A-Za-z0-9_]{1,64}$")


def create_database(server_url: str, name: str, *, replace: bool = False) -> str:
    """Create the database `name` (utf8mb4, GLPI's collation) on the server; returns its URL."""
    if not _NAME.match(name):
        raise ValueError(f"database name {name!r}: letters, digits and _ only")
    connection = connect(database_url(server_url, ""))
    try:
        with connection.cursor() as cursor:
            if replace:
                cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
            cursor.execute(f"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    finally:
        connection.close()
    return database_url(server_url, name)


def drop_database(server_url: str, name: str) -> None:
    if not _NAME.match(name):
        raise ValueError(f"database name {name!r}: letters, digits and _ only")
    connection = connect(database_url(server_url, ""))
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
    finally:
        connection.close()


def schema_statements() -> list[str]:
    """schema.sql as single statements (PyMySQL runs one statement per call)."""
    lines = [line for line in SCHEMA_FILE.read_text(encoding="utf-8").splitlines() if not line.startswith("--")]
    statements = "\n".join(lines).split(";\n")
    return [statement.strip().rstrip(";") for statement in statements if statement.strip()]


def load_schema(url: str) -> None:
    """(Re)create GLPI's tables in the database of `url`: existing ones are dropped first."""
    connection = connect(url)
    try:
        with connection.cursor() as cursor:
            for statement in schema_statements():
                cursor.execute(statement)
        connection.commit()
    finally:
        connection.close()


# -- the history ------------------------------------------------------------------------------
PARIS = ZoneInfo("Europe/Paris")
VERSION = "10.0.16"
START = dt.date(2024, 1, 1)

# id, name, parent: the root entity is id 0, « Mornant » (4) is left out of glpi.toml on purpose.
ENTITIES = [
    (0, "Entité racine", None),
    (1, "Vénissieux", 0),
    (2, "Givors", 0),
    (3, "Vaulx-en-Velin", 0),
    (4, "Mornant", 0),
]
ENTITY_WEIGHTS = [10, 34, 22, 29, 5]
UNMAPPED_ENTITY = 4

GROUPS = [(1, "Support"), (2, "Systèmes d'information"), (3, "Hébergement et proximité")]

# id, name, parent, the group that handles it; « Téléphonie » (9) is left out of glpi.toml on purpose.
CATEGORIES = [
    (1, "Messagerie", 0, 2),
    (2, "Finances", 0, 2),
    (3, "Ressources humaines", 0, 2),
    (4, "Congés", 3, 2),
    (5, "État civil", 0, 2),
    (6, "Comptes et accès", 0, 1),
    (7, "Poste de travail", 0, 3),
    (8, "Portail agent", 0, 1),
    (9, "Téléphonie", 0, 3),
    (10, "Délibérations", 0, 2),
]
CATEGORY_WEIGHTS = [16, 9, 6, 4, 6, 16, 18, 8, 6, 5]  # and 1 in 20 tickets without a category
UNMAPPED_CATEGORY = 9

# id, login, first name, last name, entity, e-mail, technician
USERS = [
    (2, "jdupont", "Jean", "Dupont", 0, "jean.dupont@sitiv.example", True),  # glpi.toml maps him to « admin »
    (3, "support", "Agent", "Support", 0, "support@sitiv.example", True),  # the same login in Mutualis
    (4, "dsi-venissieux", "Karim", "Benali", 1, "k.benali@ville-venissieux.example", False),
    (5, "m.durand", "Marie", "Durand", 2, "dsi-givors@demo.mutualis.test", False),  # her mail only matches
    (6, "dsi-vaulx-en-velin", "Sophie", "Lambert", 3, "s.lambert@mairie-vaulxenvelin.example", False),
    (7, "jmartin", "Julien", "Martin", 3, "j.martin@mairie-vaulxenvelin.example", False),  # matches nothing
]
TECHNICIANS = [2, 3]
GROUP_MEMBERS = [(2, 2), (2, 3), (3, 1)]  # (user, group)
REQUESTERS = {0: [2], 1: [4], 2: [5], 3: [6, 6, 6, 6, 6, 7], 4: [3]}
ANONYMOUS_EMAILS = ["accueil.mairie@givors.example", "etat-civil@ville-venissieux.example"]

# id, name, type (0 time to resolve, 1 time to own), hours
SLAS = [(1, "Incident : prise en compte sous 4 h", 1, 4), (2, "Incident : résolution sous 2 jours", 0, 48)]
SLAS += [(3, "Demande : résolution sous 5 jours", 0, 120)]

# per category: (title, the requester's words)
SUBJECTS: dict[int, list[tuple[str, str]]] = {
    0: [
        ("Question sur un accès", "Je ne sais pas à qui m'adresser pour l'accès de notre nouvel agent."),
        ("Demande d'information", "Pouvez-vous nous rappeler la procédure pour ce type de demande ?"),
    ],
    1: [
        ("Messagerie inaccessible", "Depuis ce matin, la messagerie affiche « Erreur réseau » pour tout le service."),
        (
            "Boîte aux lettres pleine",
            "Le quota de la boîte de l'accueil est atteint, les mails des usagers reviennent.",
        ),
        ("Création d'une liste de diffusion", "Merci de créer la liste « élus » avec les 35 conseillers municipaux."),
    ],
    2: [
        ("Mandat bloqué dans Civil Net Finances", "Le mandat n° 2417 reste à l'état « en cours » depuis hier."),
        ("Erreur à l'édition du compte administratif", "L'édition s'arrête avec le message « état indisponible »."),
    ],
    3: [
        ("Bulletins de paie introuvables", "Les bulletins du mois ne sont pas visibles pour le service RH."),
        ("Ajout d'un agent dans Civil Net RH", "Un agent recruté au 1er du mois n'apparaît pas dans la paie."),
    ],
    4: [("Solde de congés erroné", "Le solde affiché pour deux agents des services techniques est faux.")],
    5: [
        ("Acte de naissance non transmis à l'INSEE", "L'envoi COMEDEC de l'acte d'hier est en erreur."),
        ("Impression des livrets de famille", "Les livrets sortent décalés sur l'imprimante de l'état civil."),
    ],
    6: [
        ("Mot de passe expiré", "L'agent ne peut plus se connecter à sa session depuis son retour de congés."),
        ("Compte pour un nouvel agent", "Merci de créer un compte pour l'agent qui arrive lundi à la médiathèque."),
        ("Départ d'un agent", "Merci de fermer les accès d'un agent qui quitte la collectivité vendredi."),
    ],
    7: [
        ("Poste lent à l'accueil", "Le poste de l'accueil met dix minutes à démarrer et se fige souvent."),
        ("Imprimante du service urbanisme hors service", "L'imprimante affiche un bourrage permanent."),
        ("Installation d'un poste en mairie annexe", "Un poste est à installer dans le bureau de la mairie annexe."),
    ],
    8: [("Portail agent : erreur de connexion", "Le portail répond « accès refusé » après l'authentification.")],
    9: [
        ("Ligne fixe coupée à l'école", "La ligne de l'école élémentaire ne sonne plus depuis lundi."),
        ("Nouveau téléphone portable", "Le responsable des services techniques a besoin d'un portable."),
    ],
    10: [
        ("Délibération non transmise", "La délibération du dernier conseil n'est pas partie au contrôle de légalité.")
    ],
}
TECH_ANSWERS = [
    "Nous regardons votre demande et revenons vers vous dans la journée.",
    "Pouvez-vous nous préciser le nom du poste et l'heure à laquelle l'erreur est apparue ?",
    "Le service a été redémarré, pouvez-vous vérifier de votre côté ?",
    "Une intervention sur site est prévue demain matin à 9 h.",
    "Le correctif de l'éditeur est installé sur le serveur de recette, nous le passerons en production ce soir.",
]
REQUESTER_ANSWERS = [
    "Merci, c'est de nouveau fonctionnel.",
    "Le problème est revenu ce matin sur deux postes.",
    "Le poste s'appelle PC-ACCUEIL-02, l'erreur est apparue vers 8 h 30.",
    "Nous sommes disponibles toute la matinée pour l'intervention.",
]
PRIVATE_NOTES = [
    "Note interne : même souci la semaine dernière à la médiathèque, voir le ticket lié.",
    "Note interne : ticket ouvert chez l'éditeur, référence SUP-48213.",
    "Note interne : le certificat du serveur expire à la fin du mois.",
]
TASKS = [
    "Redémarrage du service IMAP sur le serveur de messagerie.",
    "Réinitialisation du mot de passe dans l'annuaire LDAP.",
    "Déplacement en mairie annexe : remplacement de l'unité centrale.",
    "Application du correctif de l'éditeur et contrôle des traitements de nuit.",
    "Vérification des droits du profil dans l'application.",
    "Nettoyage du profil Windows et reconstruction du cache.",
]
SOLUTIONS = [
    "Le service est rétabli, la cause était un certificat expiré.",
    "Le mot de passe a été réinitialisé, l'agent peut de nouveau se connecter.",
    "Le poste a été remplacé et les données de l'agent restaurées.",
    "Le correctif de l'éditeur est installé en production.",
    "Les droits du profil ont été corrigés.",
]
SATISFACTION_COMMENTS = ["Très réactif, merci !", "Résolu mais après plusieurs relances.", "", "Parfait."]
DOCUMENTS = [
    ("Capture erreur.png", "PNG", "image/png"),
    ("Bon de commande signé.pdf", "PDF", "application/pdf"),
    ("Liste des agents.xlsx", "XLSX", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("Journal serveur.txt", "TXT", "text/plain"),
]


def encode_v9(html: str) -> str:
    """Rich text as GLPI before 10.0 stored it: HTML entities by name (`&lt;p&gt;`)."""
    return (
        html.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#039;")
    )


def encode_v10(html: str) -> str:
    """Rich text as GLPI 10.0 stores it: HTML entities by number (`&#60;p&#62;`)."""
    return (
        html.replace("&", "&#38;")
        .replace("<", "&#60;")
        .replace(">", "&#62;")
        .replace('"', "&#34;")
        .replace("'", "&#39;")
    )


@dataclass
class SampleFacts:
    """What the generated history holds, counted from the rows as they were written: what an
    import mapped with sample/glpi.toml must find, and the ids of the tickets carrying each trap."""

    seed: int
    timezones: bool
    tickets_written: int = 0
    # Non-deleted tickets of the mapped entities: slug -> "YYYY-MM" (month of opening, Paris) -> count
    tickets_per_month: dict[str, dict[str, int]] = field(default_factory=dict)
    tickets_expected: int = 0
    followups_expected: int = 0  # on expected tickets (itemtype Ticket)
    private_followups_expected: int = 0
    tasks_expected: int = 0
    task_seconds_expected: int = 0
    solutions_expected: int = 0
    satisfactions_expected: int = 0  # answered surveys
    documents_expected: int = 0  # distinct documents on expected tickets or their followups
    document_files: dict[int, str] = field(default_factory=dict)  # document id -> sha1 of the file written
    links_expected: int = 0  # glpi_tickets_tickets rows between two expected tickets
    followups_written: int = 0
    tasks_written: int = 0
    upgrade_date: dt.date | None = None  # the day GLPI went from 9.5 to 10.0 (the second HTML generation)
    # traps
    trashed: list[int] = field(default_factory=list)
    unmapped_entity: list[int] = field(default_factory=list)
    unmapped_category: list[int] = field(default_factory=list)
    root_entity: list[int] = field(default_factory=list)
    html_v9: int = 0
    html_v10: int = 0
    html_mixed: int = 0
    script: int = 0
    inline_image: int = 0
    inline_image_document: int = 0
    dst_spring: int = 0  # opened before, solved after the change to summer time, the same night
    dst_autumn: int = 0  # opened in the hour that happens twice when summer time ends
    anonymous: list[int] = field(default_factory=list)
    anonymous_email: str = ""
    group_only: list[int] = field(default_factory=list)
    shared_items_id: int = 0  # a ticket whose id a Problem's and a Change's rows carry in items_id
    problem_change_followups: int = 0
    problem_change_solutions: int = 0
    document_two_tickets: int = 0
    document_two_tickets_on: tuple[int, int] = (0, 0)
    document_missing: int = 0  # its file is not on disk
    document_missing_on: int = 0  # the ticket
    document_bad_sha1: int = 0  # its file was changed after GLPI took its SHA-1
    document_bad_sha1_on: int = 0
    document_on_followup: int = 0
    followup_with_document: int = 0
    solution_accepted: int = 0
    solution_refused: int = 0  # refused, then a second solution accepted; reopened, stale solve_delay_stat
    solution_waiting: int = 0
    satisfaction_answered: int = 0
    satisfaction_unanswered: int = 0
    linked: tuple[int, int] = (0, 0)
    duplicate: tuple[int, int] = (0, 0)
    reopened: int = 0
    lost_waiting: list[int] = field(default_factory=list)  # waited, GLPI's waiting_duration is 0
    waited: list[int] = field(default_factory=list)  # waited, waiting_duration right
    login_users: list[str] = field(default_factory=lambda: ["support", "dsi-venissieux", "dsi-vaulx-en-velin"])
    mail_users: dict[str, str] = field(default_factory=lambda: {"m.durand": "dsi-givors@demo.mutualis.test"})
    mapped_users: dict[str, str] = field(default_factory=lambda: {"jdupont": "admin"})
    unmatched_users: list[str] = field(default_factory=lambda: ["jmartin"])
    jmartin_tickets: list[int] = field(default_factory=list)


@dataclass
class _Ticket:
    id: int
    entity: int
    category: int
    type: int
    date: dt.datetime
    requester: int
    technician: int
    group: int
    urgency: int
    impact: int
    status: int = 6
    take: dt.datetime | None = None
    solved: dt.datetime | None = None
    closed: dt.datetime | None = None
    deleted: bool = False
    html: str = "auto"  # v9 / v10 by date; "mixed" forces the ticket v9 and its answers v10
    extra_html: str = ""
    waiting: int = 0  # seconds the ticket waited
    lost_waiting: bool = False
    refused_at: dt.datetime | None = None  # reopened: the first solution refused at this time
    first_solved: dt.datetime | None = None
    anonymous: str = ""
    group_only: bool = False
    followups: list[tuple[int, dt.datetime]] = field(default_factory=list)


class _Writer:
    """Rows buffered per table and sent in big multi-row INSERTs (PyMySQL's executemany)."""

    def __init__(self, connection: pymysql.connections.Connection, batch: int = 20000) -> None:
        self.connection = connection
        self.batch = batch
        self.columns: dict[str, tuple[str, ...]] = {}
        self.rows: dict[str, list[tuple[object, ...]]] = {}

    def table(self, name: str, columns: str) -> None:
        self.columns[name] = tuple(columns.split())
        self.rows[name] = []

    def add(self, name: str, *row: object) -> None:
        rows = self.rows[name]
        rows.append(row)
        if len(rows) >= self.batch:
            self.flush(name)

    def flush(self, name: str) -> None:
        rows = self.rows[name]
        if not rows:
            return
        columns = ", ".join(f"`{column}`" for column in self.columns[name])
        values = ", ".join(["%s"] * len(self.columns[name]))
        # the table and column names are this module's constants, every value a parameter
        sql = f"INSERT INTO `{name}` ({columns}) VALUES ({values})"  # noqa: S608
        with self.connection.cursor() as cursor:
            cursor.max_stmt_length = 8 * 1024 * 1024
            cursor.executemany(sql, rows)
        self.connection.commit()  # a batch at a time: no transaction of a million rows
        rows.clear()

    def close(self) -> None:
        for name in self.rows:
            self.flush(name)
        self.connection.commit()


def _month_start(start: dt.date, offset: int) -> dt.date:
    year, month = divmod(start.month - 1 + offset, 12)
    return dt.date(start.year + year, month + 1, 1)


def _dst_days(first: dt.date, last: dt.date) -> tuple[dt.date | None, dt.date | None]:
    """The first days in [first, last] when Paris goes to summer time and back."""
    spring = autumn = None
    for year in range(first.year, last.year + 1):
        march = max(dt.date(year, 3, d) for d in range(25, 32) if dt.date(year, 3, d).weekday() == 6)
        october = max(dt.date(year, 10, d) for d in range(25, 32) if dt.date(year, 10, d).weekday() == 6)
        if spring is None and first <= march <= last:
            spring = march
        if autumn is None and first <= october <= last:
            autumn = october
    return spring, autumn


def _daytime(rng: random.Random, moment: dt.datetime) -> dt.datetime:
    """`moment`, or the next morning when it falls at night: staff answer in the day, and no
    random time lands in the hour that does not exist when clocks go forward."""
    if 8 <= moment.hour < 19:
        return moment
    day = moment.date() if moment.hour < 8 else moment.date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(8, rng.randrange(60), rng.randrange(60)))


def _working_time(rng: random.Random, day: dt.date) -> dt.datetime:
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(rng.randint(8, 17), rng.randrange(60), rng.randrange(60)))


def generate(
    url: str,
    *,
    tickets: int = 200,
    seed: int = 42,
    timezones: bool = False,
    documents_dir: Path | None = None,
    start: dt.date = START,
    months: int = 24,
) -> SampleFacts:
    """Write the history into the EMPTY database at `url` (schema.sql loaded). The same arguments
    write the same rows. `timezones` does what GLPI's `database:enable_timezones` does: date
    columns become `timestamp` and hold UTC instants. Files go to `documents_dir` in GLPI's
    layout (filepath relative to it), one left missing and one changed after its SHA-1 was taken."""
    if tickets < 100:
        raise ValueError("at least 100 tickets: every trap needs a ticket of its own")
    rng = random.Random(seed)
    facts = SampleFacts(seed=seed, timezones=timezones)
    mapping = tomllib.loads(MAPPING_FILE.read_text(encoding="utf-8"))
    entity_slugs = {int(key): value for key, value in mapping["entities"].items()}
    mapped_categories = {int(key) for key in mapping["categories"]}
    first_day = start
    last_day = _month_start(start, months) - dt.timedelta(days=1)
    end = dt.datetime.combine(last_day, dt.time(18, 0))
    upgrade = _month_start(start, max(1, months * 2 // 5))
    facts.upgrade_date = upgrade
    upgrade_at = dt.datetime.combine(upgrade, dt.time(7, 0))

    connection = connect(url, utc=timezones)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SET SESSION unique_checks = 0, foreign_key_checks = 0")
            if timezones:
                _enable_timezones(cursor)
        writer = _Writer(connection)
        plan = _plan(rng, tickets, first_day, months, end)
        _traps(rng, plan, facts, first_day, last_day, upgrade_at, entity_slugs, mapped_categories)
        _write(rng, writer, plan, facts, timezones, documents_dir, upgrade_at, end, entity_slugs, mapped_categories)
        writer.close()
    finally:
        connection.close()
    return facts


def _enable_timezones(cursor: Any) -> None:
    """What GLPI's `database:enable_timezones` does: every `datetime` column becomes `timestamp`."""
    cursor.execute(
        "SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.COLUMNS"
        " WHERE TABLE_SCHEMA = DATABASE() AND DATA_TYPE = 'datetime' ORDER BY TABLE_NAME, ORDINAL_POSITION"
    )
    columns: dict[str, list[str]] = {}
    for table, column in cursor.fetchall():
        columns.setdefault(table, []).append(column)
    for table, names in columns.items():
        changes = ", ".join(f"MODIFY `{name}` timestamp NULL DEFAULT NULL" for name in names)
        cursor.execute(f"ALTER TABLE `{table}` {changes}")


def _plan(rng: random.Random, count: int, first_day: dt.date, months: int, end: dt.datetime) -> list[_Ticket]:
    """The tickets' main facts, opened on working days and hours, more each month, in id order."""
    weights = [1 + offset / months for offset in range(months)]
    offsets = rng.choices(range(months), weights=weights, k=count)
    dates = []
    for offset in offsets:
        month = _month_start(first_day, offset)
        day = month + dt.timedelta(days=rng.randrange(28))
        dates.append(_working_time(rng, day))
    dates.sort()
    plan = []
    for number, opened in enumerate(dates, start=1):
        opened = min(opened, end - dt.timedelta(hours=1))
        entity = rng.choices([e[0] for e in ENTITIES], weights=ENTITY_WEIGHTS)[0]
        category = 0 if rng.random() < 0.05 else rng.choices([c[0] for c in CATEGORIES], weights=CATEGORY_WEIGHTS)[0]
        group = next((c[3] for c in CATEGORIES if c[0] == category), 1)
        ticket = _Ticket(
            id=number,
            entity=entity,
            category=category,
            type=1 if rng.random() < 0.6 else 2,
            date=opened,
            requester=rng.choice(REQUESTERS[entity]),
            technician=3 if group == 1 else rng.choice([2, 2, 3]),
            group=group,
            urgency=rng.choice([2, 3, 3, 3, 4, 5]),
            impact=rng.choice([2, 3, 3, 4]),
        )
        ticket.take = _daytime(rng, opened + dt.timedelta(minutes=rng.randint(5, 240)))
        bucket = rng.random()
        hours = rng.uniform(1, 8) if bucket < 0.4 else rng.uniform(8, 72) if bucket < 0.75 else rng.uniform(72, 240)
        if rng.random() < 0.08:
            ticket.waiting = rng.randint(2, 72) * 3600
            ticket.lost_waiting = rng.random() < 0.25
        solved = _daytime(rng, ticket.take + dt.timedelta(hours=hours, seconds=ticket.waiting))
        if solved > end:
            ticket.status = rng.choice([1, 2, 2, 3, 4])
            ticket.take = None if ticket.status == 1 else min(ticket.take, end)
            ticket.waiting = 0
        else:
            ticket.solved = solved
            closed = solved + dt.timedelta(days=7)
            ticket.status, ticket.closed = (6, closed) if closed <= end else (5, None)
        ticket.deleted = rng.random() < 0.01
        if entity in (1, 2) and rng.random() < 0.01:
            ticket.anonymous = rng.choice(ANONYMOUS_EMAILS)
        ticket.group_only = rng.random() < 0.1
        plan.append(ticket)
    # the last tickets are still open, one of them waiting for the member's answer
    for index, ticket in enumerate(plan[-max(3, count // 100) :]):
        if ticket.solved is not None:
            ticket.status = 4 if index == 0 else rng.choice([1, 2, 2, 3, 4])
            ticket.solved = ticket.closed = None
            ticket.waiting, ticket.lost_waiting = 0, False
            ticket.take = None if ticket.status == 1 else ticket.take
    return plan


def _traps(
    rng: random.Random,
    plan: list[_Ticket],
    facts: SampleFacts,
    first_day: dt.date,
    last_day: dt.date,
    upgrade_at: dt.datetime,
    entity_slugs: dict[int, str],
    mapped_categories: set[int],
) -> None:
    """Give each trap a ticket of its own (besides the ones chance made)."""
    used: set[int] = set()

    def pick(condition: Any = None) -> _Ticket:
        candidates = [
            t
            for t in plan
            if t.id not in used
            and t.entity in entity_slugs
            and not t.deleted
            and t.status == 6
            and not t.anonymous
            and not t.group_only
            and not t.waiting
            and t.category in mapped_categories
            and (condition is None or condition(t))
        ]
        if not candidates:
            raise ValueError("too few tickets for every trap: ask for more")
        ticket = rng.choice(candidates)
        used.add(ticket.id)
        return ticket

    def closing(ticket: _Ticket, opened: dt.datetime, solved: dt.datetime) -> None:
        ticket.date, ticket.take, ticket.solved = opened, opened + dt.timedelta(minutes=10), solved
        ticket.closed, ticket.status = solved + dt.timedelta(days=7), 6

    while sum(t.deleted for t in plan if t.entity in entity_slugs) < 2:
        pick().deleted = True
    for _ in range(2 - sum(t.entity == UNMAPPED_ENTITY for t in plan)):
        ticket = pick()
        ticket.entity, ticket.requester = UNMAPPED_ENTITY, REQUESTERS[UNMAPPED_ENTITY][0]
    for _ in range(2):
        pick().category = UNMAPPED_CATEGORY
    for _ in range(2 - sum(t.entity == 0 and not t.deleted for t in plan)):
        ticket = pick()
        ticket.entity, ticket.requester = 0, REQUESTERS[0][0]
    facts.html_v9 = pick(lambda t: t.closed < upgrade_at - dt.timedelta(days=30)).id
    facts.html_v10 = pick(lambda t: t.date > upgrade_at + dt.timedelta(days=30)).id
    mixed = pick()
    opened = _working_time(rng, upgrade_at.date() - dt.timedelta(days=4))
    closing(mixed, opened, upgrade_at + dt.timedelta(days=1, hours=3))
    mixed.html = "mixed"
    facts.html_mixed = mixed.id
    script = pick(lambda t: t.date > upgrade_at)
    script.extra_html = "script"
    facts.script = script.id
    inline = pick(lambda t: t.date > upgrade_at)
    inline.extra_html = "inline"
    facts.inline_image = inline.id
    spring, autumn = _dst_days(first_day, last_day)
    if spring is not None and spring + dt.timedelta(days=8) < last_day:
        ticket = pick()
        # 01:50 and 03:20 on the night clocks go from 02:00 to 03:00: 30 minutes, not 90
        closing(ticket, dt.datetime.combine(spring, dt.time(1, 50)), dt.datetime.combine(spring, dt.time(3, 20)))
        ticket.take = dt.datetime.combine(spring, dt.time(1, 55))
        ticket.type, facts.dst_spring = 1, ticket.id
    if autumn is not None and autumn + dt.timedelta(days=8) < last_day:
        ticket = pick()
        # 02:30 happens twice that night (summer time first); solved 03:40 (winter time)
        closing(ticket, dt.datetime.combine(autumn, dt.time(2, 30)), dt.datetime.combine(autumn, dt.time(3, 40)))
        ticket.type, facts.dst_autumn = 1, ticket.id
    if not any(t.anonymous for t in plan if t.entity in entity_slugs and not t.deleted):
        ticket = pick(lambda t: t.entity in (1, 2))
        ticket.anonymous = ANONYMOUS_EMAILS[0]
    if not any(t.group_only for t in plan if t.entity in entity_slugs and not t.deleted):
        pick().group_only = True
    facts.shared_items_id = pick().id
    facts.document_two_tickets_on = (pick().id, pick().id)
    facts.document_missing_on = pick().id
    facts.document_bad_sha1_on = pick().id
    facts.followup_with_document = pick().id
    facts.solution_accepted = pick().id
    reopened = pick(lambda t: t.solved + dt.timedelta(days=12) < dt.datetime.combine(last_day, dt.time(8)))
    assert reopened.solved is not None  # every picked ticket is closed
    reopened.first_solved = reopened.solved
    reopened.refused_at = reopened.solved + dt.timedelta(days=1, hours=2)
    closing(reopened, reopened.date, reopened.refused_at + dt.timedelta(hours=5))
    reopened.take = reopened.date + dt.timedelta(minutes=25)
    facts.solution_refused = facts.reopened = reopened.id
    waiting = pick()
    waiting.status, waiting.closed = 5, None
    facts.solution_waiting = waiting.id
    facts.satisfaction_answered = pick().id
    facts.satisfaction_unanswered = pick().id
    facts.linked = (pick().id, pick().id)
    facts.duplicate = (pick().id, pick().id)
    for lost in (True, False):
        ticket = pick(lambda t: t.closed + dt.timedelta(days=3) < dt.datetime.combine(last_day, dt.time(8)))
        ticket.waiting, ticket.lost_waiting = 2 * 86400, lost
        assert ticket.solved is not None
        closing(ticket, ticket.date, ticket.solved + dt.timedelta(seconds=ticket.waiting))
    if not any(t.requester == 7 for t in plan if not t.deleted):
        ticket = pick(lambda t: t.entity == 3)
        ticket.requester = 7


_FILE_HEADERS = {"PNG": b"\x89PNG\r\n\x1a\n", "PDF": b"%PDF-1.4\n", "XLSX": b"PK\x03\x04", "TXT": b""}


def _write(
    rng: random.Random,
    w: _Writer,
    plan: list[_Ticket],
    facts: SampleFacts,
    timezones: bool,
    documents_dir: Path | None,
    upgrade_at: dt.datetime,
    end: dt.datetime,
    entity_slugs: dict[int, str],
    mapped_categories: set[int],
) -> None:
    def out(value: dt.datetime | None) -> dt.datetime | None:
        """A local time of Paris as the database holds it: as is (time zones off) or in UTC (on)."""
        if value is None or not timezones:
            return value
        return value.replace(tzinfo=PARIS).astimezone(dt.UTC).replace(tzinfo=None)

    def seconds(since: dt.datetime, until: dt.datetime) -> int:
        """Elapsed seconds between two local times, across a change of time as PHP counts them."""
        shift = (PARIS.utcoffset(until) or dt.timedelta()) - (PARIS.utcoffset(since) or dt.timedelta())
        return int((until - since - shift).total_seconds())

    def html(value: str, at: dt.datetime) -> str:
        return encode_v9(value) if at < upgrade_at else encode_v10(value)

    w.table("glpi_configs", "id context name value")
    w.table("glpi_entities", "id name entities_id completename level date_mod date_creation")
    w.table("glpi_users", "id name realname firstname is_active authtype entities_id user_dn date_mod date_creation")
    w.table("glpi_useremails", "id users_id is_default email")
    w.table("glpi_groups", "id entities_id is_recursive name completename level date_mod date_creation")
    w.table("glpi_groups_users", "id users_id groups_id")
    w.table("glpi_itilcategories", "id entities_id is_recursive itilcategories_id name completename level groups_id")
    w.table("glpi_slas", "id name is_recursive type number_time definition_time slms_id date_mod")
    w.table(
        "glpi_tickets",
        "id entities_id name date closedate solvedate takeintoaccountdate date_mod users_id_lastupdater status"
        " users_id_recipient requesttypes_id content urgency impact priority itilcategories_id type"
        " slas_id_ttr slas_id_tto time_to_resolve time_to_own begin_waiting_date sla_waiting_duration"
        " waiting_duration close_delay_stat solve_delay_stat takeintoaccount_delay_stat actiontime is_deleted"
        " date_creation",
    )
    w.table("glpi_tickets_users", "id tickets_id users_id type use_notification alternative_email")
    w.table("glpi_groups_tickets", "id tickets_id groups_id type")
    w.table("glpi_tickets_tickets", "id tickets_id_1 tickets_id_2 link")
    w.table(
        "glpi_itilfollowups",
        "id itemtype items_id date users_id users_id_editor content is_private requesttypes_id date_mod"
        " date_creation timeline_position",
    )
    w.table(
        "glpi_tickettasks",
        "id uuid tickets_id date users_id content is_private actiontime begin end state users_id_tech"
        " groups_id_tech date_mod date_creation timeline_position",
    )
    w.table(
        "glpi_itilsolutions",
        "id itemtype items_id content date_creation date_mod date_approval users_id users_id_approval status"
        " itilfollowups_id",
    )
    w.table("glpi_ticketsatisfactions", "id tickets_id type date_begin date_answered satisfaction comment")
    w.table(
        "glpi_documents",
        "id entities_id name filename filepath mime date_mod users_id tickets_id sha1sum tag date_creation",
    )
    w.table(
        "glpi_documents_items",
        "id documents_id items_id itemtype entities_id date_mod users_id timeline_position date_creation date",
    )

    origin = out(dt.datetime.combine(plan[0].date.date() - dt.timedelta(days=30), dt.time(9)))
    w.add("glpi_configs", 1, "core", "version", VERSION)
    w.add("glpi_configs", 2, "core", "dbversion", VERSION)
    w.add("glpi_configs", 3, "core", "timezone", "Europe/Paris" if timezones else None)
    names = {entity: name for entity, name, _ in ENTITIES}
    for entity, name, parent in ENTITIES:
        complete = name if parent is None else f"{names[parent]} > {name}"
        w.add("glpi_entities", entity, name, parent, complete, 1 if parent is None else 2, origin, origin)
    people = {0: ""}
    for user, login, first_name, last_name, entity, email, is_technician in USERS:
        dn = f"uid={login},ou=people,dc=sitiv,dc=fr" if is_technician else None
        w.add(
            "glpi_users", user, login, last_name, first_name, 1, 3 if is_technician else 1, entity, dn, origin, origin
        )
        w.add("glpi_useremails", user, user, 1, email)
        people[user] = f"{first_name} {last_name}"
    for number, (user, group) in enumerate(GROUP_MEMBERS, start=1):
        w.add("glpi_groups_users", number, user, group)
    for group, name in GROUPS:
        w.add("glpi_groups", group, 0, 1, name, name, 1, origin, origin)
    category_names = {category: name for category, name, _, _ in CATEGORIES}
    for category, name, parent, group in CATEGORIES:
        complete = name if not parent else f"{category_names[parent]} > {name}"
        w.add("glpi_itilcategories", category, 0, 1, parent, name, complete, 2 if parent else 1, group)
    for sla, name, kind, hours in SLAS:
        w.add("glpi_slas", sla, name, 1, kind, hours, "hour", 1, origin)

    ids = dict.fromkeys(("followup", "task", "solution", "actor", "group", "link", "document", "item"), 0)

    def next_id(kind: str) -> int:
        ids[kind] += 1
        return ids[kind]

    expected = {t.id for t in plan if not t.deleted and t.entity in entity_slugs}
    documents_expected: set[int] = set()
    per_month: dict[str, dict[str, int]] = {slug: {} for slug in entity_slugs.values()}

    def document(ticket: _Ticket, at: dt.datetime, user: int, *, missing: bool = False, changed: bool = False) -> int:
        number = next_id("document")
        name, ext, mime = rng.choice(DOCUMENTS)
        if ticket.extra_html == "inline":
            name, ext, mime = "image.png", "PNG", "image/png"
        content = _FILE_HEADERS[ext] + f"Document {number} du ticket GLPI {ticket.id}\n".encode()
        sha1 = hashlib.sha1(content).hexdigest()  # noqa: S324 - GLPI's own checksum, not a security use
        path = f"{ext}/{sha1[:2]}/{sha1[2:]}.{ext}"
        if documents_dir is not None and not missing:
            target = documents_dir / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content + (b"modifie apres coup\n" if changed else b""))
        tag = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        w.add(
            "glpi_documents",
            number,
            ticket.entity,
            name,
            name,
            path,
            mime,
            out(at),
            user,
            ticket.id,
            sha1,
            tag,
            out(at),
        )
        facts.document_files[number] = path
        return number

    def attach(number: int, ticket: _Ticket, itemtype: str, items_id: int, at: dt.datetime, user: int) -> None:
        w.add(
            "glpi_documents_items",
            next_id("item"),
            number,
            items_id,
            itemtype,
            ticket.entity,
            out(at),
            user,
            1,
            out(at),
            out(at),
        )
        if ticket.id in expected and itemtype in ("Ticket", "ITILFollowup"):
            documents_expected.add(number)

    shared_document = 0
    for t in plan:
        is_expected = t.id in expected
        requester = 0 if t.anonymous else t.requester
        technician = 0 if t.group_only else t.technician
        agent = technician or 3
        subject, words = rng.choice(SUBJECTS[t.category])
        signature = f"{people[requester]} ({names[t.entity]})" if requester else t.anonymous
        body = f"<p>Bonjour,</p><p>{words}</p><p>Cordialement,<br />{signature}</p>"
        last_change = t.closed or t.solved or t.take or t.date
        if t.extra_html == "script":
            body += "<p>Message d'erreur copié :</p><script>alert('erreur');</script>"
        inline_document = 0
        if t.extra_html == "inline":
            inline_document = document(t, t.date, requester or agent)
            body += (
                f'<p><img id="img-{inline_document}" src="/front/document.send.php?docid={inline_document}'
                f'&itemtype=Ticket&items_id={t.id}" alt="capture" width="640" /></p>'
            )
            facts.inline_image_document = inline_document
        content = encode_v9(body) if t.html == "mixed" else html(body, t.date)

        # the conversation: followups and tasks between the ticket's taking into account and its solution
        finish = t.solved or end
        begin = t.take or t.date
        span = max(60, int((finish - begin).total_seconds()))
        followup_count = rng.choices([0, 1, 2, 3, 4], weights=[10, 30, 30, 20, 10])[0] if t.take else 0
        task_count = rng.choices([0, 1, 2, 3], weights=[25, 45, 20, 10])[0] if t.take else 0
        if t.html == "mixed" or t.id == facts.followup_with_document:
            followup_count = max(followup_count, 2)
        moments = sorted(
            min(finish, max(begin, _daytime(rng, begin + dt.timedelta(seconds=rng.randrange(span)))))
            for _ in range(followup_count + task_count)
        )
        if t.html == "mixed":  # the answers come after the upgrade to 10.0, the request before
            moments = [max(moment, upgrade_at + dt.timedelta(hours=1 + index)) for index, moment in enumerate(moments)]
        followup_moments = sorted(rng.sample(moments, followup_count))
        for moment in followup_moments:
            moments.remove(moment)
        for index, moment in enumerate(followup_moments):
            from_requester = bool(requester) and index % 2 == 1
            private = not from_requester and rng.random() < 0.15
            if from_requester:
                author, text = requester, rng.choice(REQUESTER_ANSWERS)
            else:
                author, text = agent, rng.choice(PRIVATE_NOTES if private else TECH_ANSWERS)
            number = next_id("followup")
            row_html = html(f"<p>{text}</p>", moment)
            w.add(
                "glpi_itilfollowups",
                number,
                "Ticket",
                t.id,
                out(moment),
                author,
                0,
                row_html,
                int(private),
                1,
                out(moment),
                out(moment),
                1 if from_requester else 3,
            )
            facts.followups_written += 1
            if is_expected:
                facts.followups_expected += 1
                facts.private_followups_expected += int(private)
            if t.id == facts.followup_with_document and index == 0 or (not t.deleted and rng.random() < 0.02):
                attached = document(t, moment, author)
                attach(attached, t, "ITILFollowup", number, moment, author)
                if t.id == facts.followup_with_document and index == 0:
                    facts.document_on_followup = attached
        action = 0
        for moment in moments:
            seconds_spent = rng.choice([900, 1800, 1800, 3600, 5400, 7200])
            action += seconds_spent
            private = rng.random() < 0.3
            task_uuid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            text = html(f"<p>{rng.choice(TASKS)}</p>", moment)
            stop = moment + dt.timedelta(seconds=seconds_spent)
            w.add(
                "glpi_tickettasks",
                next_id("task"),
                task_uuid,
                t.id,
                out(moment),
                agent,
                text,
                int(private),
                seconds_spent,
                out(moment),
                out(stop),
                2,
                agent,
                t.group,
                out(moment),
                out(moment),
                1,
            )
            facts.tasks_written += 1
            if is_expected:
                facts.tasks_expected += 1
                facts.task_seconds_expected += seconds_spent
            last_change = max(last_change, moment)

        # solutions: accepted when closed, waiting for approval when solved; the reopened one was refused first
        if t.solved is not None:
            if t.refused_at is not None and t.first_solved is not None:
                refusal = next_id("followup")
                text = html("<p>La solution ne convient pas : le problème est revenu ce matin.</p>", t.refused_at)
                w.add(
                    "glpi_itilfollowups",
                    refusal,
                    "Ticket",
                    t.id,
                    out(t.refused_at),
                    requester,
                    0,
                    text,
                    0,
                    1,
                    out(t.refused_at),
                    out(t.refused_at),
                    1,
                )
                facts.followups_written += 1
                facts.followups_expected += int(is_expected)
                text = html(f"<p>{rng.choice(SOLUTIONS)}</p>", t.first_solved)
                w.add(
                    "glpi_itilsolutions",
                    next_id("solution"),
                    "Ticket",
                    t.id,
                    text,
                    out(t.first_solved),
                    out(t.refused_at),
                    out(t.refused_at),
                    agent,
                    requester,
                    4,
                    refusal,
                )
                facts.solutions_expected += int(is_expected)
            status, approval, approver = (3, t.closed, requester) if t.closed else (2, None, 0)
            text = html(f"<p>{rng.choice(SOLUTIONS)}</p>", t.solved)
            w.add(
                "glpi_itilsolutions",
                next_id("solution"),
                "Ticket",
                t.id,
                text,
                out(t.solved),
                out(approval or t.solved),
                out(approval),
                agent,
                approver,
                status,
                None,
            )
            facts.solutions_expected += int(is_expected)

        # the satisfaction survey, sent when the ticket is closed
        if t.closed is not None and (
            t.id in (facts.satisfaction_answered, facts.satisfaction_unanswered) or rng.random() < 0.3
        ):
            answered = t.closed + dt.timedelta(days=rng.randint(1, 3), hours=rng.randint(0, 5))
            if (
                t.id == facts.satisfaction_unanswered
                or answered > end
                or (t.id != facts.satisfaction_answered and rng.random() < 0.25)
            ):
                w.add("glpi_ticketsatisfactions", t.id, t.id, 1, out(t.closed), None, None, None)
            else:
                comment = rng.choice(SATISFACTION_COMMENTS)
                w.add(
                    "glpi_ticketsatisfactions",
                    t.id,
                    t.id,
                    1,
                    out(t.closed),
                    out(answered),
                    rng.choice([5, 5, 4, 4, 4, 3, 2, 1]),
                    comment or None,
                )
                facts.satisfactions_expected += int(is_expected)
                last_change = max(last_change, answered)

        # actors
        if requester:
            w.add("glpi_tickets_users", next_id("actor"), t.id, requester, 1, 1, None)
        else:
            w.add("glpi_tickets_users", next_id("actor"), t.id, 0, 1, 1, t.anonymous)
        if technician and t.status != 1:
            w.add("glpi_tickets_users", next_id("actor"), t.id, technician, 2, 1, None)
        if t.status != 1:
            w.add("glpi_groups_tickets", next_id("group"), t.id, t.group, 2)
        if t.entity != 0 and t.id % 9 == 0:  # the member's IT manager follows some of his town's tickets
            observer = REQUESTERS[t.entity][0]
            if observer != requester:
                w.add("glpi_tickets_users", next_id("actor"), t.id, observer, 3, 1, None)

        # documents on the ticket
        if t.id in facts.document_two_tickets_on:
            if not shared_document:
                shared_document = document(t, t.date, requester or agent)
                facts.document_two_tickets = shared_document
            attach(shared_document, t, "Ticket", t.id, t.date, requester or agent)
        if t.id == facts.document_missing_on:
            facts.document_missing = document(t, t.date, requester or agent, missing=True)
            attach(facts.document_missing, t, "Ticket", t.id, t.date, requester or agent)
        if t.id == facts.document_bad_sha1_on:
            facts.document_bad_sha1 = document(t, t.date, requester or agent, changed=True)
            attach(facts.document_bad_sha1, t, "Ticket", t.id, t.date, requester or agent)
        if inline_document:
            attach(inline_document, t, "Ticket", t.id, t.date, requester or agent)
        if not t.deleted and rng.random() < 0.03:
            attach(document(t, t.date, requester or agent), t, "Ticket", t.id, t.date, requester or agent)

        # a Problem and a Change whose ids are this ticket's: their rows must stay theirs
        if t.id == facts.shared_items_id:
            moment = (t.solved or t.date) + dt.timedelta(days=1)
            for itemtype, text in (
                ("Problem", "<p>Analyse : les certificats de trois serveurs avaient expiré le même jour.</p>"),
                ("Change", "<p>Changement : renouvellement automatique des certificats.</p>"),
            ):
                w.add(
                    "glpi_itilfollowups",
                    next_id("followup"),
                    itemtype,
                    t.id,
                    out(moment),
                    2,
                    0,
                    html(text, moment),
                    0,
                    1,
                    out(moment),
                    out(moment),
                    3,
                )
                facts.followups_written += 1
                facts.problem_change_followups += 1
            text = html("<p>Supervision des dates d'expiration ajoutée.</p>", moment)
            w.add(
                "glpi_itilsolutions",
                next_id("solution"),
                "Problem",
                t.id,
                text,
                out(moment),
                out(moment),
                None,
                2,
                0,
                1,
                None,
            )
            facts.problem_change_solutions += 1
            problem_document = document(t, moment, 2)
            w.add(
                "glpi_documents_items",
                next_id("item"),
                problem_document,
                t.id,
                "Problem",
                t.entity,
                out(moment),
                2,
                1,
                out(moment),
                out(moment),
            )

        # the ticket itself
        waiting_duration = 0 if t.lost_waiting else t.waiting
        take_stat = seconds(t.date, t.take) if t.take else 0
        if t.first_solved is not None:
            solve_stat = seconds(t.date, t.first_solved)  # GLPI kept the first solution's delay
        elif t.solved is not None:
            solve_stat = seconds(t.date, t.solved) - waiting_duration
        else:
            solve_stat = 0
        close_stat = seconds(t.date, t.closed) - waiting_duration if t.closed else 0
        hours = 48 if t.type == 1 else 120
        time_to_resolve = _daytime(rng, t.date + dt.timedelta(hours=hours, seconds=t.waiting))
        time_to_own = t.date + dt.timedelta(hours=4) if t.type == 1 else None
        begin_waiting = None
        if t.status == 4:
            begin_waiting = min(end, (t.take or t.date) + dt.timedelta(hours=2))
        last_change = max(last_change, t.date)
        technician_last = (requester or agent) if t.status == 1 else agent
        w.add(
            "glpi_tickets",
            t.id,
            t.entity,
            subject,
            out(t.date),
            out(t.closed),
            out(t.solved),
            out(t.take),
            out(last_change),
            technician_last,
            t.status,
            requester or agent,
            rng.choice([1, 1, 2, 2, 3]),
            content,
            t.urgency,
            t.impact,
            max(1, min(5, round((t.urgency + t.impact) / 2))),
            t.category,
            t.type,
            2 if t.type == 1 else 3,
            1 if t.type == 1 else 0,
            out(time_to_resolve),
            out(time_to_own),
            out(begin_waiting),
            t.waiting,
            waiting_duration,
            close_stat,
            solve_stat,
            take_stat,
            action,
            int(t.deleted),
            out(t.date),
        )
        facts.tickets_written += 1
        if is_expected:
            facts.tickets_expected += 1
            month = f"{t.date.year:04d}-{t.date.month:02d}"
            counts = per_month[entity_slugs[t.entity]]
            counts[month] = counts.get(month, 0) + 1
        if t.deleted:
            facts.trashed.append(t.id)
        elif t.entity not in entity_slugs:
            facts.unmapped_entity.append(t.id)
        else:
            if t.category not in mapped_categories and t.category:
                facts.unmapped_category.append(t.id)
            if t.entity == 0:
                facts.root_entity.append(t.id)
            if t.anonymous:
                facts.anonymous.append(t.id)
                facts.anonymous_email = facts.anonymous_email or t.anonymous
            if t.group_only and t.status != 1:
                facts.group_only.append(t.id)
            if t.waiting and t.solved is not None:
                (facts.lost_waiting if t.lost_waiting else facts.waited).append(t.id)
            if requester == 7:
                facts.jmartin_tickets.append(t.id)

    # links between tickets: the traps' pairs, and now and then a ticket linked to an earlier one
    pairs: list[tuple[int, int, int]] = [(*facts.linked, 1), (*facts.duplicate, 2)]
    pairs += [(t.id, t.id - rng.randint(1, 40), rng.choice([1, 1, 1, 2])) for t in plan if t.id > 50 and t.id % 97 == 0]
    seen: set[tuple[int, int]] = set()
    for first, second, link in pairs:
        key = (min(first, second), max(first, second))
        if key in seen:
            continue
        seen.add(key)
        w.add("glpi_tickets_tickets", next_id("link"), first, second, link)
        facts.links_expected += int(first in expected and second in expected)
    facts.documents_expected = len(documents_expected)
    facts.tickets_per_month = per_month


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mutualis.glpi.sample.history",
        description="Crée une base GLPI 10.0 d'exemple (schéma et historique de tickets) pour essayer la reprise.",
    )
    parser.add_argument(
        "--url", required=True, help="mysql://utilisateur:mot-de-passe@hôte:port/base (créée au besoin)"
    )
    parser.add_argument("--tickets", type=int, default=2000, help="nombre de tickets (défaut 2000, 100 au moins)")
    parser.add_argument("--seed", type=int, default=42, help="graine du tirage (défaut 42)")
    parser.add_argument("--months", type=int, default=24, help="mois d'historique depuis le 1er janvier 2024 (24)")
    parser.add_argument(
        "--timezones", action="store_true", help="fuseaux horaires de GLPI activés (colonnes timestamp, UTC)"
    )
    parser.add_argument("--documents-dir", type=Path, help="dossier des fichiers des documents (GLPI_DOC_DIR)")
    options = parser.parse_args(argv)
    name = urlsplit(options.url).path.strip("/")
    if not name:
        parser.error("--url doit nommer la base : mysql://…/base")
    started = time.monotonic()
    url = create_database(database_url(options.url, ""), name)
    load_schema(url)
    facts = generate(
        url,
        tickets=options.tickets,
        seed=options.seed,
        timezones=options.timezones,
        documents_dir=options.documents_dir,
        months=options.months,
    )
    elapsed = time.monotonic() - started
    print(
        f"{redacted(url)} : {facts.tickets_written} tickets ({facts.tickets_expected} à reprendre), "
        f"{facts.followups_written} suivis, {facts.tasks_written} tâches, {len(facts.document_files)} documents "
        f"en {elapsed:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
