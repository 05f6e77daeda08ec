"""The helpdesk benchmark's data: one seeded stream of tickets over ten years, loaded into
Mutualis's tables here and into django-helpdesk's by bench.hd_peer, so both sides hold the same
volume with the same distributions.

What is generated (the README repeats it): 300 member communes (Zipf-like ticket volume), 3 to 30
agents each, 40 applications in 12 domains (each member subscribes to about 60 % of them),
12 categories, 3 support groups and 9 technicians; N tickets opened over the last ten years with a
volume growing linearly, on working days and hours, 60 % incidents, urgency × impact through
GLPI's matrix, 3 % blocking incidents under the 2-business-day policy; tickets older than two
months are nearly all closed, the last two weeks' are mostly open. One ticket in 20 has two
followups (a staff answer, the requester's reply) and its transitions; the audit log and the
task queue start empty."""

from __future__ import annotations

import datetime as dt
import math
import random
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from bench import hd_bulk

PARIS = ZoneInfo("Europe/Paris")
YEARS = 10
MEMBERS = 300
APPLICATIONS = 40
TECHNICIANS = 9
FOLLOWUP_EVERY = 20  # one ticket in 20 has followups and transitions

# GLPI's default priority matrix: urgency → {impact: priority} (as migration 0002).
MATRIX = {
    5: {5: 5, 4: 5, 3: 5, 2: 4, 1: 4},
    4: {5: 5, 4: 4, 3: 4, 2: 3, 1: 3},
    3: {5: 5, 4: 4, 3: 3, 2: 2, 1: 2},
    2: {5: 4, 4: 3, 3: 2, 2: 2, 1: 1},
    1: {5: 4, 4: 3, 3: 2, 2: 1, 1: 1},
}
DOMAINS = [
    "Finances", "Ressources humaines", "État civil", "Urbanisme", "Enfance et scolaire", "Social",
    "Courrier et GED", "Assemblées", "Police municipale", "Cimetières", "Bureautique", "Infrastructure",
]  # fmt: skip
SOFTWARE = [
    "Berger-Levrault e.magnus GF", "Ciril GF", "JVS Horizon", "Cegid RH", "Agirhe", "Mélodie", "Avenir",
    "Siècle", "Cart@ds", "OpenADS", "Concerto", "iNoé", "Arpège Espace Famille", "Millésime",
    "Maarch Courrier", "Alfresco", "iDelibRE", "Webdelib", "S2LOW", "Pastell", "Logitud Municipol",
    "Gescime", "LibreOffice", "Thunderbird", "Zimbra", "Nextcloud", "GLPI", "OCS Inventory", "Parapheur",
    "Chorus Pro", "Hélios", "DGFiP PES", "Publik", "Démarches simplifiées", "QGIS", "Lizmap", "Tiers",
    "Mes Démarches", "Wordpress", "Sauvegarde",
]  # fmt: skip
CATEGORIES = [
    "Connexion et accès", "Erreur applicative", "Lenteurs", "Impression et éditions", "Paramétrage",
    "Mise à jour", "Formation", "Création de compte", "Import / export", "Matériel", "Messagerie",
    "Autre demande",
]  # fmt: skip
INCIDENTS = [
    "Impossible de se connecter à {app}", "{app} : erreur à la validation", "{app} très lent depuis ce matin",
    "L'édition des mandats échoue dans {app}", "Message d'erreur au lancement de {app}",
    "{app} : écran blanc après la mise à jour", "Données manquantes dans {app}", "Export impossible depuis {app}",
]  # fmt: skip
REQUESTS = [
    "Création d'un compte {app} pour un nouvel agent", "Formation à {app} pour le service",
    "Paramétrage d'un nouveau circuit dans {app}", "Demande de droits supplémentaires sur {app}",
    "Installation de {app} sur un nouveau poste", "Modèle de courrier à ajouter dans {app}",
]  # fmt: skip
SENTENCES = [
    "Bonjour, depuis ce matin l'agent ne parvient plus à travailler normalement.",
    "Le message affiché est « Une erreur inattendue s'est produite » et rien ne se passe ensuite.",
    "Nous avons redémarré le poste sans effet.",
    "Le problème touche plusieurs agents du service.",
    "Merci de nous indiquer la marche à suivre, la clôture budgétaire approche.",
    "Vous trouverez ci-dessous les étapes pour reproduire le problème.",
    "1. Ouvrir le module ; 2. choisir l'exercice en cours ; 3. valider.",
    "C'est assez urgent : les paies doivent partir vendredi.",
    "Le navigateur utilisé est Firefox ESR, version à jour.",
    "Cordialement,\n\nLe secrétariat de mairie",
]  # fmt: skip

STATUS_AGE = [  # (maximum age in days, [(status, weight)…])
    (15, [("new", 15), ("assigned", 20), ("in_progress", 25), ("pending", 10), ("solved", 20), ("closed", 10)]),
    (60, [("assigned", 3), ("in_progress", 7), ("pending", 5), ("solved", 15), ("closed", 70)]),
    (math.inf, [("in_progress", 1), ("pending", 1), ("solved", 1), ("closed", 997)]),
]


class Spec(NamedTuple):
    """One generated ticket, engine-neutral; both loaders turn it into their own row."""

    number: int  # 1..N in opening order (the row id on both sides)
    opened_at: dt.datetime
    incident: bool
    member: int
    requester: int  # index within the member's agents
    application: int
    category: int
    urgency: int
    impact: int
    priority: int
    blocking: bool
    status: str
    technician: int | None
    taken_at: dt.datetime | None
    solved_at: dt.datetime | None
    closed_at: dt.datetime | None
    ttr_due_at: dt.datetime | None
    ttr_breached: bool
    title: str
    description: str


@dataclass
class Shape:
    """Who exists: members with their agents and subscriptions, applications, technicians."""

    seed: int
    member_weights: list[float]
    agents: list[int]  # number of agents per member
    subscriptions: list[list[int]]  # applications each member subscribes to
    app_group: list[int]  # support group (0..2) of each application
    technician_group: list[int] = field(default_factory=lambda: [0, 0, 0, 1, 1, 1, 2, 2, 2])

    @classmethod
    def build(cls, seed: int) -> Shape:
        rng = random.Random(seed)
        weights = [1 / (rank + 1) ** 0.8 for rank in range(MEMBERS)]
        rng.shuffle(weights)
        agents = [rng.randint(3, 30) for _ in range(MEMBERS)]
        subscriptions = [sorted(rng.sample(range(APPLICATIONS), rng.randint(16, 32))) for _ in range(MEMBERS)]
        return cls(
            seed=seed,
            member_weights=weights,
            agents=agents,
            subscriptions=subscriptions,
            app_group=[i % 3 for i in range(APPLICATIONS)],
        )


def ticket_stream(shape: Shape, n: int, *, now: dt.datetime) -> Iterator[Spec]:
    """N tickets in opening order over the last ten years, the volume growing linearly."""
    rng = random.Random(shape.seed + 1)
    start = now - dt.timedelta(days=365 * YEARS)
    span_days = (now - start).days
    # Sorted draws from a linearly growing density: day = span × sqrt(u).
    days = sorted(int(span_days * math.sqrt(rng.random())) for _ in range(n))
    members = rng.choices(range(MEMBERS), weights=shape.member_weights, k=n)
    last_opened = start
    for number, (day_offset, member) in enumerate(zip(days, members, strict=True), start=1):
        day = (start + dt.timedelta(days=day_offset)).date()
        if day.weekday() >= 5 and rng.random() < 0.95:
            day -= dt.timedelta(days=day.weekday() - 4)  # weekend → the Friday before
        minute = int(rng.triangular(0, 600, 150))  # 08:00–18:00, busiest mid-morning
        opened = dt.datetime(
            day.year, day.month, day.day, 8 + minute // 60, minute % 60, rng.randint(0, 59), tzinfo=PARIS
        )
        opened = max(opened, last_opened)  # keep ids in opening order
        if opened > now:
            opened = now - dt.timedelta(seconds=n - number + 1)
        last_opened = opened
        incident = rng.random() < 0.6
        urgency = rng.choices((1, 2, 3, 4, 5), (5, 20, 50, 18, 7))[0]
        impact = rng.choices((1, 2, 3, 4, 5), (10, 30, 45, 10, 5))[0]
        blocking = incident and rng.random() < 0.05
        age = (now - opened).days
        status = next(
            rng.choices([s for s, _ in dist], [w for _, w in dist])[0] for limit, dist in STATUS_AGE if age <= limit
        )
        application = rng.choice(shape.subscriptions[member])
        technician = None
        taken = solved = closed = None
        if status != "new":
            group = shape.app_group[application]
            technician = rng.choice([t for t, g in enumerate(shape.technician_group) if g == group])
            taken = opened + dt.timedelta(minutes=rng.randint(5, 240))
        if status in {"solved", "closed"}:
            solved = taken + dt.timedelta(hours=rng.lognormvariate(2.5, 1.2)) if taken else None
        if status == "closed" and solved:
            closed = solved + dt.timedelta(days=7)
        for moment in (taken, solved, closed):
            if moment and moment > now:
                taken = min(taken, now) if taken else None
                solved = min(solved, now) if solved else None
                closed = min(closed, now) if closed else None
        due = breached = None
        if blocking:
            due = opened + dt.timedelta(days=2 if opened.weekday() < 3 else 4)
            breached = (solved or now) > due
        app_name = SOFTWARE[application]
        title = rng.choice(INCIDENTS if incident else REQUESTS).format(app=app_name)
        description = " ".join(rng.sample(SENTENCES, rng.randint(2, 6)))
        yield Spec(
            number=number,
            opened_at=opened,
            incident=incident,
            member=member,
            requester=rng.randrange(shape.agents[member]),
            application=application,
            category=rng.randrange(len(CATEGORIES)),
            urgency=urgency,
            impact=impact,
            priority=MATRIX[urgency][impact],
            blocking=blocking,
            status=status,
            technician=technician,
            taken_at=taken,
            solved_at=solved,
            closed_at=closed,
            ttr_due_at=due,
            ttr_breached=bool(breached),
            title=title,
            description=description,
        )


def followup_texts(spec: Spec) -> list[tuple[bool, str, dt.datetime]]:
    """(from staff, body, when) of a ticket's two followups."""
    at = spec.taken_at or spec.opened_at
    return [
        (
            True,
            "Bonjour, nous avons reproduit le problème et le transmettons à l'éditeur.",
            at + dt.timedelta(minutes=5),
        ),
        (False, "Merci, nous restons disponibles pour un test.", at + dt.timedelta(minutes=45)),
    ]


def status_path(spec: Spec) -> list[tuple[str, str, str, dt.datetime]]:
    """(action, from, to, when) of the transitions that brought a ticket to its status."""
    path: list[tuple[str, str, str, dt.datetime]] = []
    if spec.taken_at:
        path.append(("assign", "new", "assigned", spec.taken_at))
        path.append(("take", "assigned", "in_progress", spec.taken_at + dt.timedelta(minutes=1)))
    if spec.status == "pending":
        path.append(("wait", "in_progress", "pending", (spec.taken_at or spec.opened_at) + dt.timedelta(hours=1)))
    if spec.solved_at:
        path.append(("solve", "in_progress", "solved", spec.solved_at))
    if spec.closed_at:
        path.append(("close", "solved", "closed", spec.closed_at))
    if spec.status == "assigned":
        path = path[:1]
    return path


# --- Mutualis -----------------------------------------------------------------------------------


@dataclass
class World:
    """What the load needs from the generated data."""

    staff: Any
    agent: Any
    agent_applications: list[str]  # slugs the agent's collectivity subscribes to
    member_slugs: list[str]
    application_slugs: list[str]
    ticket_references: list[str]  # tickets with followups, for the ticket page
    tickets: int


def _row_maker(model: Any, values: Callable[[Spec], dict[str, Any]]) -> tuple[list[str], Callable[[Any], tuple]]:
    fields = list(model._meta.concrete_fields)
    defaults = {}
    for f in fields:
        if f.has_default() and not callable(f.default):
            defaults[f.attname] = f.default
        elif f.null:
            defaults[f.attname] = None
        else:
            defaults[f.attname] = ""
    columns = [f.column for f in fields]
    attnames = [f.attname for f in fields]

    def make(item: Any) -> tuple:
        given = values(item)
        return tuple(given[a] if a in given else defaults[a] for a in attnames)

    return columns, make


def load_mutualis(*, tickets: int, seed: int, say: Callable[[str], None]) -> World:
    """Reference data through the ORM, then tickets, followups and transitions in bulk."""
    import time

    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction
    from django.utils import timezone

    from mutualis.accounts.models import Role, User
    from mutualis.catalog.cache import applications_changed
    from mutualis.catalog.models import Application, Domain, Subscription, SubscriptionStatus
    from mutualis.helpdesk.models import (
        Calendar,
        Category,
        Followup,
        SlaPolicy,
        Ticket,
        TicketSequence,
        TransitionLog,
    )
    from mutualis.members.models import OperatorService, Organisation, OrganisationKind

    started = time.perf_counter()
    shape = Shape.build(seed)
    now = timezone.now()
    with transaction.atomic():
        operator = Organisation.objects.create(
            name="Syndicat mixte de banc d'essai", short_name="SMBE", slug="operateur", kind=OrganisationKind.OPERATOR
        )
        services = [
            OperatorService.objects.create(organisation=operator, slug=slug, name=name)
            for slug, name in (
                ("support", "Support"),
                ("applications", "Applications métier"),
                ("infra", "Infrastructure"),
            )
        ]
        staff_users = []
        for t, group in enumerate(shape.technician_group):
            user = User(
                username=f"tech{t}",
                first_name=f"Technicien {t}",
                email=f"tech{t}@smbe.example",
                role=Role.OPERATOR_STAFF,
                organisation=operator,
                service=services[group],
            )
            user.set_unusable_password()
            staff_users.append(user)
        User.objects.bulk_create(staff_users)
        members = Organisation.objects.bulk_create(
            Organisation(
                name=f"Commune {i:03d}", slug=f"commune-{i:03d}", kind=OrganisationKind.COMMUNE, insee_code=f"69{i:03d}"
            )
            for i in range(MEMBERS)
        )
        agents: list[list[User]] = []
        unusable = make_password(None)  # set_unusable_password's kind of value, computed once
        all_agents = []
        for m, member in enumerate(members):
            row = [
                User(
                    username=f"agent-{m:03d}-{a:02d}",
                    first_name=f"Agent {a}",
                    email=f"agent{a}@commune-{m:03d}.example",
                    role=Role.MEMBER_MANAGER if a == 0 else Role.MEMBER_AGENT,
                    organisation=member,
                    password=unusable,
                )
                for a in range(shape.agents[m])
            ]
            agents.append(row)
            all_agents.extend(row)
        User.objects.bulk_create(all_agents, batch_size=2000)
        domains = Domain.objects.bulk_create(
            Domain(slug=f"domaine-{i:02d}", name=name, position=i) for i, name in enumerate(DOMAINS)
        )
        apps = Application.objects.bulk_create(
            Application(
                slug=f"app-{i:02d}",
                name=name,
                software=name,
                domain=domains[i % len(domains)],
                support_group=services[shape.app_group[i]],
                position=i,
            )
            for i, name in enumerate(SOFTWARE[:APPLICATIONS])
        )
        applications_changed()  # written around the catalogue's services
        Subscription.objects.bulk_create(
            (
                Subscription(collectivity=members[m], application=apps[a], status=SubscriptionStatus.PRODUCTION)
                for m in range(MEMBERS)
                for a in shape.subscriptions[m]
            ),
            batch_size=5000,
        )
        categories = Category.objects.bulk_create(
            Category(slug=f"categorie-{i:02d}", name=name, position=i) for i, name in enumerate(CATEGORIES)
        )
    calendar = Calendar.objects.get(is_default=True)
    policy = SlaPolicy.objects.filter(blocking_only=True).first()
    say(
        f"reference data: {MEMBERS} members, {len(all_agents)} agents, {APPLICATIONS} applications, {TECHNICIANS} technicians"  # noqa: E501
    )

    def ticket_values(s: Spec) -> dict[str, Any]:
        year = s.opened_at.year
        counters[year] = counters.get(year, 0) + 1
        return {
            "id": s.number,
            "created_at": s.opened_at,
            "updated_at": s.closed_at or s.solved_at or s.taken_at or s.opened_at,
            "reference": f"{year}-{counters[year]:06d}",
            "external_id": None,
            "ticket_type": "incident" if s.incident else "request",
            "source": "web",
            "collectivity_id": members[s.member].pk,
            "requester_id": agents[s.member][s.requester].pk,
            "application_id": apps[s.application].pk,
            "category_id": categories[s.category].pk,
            "title": s.title,
            "description": s.description,
            "urgency": s.urgency,
            "impact": s.impact,
            "priority": s.priority,
            "blocking": s.blocking,
            "status": s.status,
            "group_id": services[shape.app_group[s.application]].pk,
            "technician_id": staff_users[s.technician].pk if s.technician is not None else None,
            "policy_id": policy.pk if s.blocking and policy else None,
            "calendar_id": calendar.pk,
            "opened_at": s.opened_at,
            "taken_at": s.taken_at,
            "solved_at": s.solved_at,
            "closed_at": s.closed_at,
            "pending_since": (s.taken_at or s.opened_at) + dt.timedelta(hours=1) if s.status == "pending" else None,
            "pending_reason": "requester" if s.status == "pending" else "",
            "ttr_budget_s": 57_600 if s.blocking else None,
            "ttr_due_at": s.ttr_due_at,
            "ttr_breached": s.ttr_breached,
            "satisfaction": (s.number % 5) + 1 if s.closed_at and s.number % 7 == 0 else None,
        }

    counters: dict[int, int] = {}
    references: list[str] = []
    followup_specs: list[Spec] = []
    columns, make = _row_maker(Ticket, ticket_values)
    ref_index = columns.index("reference")

    def rows() -> Iterator[tuple]:
        for s in ticket_stream(shape, tickets, now=now):
            row = make(s)
            if s.number % FOLLOWUP_EVERY == 0:
                followup_specs.append(s)
                if len(references) < 5000:
                    references.append(row[ref_index])
            yield row

    raw = _raw(connection)
    with transaction.atomic(), hd_bulk.indexes_deferred(raw, Ticket._meta.db_table):
        count = hd_bulk.insert(raw, Ticket._meta.db_table, columns, rows())
    say(f"{thin(count)} tickets in {time.perf_counter() - started:.0f} s")

    def followup_values(item: tuple[Spec, int, bool, str, dt.datetime]) -> dict[str, Any]:
        s, _i, from_staff, body, at = item
        author = (
            staff_users[s.technician].pk
            if from_staff and s.technician is not None
            else agents[s.member][s.requester].pk
        )
        return {"created_at": at, "updated_at": at, "ticket_id": s.number, "author_id": author, "body": body}

    def transition_values(item: tuple[Spec, str, str, str, dt.datetime]) -> dict[str, Any]:
        s, action, source, target, at = item
        actor = staff_users[s.technician].pk if s.technician is not None else None
        return {"ticket_id": s.number, "created_at": at, "actor_id": actor, "action": action,
                "from_status": source, "to_status": target, "comment": ""}  # fmt: skip

    f_columns, f_make = _row_maker(Followup, followup_values)
    t_columns, t_make = _row_maker(TransitionLog, transition_values)
    f_columns, t_columns = f_columns[1:], t_columns[1:]  # no explicit id
    with transaction.atomic():
        n_followups = hd_bulk.insert(
            raw,
            Followup._meta.db_table,
            f_columns,
            (f_make((s, i, *f))[1:] for s in followup_specs for i, f in enumerate(followup_texts(s))),
        )
        n_transitions = hd_bulk.insert(
            raw,
            TransitionLog._meta.db_table,
            t_columns,
            (t_make((s, *p))[1:] for s in followup_specs for p in status_path(s)),
        )
        hd_bulk.reset_sequence(raw, Ticket._meta.db_table)
        for year, last in counters.items():
            TicketSequence.objects.update_or_create(year=year, defaults={"last": last})
    hd_bulk.analyze(raw)
    say(
        f"{thin(n_followups)} followups, {thin(n_transitions)} transitions; loaded in {time.perf_counter() - started:.0f} s"  # noqa: E501
    )
    rng = random.Random(seed + 2)
    rng.shuffle(references)
    agent_member = max(range(MEMBERS), key=lambda m: shape.member_weights[m])
    return World(
        staff=staff_users[0],
        agent=agents[agent_member][1],
        agent_applications=[apps[a].slug for a in shape.subscriptions[agent_member]],
        member_slugs=[m.slug for m in members],
        application_slugs=[a.slug for a in apps],
        ticket_references=references[:500],
        tickets=count,
    )


def _raw(connection: Any) -> Any:
    connection.ensure_connection()
    raw = connection.connection
    if hd_bulk.is_sqlite(raw):
        hd_bulk.speed_up_sqlite(raw)
    return raw


def thin(n: int) -> str:
    """1 000 000: French digit grouping."""
    return f"{n:,}".replace(",", "\u202f")


def secret(n: int = 10) -> str:
    return secrets.token_hex(n)[:n]
