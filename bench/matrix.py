"""Deployment matrix benchmark: 300 members × 150 applications × 60 % subscribed, side by side with a naive peer.

    .venv/bin/python -m bench.matrix                       # a throwaway SQLite file
    .venv/bin/python -m bench.matrix --database-url postgres://postgres@127.0.0.1:5432/postgres

The issue's targets: the matrix page makes a constant number of queries (≤ 6, whatever the size) and
renders in ≤ 300 ms median; the CSV export takes ≤ 1 s. The peer is the way a typical Django view
would do it (one query per application row, one template loop iteration per cell) and runs in the
same process on the same data, so the speed-up holds on a noisy shared machine where the absolute
figures do not. A benchmark, not a test: it always exits 0, and says MISSED next to a missed target.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.urls import include, path

MATRIX_URL = "/catalogue/matrice/"
CSV_URL = "/catalogue/matrice.csv"
XLSX_URL = "/catalogue/matrice.xlsx"
PEER_URL = "/bench/pair/matrice/"
PEER_CSV_URL = "/bench/pair/matrice.csv"

PAGE_QUERIES_TARGET = 6
PAGE_MS_TARGET = 300.0
CSV_MS_TARGET = 1000.0

SMALL = 10  # members and applications of the first, small data set
DOMAINS = [
    "Finances", "Ressources humaines", "État civil", "Urbanisme", "Enfance et scolaire", "Social",
    "Courrier et GED", "Assemblées", "Police municipale", "Cimetières", "Bureautique", "Infrastructure",
]  # fmt: skip
PLACES = [
    "Écully", "Bron", "Saint-Fons", "Vénissieux", "Caluire-et-Cuire", "Oullins", "Pierre-Bénite", "Irigny",
    "Givors", "Meyzieu", "Décines", "Rillieux", "Tassin", "Craponne", "Francheville", "Sainte-Foy",
]  # fmt: skip


# --- The peer: the matrix the way a typical Django view writes it ---------------------------

PEER_TEMPLATE = """{% extends "base.html" %}
{% block title %}Matrice des déploiements (pair naïf){% endblock %}
{% block main_class %}wide{% endblock %}
{% block content %}<h1>Matrice des déploiements</h1>
<table class="matrix">
<thead><tr><th scope="col">Application</th>{% for m in members %}<th scope="col" title="{{ m.name }}">{{ m.label }}</th>{% endfor %}<th scope="col">Total</th></tr></thead>
{% for group in groups %}<tbody><tr><th scope="rowgroup" colspan="{{ colspan }}">{{ group.domain.name }}</th></tr>
{% for row in group.rows %}<tr><th scope="row"><a href="{% url 'catalog:detail' row.application.slug %}">{{ row.application.name }}</a>{% if row.application.source_confidence != "certain" %} <span class="badge warn">attribution incomplète dans la source</span>{% endif %}</th>{% for cell in row.cells %}{% if cell %}<td class="y">oui</td>{% else %}<td></td>{% endif %}{% endfor %}<td class="num">{{ row.total }}</td></tr>
{% endfor %}</tbody>{% endfor %}
<tfoot><tr><th scope="row">Total par adhérent</th>{% for n in column_totals %}<td class="num">{{ n }}</td>{% endfor %}<td class="num">{{ total }}</td></tr></tfoot>
</table>{% endblock %}"""  # noqa: E501


def _peer_matrix_data() -> dict[str, Any]:
    """Members, then applications, then each application's subscribers: one query per row."""
    from mutualis.catalog.models import ACTIVE_STATUSES, Application
    from mutualis.members.models import Organisation

    members = list(Organisation.objects.members().order_by("name"))
    applications = Application.objects.select_related("domain").order_by(
        "domain__position", "domain__name", "position", "name"
    )
    groups: list[dict[str, Any]] = []
    column_totals = [0] * len(members)
    for application in applications:
        subscribers = set(
            application.subscriptions.filter(status__in=ACTIVE_STATUSES).values_list("collectivity_id", flat=True)
        )
        cells = [member.pk in subscribers for member in members]
        for index, cell in enumerate(cells):
            column_totals[index] += cell
        if not groups or groups[-1]["domain"].pk != application.domain_id:
            groups.append({"domain": application.domain, "rows": []})
        groups[-1]["rows"].append({"application": application, "cells": cells, "total": sum(cells)})
    return {
        "members": members,
        "groups": groups,
        "column_totals": column_totals,
        "total": sum(column_totals),
        "colspan": len(members) + 2,
    }


def peer_matrix(request: Any) -> Any:
    from django.contrib.auth.views import redirect_to_login
    from django.http import HttpResponse
    from django.template import engines

    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    template = engines["django"].from_string(PEER_TEMPLATE)
    return HttpResponse(template.render(_peer_matrix_data(), request))


def peer_matrix_csv(request: Any) -> Any:
    from django.contrib.auth.views import redirect_to_login
    from django.http import HttpResponse

    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    data = _peer_matrix_data()
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    writer = csv.writer(response, lineterminator="\n")
    writer.writerow(["domaine", "application", *[m.slug for m in data["members"]], "total"])
    for group in data["groups"]:
        for row in group["rows"]:
            cells = ["oui" if c else "" for c in row["cells"]]
            writer.writerow([group["domain"].name, row["application"].name, *cells, row["total"]])
    return response


def __getattr__(name: str) -> Any:
    """The bench's URL map (ROOT_URLCONF points here): the peer's two views next to the whole
    project's, built on first use since including config.urls needs the settings loaded."""
    if name == "urlpatterns":
        return [
            path("bench/pair/matrice/", peer_matrix),
            path("bench/pair/matrice.csv", peer_matrix_csv),
            path("", include("config.urls")),
        ]
    raise AttributeError(name)


# --- Throwaway database -----------------------------------------------------------------------


@contextmanager
def throwaway_database(database_url: str | None, name: str, *, keep: bool = False) -> Iterator[str]:
    """Point the settings at an empty database and remove it afterwards; yields a description.
    With `keep` (PostgreSQL only), an existing database of that name is used as it is and left in
    place afterwards: a bench that recognises its own data there can skip generating it again."""
    var_dir = tempfile.mkdtemp(prefix="mutualis-bench-")
    os.environ["MUTUALIS_VAR_DIR"] = var_dir
    created = None
    try:
        if database_url:
            created = _pg_create(database_url, name, keep=keep)
            os.environ["DATABASE_URL"] = created
            yield f"PostgreSQL, database {name}"
        else:
            os.environ.pop("DATABASE_URL", None)  # the embedded default: a SQLite file under var_dir
            yield f"SQLite, {var_dir}/mutualis.sqlite3"
    finally:
        if "django" in sys.modules:
            from django.db import connections

            connections.close_all()
        if created and database_url and not keep:
            _pg_drop(database_url, name)
        shutil.rmtree(var_dir, ignore_errors=True)


def _pg_admin(database_url: str) -> tuple[str, str]:
    parts = urlsplit(database_url)
    if parts.scheme not in {"postgres", "postgresql", "pgsql"}:
        raise SystemExit(f"--database-url must be a PostgreSQL URL, not {parts.scheme}://")
    maintenance = urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, ""))
    return maintenance, parts.netloc


def _pg_create(database_url: str, name: str, *, keep: bool = False) -> str:
    import psycopg
    from psycopg import sql

    maintenance, _netloc = _pg_admin(database_url)
    with psycopg.connect(maintenance.replace("pgsql://", "postgresql://", 1), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not (keep and exists):
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    parts = urlsplit(database_url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))


def _pg_drop(database_url: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    maintenance, _netloc = _pg_admin(database_url)
    with psycopg.connect(maintenance.replace("pgsql://", "postgresql://", 1), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def setup_django() -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["SECRET_KEY"] = secrets.token_urlsafe(48)
    os.environ["MUTUALIS_REQUIRE_2FA"] = "false"
    os.environ["DEBUG"] = "false"
    os.environ["ALLOWED_HOSTS"] = "testserver"  # the test Client's host
    os.environ["EMAIL_URL"] = "memory://"
    import django
    from django.conf import settings

    django.setup()
    settings.ROOT_URLCONF = "bench.matrix"


# --- Synthetic data ---------------------------------------------------------------------------


@dataclass
class Synthetic:
    """The whole data set, built in memory with a fixed seed and inserted in two steps."""

    members: list[Any]
    applications: list[Any]
    pairs: list[tuple[int, int]]  # (member index, application index) of the subscriptions

    @classmethod
    def build(cls, *, members: int, applications: int, ratio: float, seed: int) -> Synthetic:
        from mutualis.catalog.models import Application, SourceConfidence
        from mutualis.members.models import Organisation, OrganisationKind

        rng = random.Random(seed)
        orgs = [
            Organisation(
                name=f"{rng.choice(PLACES)} {i:03d}",
                short_name=f"C{i:03d}" if i % 4 == 0 else "",
                slug=f"commune-{i:03d}",
                kind=OrganisationKind.COMMUNE,
                insee_code=f"69{i:03d}",
                population=rng.randint(800, 120_000),
            )
            for i in range(members)
        ]
        apps = []
        for i in range(applications):
            confidence = rng.choices(
                [SourceConfidence.CERTAIN, SourceConfidence.INFERRED, SourceConfidence.UNKNOWN], [8, 1, 1]
            )[0]
            apps.append(
                Application(
                    slug=f"application-{i:03d}",
                    name=f"Application {i:03d} <{rng.choice(['GF', 'RH', 'GED', 'SIG'])}> & co",
                    software=f"Logiciel {i}",
                    position=i,
                    source_confidence=confidence,
                    source_reported_count=rng.randint(1, 40) if confidence != SourceConfidence.CERTAIN else None,
                )
            )
        all_pairs = [(m, a) for m in range(members) for a in range(applications)]
        pairs = sorted(rng.sample(all_pairs, round(len(all_pairs) * ratio)))
        return cls(members=orgs, applications=apps, pairs=pairs)

    def insert(self, *, members: range, applications: range) -> int:
        """Insert these members and applications, and the subscriptions between inserted ones."""
        from mutualis.catalog.models import Domain, Subscription, SubscriptionStatus

        domains = {d.position: d for d in Domain.objects.all()}
        if not domains:
            Domain.objects.bulk_create(
                Domain(slug=f"domaine-{i:02d}", name=name, position=i) for i, name in enumerate(DOMAINS)
            )
            domains = {d.position: d for d in Domain.objects.all()}
        for index in applications:
            self.applications[index].domain = domains[index % len(domains)]
        type(self.members[0]).objects.bulk_create([self.members[i] for i in members])
        type(self.applications[0]).objects.bulk_create([self.applications[i] for i in applications])
        inserted = (
            {m for m, org in enumerate(self.members) if org.pk},
            {a for a, app in enumerate(self.applications) if app.pk},
        )
        new_members, new_apps = set(members), set(applications)
        subscriptions = [
            Subscription(
                collectivity_id=self.members[m].pk,
                application_id=self.applications[a].pk,
                status=SubscriptionStatus.PRODUCTION,
            )
            for m, a in self.pairs
            if m in inserted[0] and a in inserted[1] and (m in new_members or a in new_apps)
        ]
        Subscription.objects.bulk_create(subscriptions, batch_size=5000)
        return len(subscriptions)


def create_operator_staff() -> Any:
    from mutualis.accounts.models import Role, User
    from mutualis.members.models import Organisation, OrganisationKind

    operator = Organisation.objects.create(
        name="Syndicat mixte de banc d'essai", short_name="SMBE", slug="operateur", kind=OrganisationKind.OPERATOR
    )
    user = User(username="bench-staff", role=Role.OPERATOR_STAFF, organisation=operator, first_name="Banc")
    user.set_unusable_password()
    user.save()
    return user


# --- Measures ---------------------------------------------------------------------------------


def count_queries(client: Any, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # warm-up: caches (operator's name, templates) filled as in steady state
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(context)


def timed(client: Any, url: str) -> tuple[float, Any]:
    start = time.perf_counter()
    response = client.get(url)
    elapsed = (time.perf_counter() - start) * 1000
    assert response.status_code == 200, (url, response.status_code)
    return elapsed, response


def medians(client: Any, urls: dict[str, tuple[str, int]], *, warmups: int) -> dict[str, float]:
    """Median wall time (ms) per url, the runs interleaved so a noisy spell hits every url alike."""
    for url, _runs in urls.values():
        for _ in range(warmups):
            timed(client, url)
    samples: dict[str, list[float]] = {key: [] for key in urls}
    for i in range(max(runs for _url, runs in urls.values())):
        for key, (url, runs) in urls.items():
            if i < runs:
                samples[key].append(timed(client, url)[0])
    return {key: statistics.median(values) for key, values in samples.items()}


# --- Report -----------------------------------------------------------------------------------


@dataclass
class Line:
    figure: str
    ours: str
    peer: str = ""
    ratio: str = ""
    target: str = ""
    result: str = ""


def verdict(ok: bool | None) -> str:
    return "" if ok is None else ("pass" if ok else "MISSED")


def print_table(lines: list[Line]) -> None:
    header = Line("figure", "Mutualis", "peer", "speed-up", "target", "result")
    rows = [header, *lines]
    widths = [max(len(getattr(r, f)) for r in rows) for f in ("figure", "ours", "peer", "ratio", "target", "result")]

    def fmt(r: Line) -> str:
        cells = [r.figure, r.ours, r.peer, r.ratio, r.target, r.result]
        return "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    print(fmt(header))
    print("  ".join("-" * w for w in widths))
    for line in lines:
        print(fmt(line))


def ms(value: float) -> str:
    return f"{value:,.0f} ms".replace(",", " ") if value >= 10 else f"{value:.1f} ms"


def run(args: argparse.Namespace, say: Callable[[str], None]) -> list[Line]:
    from django.core.management import call_command
    from django.test import Client

    start = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    say(f"migrated in {time.perf_counter() - start:.1f} s")

    data = Synthetic.build(members=args.members, applications=args.applications, ratio=args.ratio, seed=args.seed)
    client = Client()
    client.force_login(create_operator_staff())

    small = min(SMALL, args.members), min(SMALL, args.applications)
    start = time.perf_counter()
    n_small = data.insert(members=range(small[0]), applications=range(small[1]))
    say(f"small set: {small[0]} members × {small[1]} applications, {n_small} subscriptions")
    ours_small = count_queries(client, MATRIX_URL)
    peer_small = count_queries(client, PEER_URL)

    n_rest = data.insert(members=range(small[0], args.members), applications=range(small[1], args.applications))
    total = n_small + n_rest
    say(
        f"full set: {args.members} members × {args.applications} applications, {total} subscriptions "
        f"({total / (args.members * args.applications):.0%}), inserted in {time.perf_counter() - start:.1f} s"
    )
    ours_full = count_queries(client, MATRIX_URL)
    peer_full = count_queries(client, PEER_URL)
    csv_queries, peer_csv_queries = count_queries(client, CSV_URL), count_queries(client, PEER_CSV_URL)

    # Same data on both sides: identical CSV files, as many "oui" cells in both pages.
    page, peer_page = timed(client, MATRIX_URL)[1].content, timed(client, PEER_URL)[1].content
    ours_csv, peer_csv = timed(client, CSV_URL)[1].content, timed(client, PEER_CSV_URL)[1].content
    cell = b'<td class="y">oui</td>'
    same = ours_csv == peer_csv and page.count(cell) == peer_page.count(cell) == total
    say(
        f"sanity: page {len(page) / 1024:,.0f} KiB with {page.count(cell)} 'oui' cells (peer {peer_page.count(cell)}), "
        f"CSV {len(ours_csv) / 1024:,.0f} KiB {'identical to' if ours_csv == peer_csv else 'DIFFERENT from'} the peer's"
    )

    say(f"timing: {args.runs} runs after {args.warmups} warm-ups (peer: {args.peer_runs} runs, interleaved)…")
    t = medians(
        client,
        {
            "page": (MATRIX_URL, args.runs),
            "peer_page": (PEER_URL, args.peer_runs),
            "csv": (CSV_URL, args.runs),
            "peer_csv": (PEER_CSV_URL, args.peer_runs),
            "xlsx": (XLSX_URL, max(3, args.runs // 3)),
        },
        warmups=args.warmups,
    )

    def ratio(peer: float, ours: float) -> str:
        return f"× {peer / ours:.1f}" if ours else ""

    size = f"{args.members}×{args.applications}"
    constant = ours_small == ours_full
    return [
        Line(f"page queries, {small[0]}×{small[1]}", str(ours_small), str(peer_small), "",
             f"≤ {PAGE_QUERIES_TARGET}", verdict(ours_small <= PAGE_QUERIES_TARGET)),
        Line(f"page queries, {size}", str(ours_full), str(peer_full), ratio(peer_full, ours_full),
             f"≤ {PAGE_QUERIES_TARGET}, = small", verdict(constant and ours_full <= PAGE_QUERIES_TARGET)),
        Line(f"page median, {size}", ms(t["page"]), ms(t["peer_page"]), ratio(t["peer_page"], t["page"]),
             f"≤ {PAGE_MS_TARGET:.0f} ms", verdict(t["page"] <= PAGE_MS_TARGET)),
        Line(f"CSV queries, {size}", str(csv_queries), str(peer_csv_queries), ratio(peer_csv_queries, csv_queries)),
        Line(f"CSV median, {size}", ms(t["csv"]), ms(t["peer_csv"]), ratio(t["peer_csv"], t["csv"]),
             f"≤ {CSV_MS_TARGET:.0f} ms", verdict(t["csv"] <= CSV_MS_TARGET)),
        Line(f"XLSX median, {size}", ms(t["xlsx"]), "", "", "(information)"),
        Line("same data as the peer", "yes" if same else "NO", "", "", "yes", verdict(same)),
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.matrix", description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="a PostgreSQL server; the bench creates and drops its own database")
    parser.add_argument("--database-name", default="mutualis_bench", help="default: %(default)s")
    parser.add_argument("--members", type=int, default=300)
    parser.add_argument("--applications", type=int, default=150)
    parser.add_argument("--ratio", type=float, default=0.6, help="share of subscribed pairs")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--runs", type=int, default=15, help="timed runs per figure (default: %(default)s)")
    parser.add_argument("--peer-runs", type=int, help="timed runs of the peer (default: as many as --runs)")
    parser.add_argument("--warmups", type=int, default=2)
    args = parser.parse_args(argv)
    args.peer_runs = args.peer_runs or args.runs
    if args.database_name in {"test", "postgres", "template0", "template1"} or not args.database_name.isidentifier():
        parser.error(f"refusing to create and drop the database {args.database_name!r}")

    def say(message: str) -> None:
        print(f"· {message}", flush=True)

    with throwaway_database(args.database_url, args.database_name) as where:
        setup_django()
        import django

        say(f"deployment matrix — {where}, Django {django.get_version()}, Python {sys.version.split()[0]}")
        lines = run(args, say)
    print()
    print_table(lines)
    missed = [line.figure for line in lines if line.result == "MISSED"]
    print()
    print(f"MISSED: {', '.join(missed)}" if missed else "Every target met.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
