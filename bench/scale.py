"""Several-server benchmark: the production guide's set-up — two gunicorn app servers and two task
workers on one PostgreSQL behind one nginx, Redis as the shared cache — loaded by 50 locust users
for 60 s, then the same scenario against one app server (the reference).

    .venv/bin/pip install -c constraints.txt -e ".[bench]"      # locust
    .venv/bin/python -m bench.scale
    .venv/bin/python -m bench.scale --database-url postgres://postgres@127.0.0.1:5432/postgres \\
        --cache-url redis://127.0.0.1:6379/6 --port 8400

The issue's targets: 0 errors and p95 ≤ 300 ms on every page. A benchmark, not a test: it always
exits 0 and says MISSED next to a missed target.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import csv
import json
import os
import random
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.matrix import Line, _pg_create, _pg_drop, print_table, verdict

ROOT = Path(__file__).resolve().parent.parent
LOCAL_UP = ROOT / "deploy" / "local_up.py"
LOCUSTFILE = Path(__file__).with_name("scale_locust.py")
PASSWORD = "Banc-de-charge-2026"
P95_TARGET_MS = 300.0
STATIC = "static file (nginx)"  # the floor's page name, as bench/scale_locust.py reports it
SPLIT = {"staff": 0.4, "members": 0.5, "api": 0.1}  # of --users; the rest goes to members


# --- The data set -------------------------------------------------------------------------------


def setup_django(database_url: str, cache_url: str, var_dir: str) -> None:
    """This process only loads the data: the servers get their own environment from local_up."""
    os.environ.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=database_url,
        CACHE_URL=cache_url,
        MUTUALIS_VAR_DIR=var_dir,
        SECRET_KEY=secrets.token_urlsafe(48),
        EMAIL_URL="memory://",
    )
    import django

    django.setup()


@dataclass
class World:
    """What the locust users need: their accounts and the pages they visit."""

    staff: list[dict[str, Any]] = field(default_factory=list)
    members: list[dict[str, Any]] = field(default_factory=list)
    api: list[dict[str, Any]] = field(default_factory=list)
    staff_tickets: list[str] = field(default_factory=list)
    queue_queries: list[str] = field(default_factory=list)
    months: list[str] = field(default_factory=list)
    tickets: int = 0


def build_world(*, users: dict[str, int], months: int, seed: int, say: Callable[[str], None]) -> World:
    """The reference operator's demo, the bench's accounts (requesters of the generated history),
    the history itself, a confirmed TOTP device per staff account and an API token per client."""
    import pyotp
    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import connections
    from django.utils import timezone

    from mutualis.accounts import services as account_services
    from mutualis.accounts.models import Role, User
    from mutualis.catalog.models import ACTIVE_STATUSES, Subscription
    from mutualis.demo.generator import generate
    from mutualis.demo.loader import load_demo
    from mutualis.helpdesk.enums import OPEN_STATUSES
    from mutualis.helpdesk.models import Ticket
    from mutualis.members.models import OperatorService, Organisation
    from mutualis.quality.kpis import Month

    rng = random.Random(seed)
    cache.clear()  # our Redis database: reference data of an earlier run must not survive
    start = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    say(f"migrated in {time.perf_counter() - start:.0f} s")
    start = time.perf_counter()
    counts = load_demo()
    say(f"demo loaded in {time.perf_counter() - start:.0f} s: " + ", ".join(f"{k} {v}" for k, v in counts.items()))

    operator = Organisation.objects.get(kind="operator")
    service = OperatorService.objects.filter(organisation=operator).order_by("pk").first()
    cities = list(Organisation.objects.members().filter(subscriptions__status__in=ACTIVE_STATUSES).distinct())
    cities.sort(key=lambda o: o.slug)
    world = World()
    staff_accounts = []
    for n in range(users["staff"]):
        user = User.objects.create_user(
            username=f"banc-agent-sitiv-{n:02d}", password=PASSWORD, email=f"banc-sitiv-{n:02d}@banc.mutualis.test",
            first_name="Agent", last_name=f"Banc {n:02d}", role=Role.OPERATOR_STAFF, organisation=operator,
            service=service,
        )  # fmt: skip
        staff_accounts.append(user)
    member_accounts: list[tuple[User, Organisation]] = []
    for n in range(users["members"] + users["api"]):
        city = cities[n % len(cities)]
        user = User.objects.create_user(
            username=f"banc-agent-{city.slug}-{n:02d}", password=PASSWORD, email=f"banc-{n:02d}@{city.slug}.test",
            first_name="Agent", last_name=f"Banc {n:02d}", role=Role.MEMBER_AGENT, organisation=city,
        )  # fmt: skip
        member_accounts.append((user, city))

    start = time.perf_counter()
    result = generate(months=months, seed=seed)
    world.tickets = Ticket.objects.count()
    say(f"history generated in {time.perf_counter() - start:.0f} s: {result.tickets} tickets over {months} months")

    for user in staff_accounts:
        device = account_services.totp_device_for_enrolment(user=user)
        secret = base64.b32encode(device.bin_key).decode()
        if not account_services.totp_confirm(user=user, device=device, token=pyotp.TOTP(secret).now()):
            raise RuntimeError(f"TOTP enrolment refused for {user.username}")
        device.refresh_from_db()
        world.staff.append(
            {"username": user.username, "password": PASSWORD, "totp_secret": secret, "totp_last_t": device.last_t}
        )
    subscribed: dict[int, list[str]] = {}
    for collectivity_id, slug in Subscription.objects.filter(status__in=ACTIVE_STATUSES).values_list(
        "collectivity_id", "application__slug"
    ):
        subscribed.setdefault(collectivity_id, []).append(slug)
    for n, (user, city) in enumerate(member_accounts):
        if n < users["members"]:
            visible = Ticket.objects.visible_to(user).order_by("-opened_at").values_list("reference", flat=True)
            world.members.append({"username": user.username, "password": PASSWORD, "tickets": list(visible[:30])})
        else:
            _token, secret = account_services.api_token_create(actor=user, name="banc de charge")
            world.api.append({"username": user.username, "token": secret, "applications": subscribed[city.pk]})
    no_ticket = [m["username"] for m in world.members if not m["tickets"]]
    if no_ticket:
        say(f"{len(no_ticket)} member accounts requested no ticket in the history: their request page is skipped")

    # Staff open tickets of every age: the open ones (the queue's) and a sample of the others.
    open_refs = list(Ticket.objects.filter(status__in=OPEN_STATUSES).values_list("reference", flat=True))
    other_refs = list(Ticket.objects.exclude(status__in=OPEN_STATUSES).values_list("reference", flat=True))
    world.staff_tickets = rng.sample(open_refs, min(150, len(open_refs))) + rng.sample(
        other_refs, min(150, len(other_refs))
    )
    applications = sorted({slug for slugs in subscribed.values() for slug in slugs})
    collectivities = [c.slug for c in cities]
    world.queue_queries = (
        ["", "?view=open", "?view=open&page=2", "?view=mine", "?view=unassigned", "?view=all", "?view=all&page=3"]
        + [f"?view=all&application={a}" for a in rng.sample(applications, min(8, len(applications)))]
        + [f"?view=all&collectivity={c}" for c in rng.sample(collectivities, min(6, len(collectivities)))]
        + ["?view=open&priority=4", "?view=all&search=bordereau"]
    )
    today = timezone.localdate()
    this_month = Month(today.year, today.month)
    world.months = [str(this_month), str(Month(today.year - 1 if today.month == 1 else today.year,
                                                12 if today.month == 1 else today.month - 1))]  # fmt: skip
    connections.close_all()
    return world


# --- The set-up (deploy/local_up.py) ------------------------------------------------------------


@dataclass
class SetUp:
    label: str
    app_servers: int
    directory: Path
    base: str = ""
    state: dict[str, Any] = field(default_factory=dict)


def server_environment() -> dict[str, str]:
    """What the servers inherit: this machine's environment without the settings this process
    set for its own data load (each server gets its own from local_up's env file)."""
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE", "SECRET_KEY", "MUTUALIS_VAR_DIR"}}
    env.pop("DATABASE_URL", None)
    env.pop("CACHE_URL", None)
    env["PYTHONPATH"] = str(ROOT)
    return env


@contextmanager
def running(setup: SetUp, args: argparse.Namespace, database_url: str, say: Callable[[str], None]) -> Iterator[SetUp]:
    command = [
        sys.executable, str(LOCAL_UP), "up", "--dir", str(setup.directory), "--port", str(args.port),
        "--database-url", database_url, "--cache-url", args.cache_url,
        "--app-servers", str(setup.app_servers), "--workers", str(args.workers),
    ] + ([] if args.no_tls else ["--tls"])  # fmt: skip
    start = time.perf_counter()
    try:
        done = subprocess.run(command, env=server_environment(), capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            raise RuntimeError(f"local_up up failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
        setup.state = json.loads((setup.directory / "state.json").read_text(encoding="utf-8"))
        setup.base = str(setup.state.get("base_url") or done.stdout.strip().splitlines()[-1]).rstrip("/")
        say(f"{setup.label}: up at {setup.base} in {time.perf_counter() - start:.0f} s")
        workers = [n - 1 for n in group_sizes([server["pid"] for server in setup.state.get("app_servers", [])])]
        say(f"{setup.label}: gunicorn workers per app server {workers} (sync)")
        settle(since=setup.state.get("ready_at", time.time()) - 60, timeout=args.settle_timeout, say=say)
        yield setup
    finally:
        subprocess.run(
            [sys.executable, str(LOCAL_UP), "down", "--dir", str(setup.directory)],
            env=server_environment(), capture_output=True, text=True, timeout=120,
        )  # fmt: skip


def settle(*, since: float, timeout: float, say: Callable[[str], None]) -> None:
    """Wait for the scheduler's first tick (on a new database it catches up the periods it missed:
    the monthly reports take a core for some seconds) and for the task queue to empty, so that the
    load meets the set-up at rest, as it would in the middle of a working day."""
    import datetime as dt

    from django.db import connections
    from django_tasks_db.models import DBTaskResult

    from mutualis.core.scheduler import last_tick

    start = time.monotonic()
    moment = dt.datetime.fromtimestamp(since, tz=dt.UTC)
    try:
        while time.monotonic() - start < timeout:
            tick = last_tick()
            queued = DBTaskResult.objects.filter(status__in=["READY", "RUNNING"]).count()
            if tick is not None and tick >= moment and not queued:
                say(f"scheduler ticked and task queue empty after {time.monotonic() - start:.0f} s")
                return
            time.sleep(1)
        say(f"still busy after {timeout:.0f} s (last tick {tick}, {queued} jobs queued): loading anyway")
    finally:
        connections.close_all()


@dataclass
class Effects:
    """What the run wrote: tickets created through the API, background jobs done and failed."""

    tickets: int = 0
    jobs_done: int = 0
    jobs_failed: int = 0

    @classmethod
    def now(cls) -> Effects:
        from django.db import connections
        from django_tasks_db.models import DBTaskResult

        from mutualis.helpdesk.models import Ticket

        try:
            return cls(
                tickets=Ticket.objects.count(),
                jobs_done=DBTaskResult.objects.filter(status="SUCCESSFUL").count(),
                jobs_failed=DBTaskResult.objects.filter(status="FAILED").count(),
            )
        finally:
            connections.close_all()

    def __sub__(self, other: Effects) -> Effects:
        return Effects(
            self.tickets - other.tickets, self.jobs_done - other.jobs_done, self.jobs_failed - other.jobs_failed
        )


def served_per_app_server(setup: SetUp) -> list[int]:
    """Requests each app server logged (gunicorn's access log): nginx spread the load or not."""
    counts = []
    for server in setup.state.get("app_servers", []):
        log = Path(server["log"])
        text = log.read_text(errors="replace") if log.exists() else ""
        counts.append(sum(1 for line in text.splitlines() if '"GET ' in line or '"POST ' in line))
    return counts


# --- CPU accounting (Linux /proc): what each part of the set-up used during the measured window --


def cpu_sample(groups: dict[str, list[int]], database: str) -> dict[str, dict[str, float]]:
    """CPU seconds so far per part and process: each local_up process runs in its own process
    group (its gunicorn workers with it), PostgreSQL's backends are those connected to `database`,
    the load generator is the calling process, `machine` is every core's busy time (/proc/stat)."""
    ticks = os.sysconf("SC_CLK_TCK")
    part_of = {pgid: part for part, pgids in groups.items() for pgid in pgids}
    seconds: dict[str, dict[str, float]] = {part: {} for part in [*groups, "postgres"]}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            part = part_of.get(int(fields[2]))
            if part is None and "postgres" in stat[: stat.rindex(")")]:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                part = "postgres" if f" {database} " in cmdline else None
        except (OSError, ValueError):
            continue  # gone meanwhile
        if part:
            seconds[part][entry.name] = (int(fields[11]) + int(fields[12])) / ticks
    own = os.times()
    seconds["load generator"] = {str(os.getpid()): own.user + own.system}
    busy = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    seconds["machine"] = {"all": (sum(int(x) for x in busy) - int(busy[3]) - int(busy[4])) / ticks}  # less idle
    return seconds


def group_sizes(pgids: list[int]) -> list[int]:
    """Processes in each process group (an app server: its gunicorn master and workers)."""
    sizes = dict.fromkeys(pgids, 0)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                pgid = int(stat[stat.rindex(")") + 2 :].split()[2])
            except (OSError, ValueError):
                continue
            if pgid in sizes:
                sizes[pgid] += 1
    return [sizes[pgid] for pgid in pgids]


def process_groups(state: dict[str, Any]) -> dict[str, list[int]]:
    return {
        "app servers": [s["pid"] for s in state.get("app_servers", [])],
        "nginx": [state["nginx"]["pid"]] if state.get("nginx") else [],
        "task workers and scheduler": [w["pid"] for w in state.get("workers", [])]
        + ([state["scheduler"]["pid"]] if state.get("scheduler") else []),
    }


# --- The load -----------------------------------------------------------------------------------


@dataclass
class PageStat:
    name: str
    requests: int
    failures: int
    p50: float
    p95: float
    per_second: float


@dataclass
class Run:
    label: str
    pages: dict[str, PageStat] = field(default_factory=dict)
    total: PageStat | None = None
    phases: dict[str, Any] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    missing: str = ""
    effects: Effects = field(default_factory=Effects)
    per_server: list[int] = field(default_factory=list)


def run_locust(setup: SetUp, world: World, args: argparse.Namespace, work: Path, say: Callable[[str], None]) -> Run:
    run = Run(setup.label)
    tag = f"{setup.app_servers}-server"
    data_file, result_file, prefix = work / f"{tag}.json", work / f"{tag}-phases.json", work / tag
    split = user_split(args.users)
    data = {
        "staff": world.staff, "members": world.members, "api": world.api, "staff_tickets": world.staff_tickets,
        "queue_queries": world.queue_queries, "months": world.months, "users": split,
        "think": [args.think_min, args.think_max], "login_timeout": args.login_timeout, "warm_up": args.warm_up,
        "duration": args.duration, "result": str(result_file), "ca_file": setup.state.get("ca_file"),
        "process_groups": process_groups(setup.state), "database": args.database_name,
    }  # fmt: skip
    data_file.write_text(json.dumps(data), encoding="utf-8")
    locust = str(Path(sys.executable).with_name("locust"))
    command = [
        locust, "-f", str(LOCUSTFILE), "--headless", "--host", setup.base, "--csv", str(prefix),
        "--stop-timeout", "5", "--loglevel", "WARNING", "--only-summary", "--exit-code-on-error", "0",
    ]  # fmt: skip
    budget = args.login_timeout + args.warm_up + args.duration + 120
    before = Effects.now()
    with open(work / f"{tag}-locust.log", "w", encoding="utf-8") as log:
        subprocess.run(
            command, env={**server_environment(), "MUTUALIS_SCALE_DATA": str(data_file)},
            stdout=log, stderr=subprocess.STDOUT, timeout=budget, cwd=str(ROOT),
        )  # fmt: skip
    # Jobs queued by the last creations are done within a second or two: give the workers that.
    time.sleep(3)
    run.effects = Effects.now() - before
    run.per_server = served_per_app_server(setup)
    if not result_file.exists():
        run.missing = "locust did not finish its phases: " + (work / f"{tag}-locust.log").read_text()[-1500:]
        return run
    run.phases = json.loads(result_file.read_text(encoding="utf-8"))
    with open(f"{prefix}_stats.csv", encoding="utf-8") as stats:
        for row in csv.DictReader(stats):
            if not int(row["Request Count"]):  # the sign-in pages, reset once everyone was in
                continue
            stat = PageStat(
                row["Name"], int(row["Request Count"]), int(row["Failure Count"]),
                float(row["50%"] or 0), float(row["95%"] or 0), float(row["Requests/s"] or 0),
            )  # fmt: skip
            if row["Name"] == "Aggregated":
                run.total = stat
            else:
                run.pages[row["Name"]] = stat
    with open(f"{prefix}_failures.csv", encoding="utf-8") as failures:
        run.failures = [
            f"{r['Occurrences']} × {r['Method']} {r['Name']}: {r['Error']}" for r in csv.DictReader(failures)
        ]
    return run


def user_split(users: int) -> dict[str, int]:
    staff, api = round(users * SPLIT["staff"]), max(1, round(users * SPLIT["api"]))
    return {"staff": staff, "members": users - staff - api, "api": api}


# --- Report -------------------------------------------------------------------------------------


def report(two: Run, one: Run | None) -> list[Line]:
    """Each page's figures in the two-server run against the target, with the one-server run's
    p95 beside them (the speed-up is theirs over ours) and the static file as the floor."""
    if two.missing or two.total is None:
        return [Line("benchmark run", "failed", "", "", "completes", "MISSED")]
    lines: list[Line] = []
    for name, page in sorted(two.pages.items()):
        ref = one.pages.get(name) if one else None
        is_floor = name == STATIC
        lines.append(
            Line(
                f"{name} (n={page.requests}{f', {page.failures} errors' if page.failures else ''})",
                f"p50 {page.p50:.0f} / p95 {page.p95:.0f} ms",
                f"p95 {ref.p95:.0f} ms" if ref else "",
                f"× {ref.p95 / page.p95:.2f}" if ref and page.p95 else "",
                "(floor)" if is_floor else f"p95 ≤ {P95_TARGET_MS:.0f} ms",
                "" if is_floor else verdict(page.p95 <= P95_TARGET_MS and not page.failures),
            )
        )
    total, ref_total = two.total, one.total if one else None
    lines.append(
        Line(
            f"all pages, requests/s (n={total.requests})", f"{total.per_second:.1f}/s",
            f"{ref_total.per_second:.1f}/s" if ref_total else "",
            f"× {total.per_second / ref_total.per_second:.2f}" if ref_total and ref_total.per_second else "",
            "(information)",
        )
    )  # fmt: skip
    floor = two.pages.get(STATIC)
    app = [p for n, p in two.pages.items() if n != STATIC]
    if floor and app:
        worst = max(app, key=lambda p: p.p95)
        lines.append(
            Line(
                f"worst page p95 over the static floor ({worst.name})", f"× {worst.p95 / max(floor.p95, 1):.0f}", "",
                "", "(information)",
            )
        )  # fmt: skip
    two_cpu, one_cpu = cores(two), cores(one) if one else {}
    if two_cpu:
        app_requests = total.requests - (floor.requests if floor else 0)

        def per_request(run: Run, used: dict[str, float]) -> float:
            static = run.pages.get(STATIC)
            n = (run.total.requests if run.total else 0) - (static.requests if static else 0)
            return 1000 * used["app servers"] * run.phases["measured_seconds"] / n if n else 0.0

        ours, theirs = per_request(two, two_cpu), per_request(one, one_cpu) if one and one_cpu else 0.0
        lines.append(
            Line(
                f"app servers' CPU per page (n={app_requests})", f"{ours:.0f} ms", f"{theirs:.0f} ms" if theirs else "",
                "", "(information)",
            )
        )  # fmt: skip
        for part in ("app servers", "postgres", "nginx", "task workers and scheduler", "load generator", "others"):
            lines.append(
                Line(
                    f"  cores busy: {part}", f"{two_cpu[part]:.2f}", f"{one_cpu[part]:.2f}" if one_cpu else "", "",
                    "(information)",
                )
            )  # fmt: skip
    if sum(two.per_server):
        shares = " / ".join(f"{n / sum(two.per_server):.0%}" for n in two.per_server)
        lines.append(Line("requests per app server (gunicorn logs)", shares, "", "", "(information)"))
    created, rows = two.phases.get("api_created", 0), two.effects.tickets
    lines.append(Line("tickets: API answers 201 = rows added", f"{created} = {rows}",
                      f"{one.phases.get('api_created', 0)} = {one.effects.tickets}" if one else "", "", "equal",
                      verdict(created == rows)))  # fmt: skip
    lines.append(Line(f"background jobs failed (of {two.effects.jobs_done + two.effects.jobs_failed} run)",
                      str(two.effects.jobs_failed), str(one.effects.jobs_failed) if one else "", "", "0",
                      verdict(two.effects.jobs_failed == 0)))  # fmt: skip
    errors = total.failures + len(two.phases.get("login_failed", []))
    ref_errors = ref_total.failures + len(one.phases.get("login_failed", [])) if one and ref_total else None
    lines.append(Line("errors (answers not 200/201, refused sign-ins)", str(errors),
                      "" if ref_errors is None else str(ref_errors), "", "0", verdict(errors == 0)))  # fmt: skip
    return lines


def cores(run: Run) -> dict[str, float]:
    """Cores each part kept busy during the measured window; `others` is the rest of the machine
    (other work on a shared machine: the noise in the absolute figures)."""
    start, end, seconds = run.phases.get("cpu_start"), run.phases.get("cpu_end"), run.phases.get("measured_seconds")
    if not (start and end and seconds):
        return {}
    # Per process: one that ended within the window (a database connection recycled after
    # MUTUALIS_DB_CONN_MAX_AGE) takes its CPU with it, so PostgreSQL's figure is a lower bound.
    used = {
        part: sum(max(0.0, value - start.get(part, {}).get(pid, 0.0)) for pid, value in end[part].items()) / seconds
        for part in end
    }
    ours = sum(value for part, value in used.items() if part != "machine")
    used["others"] = max(0.0, used.pop("machine") - ours)
    return used


def describe(run: Run, say: Callable[[str], None]) -> None:
    if run.missing:
        say(f"{run.label}: not measured — {run.missing}")
        return
    p = run.phases
    say(
        f"{run.label}: {p.get('signed_in')} users signed in in {p.get('login_seconds', 0):.0f} s, "
        f"{p.get('warm_up_seconds', 0):.0f} s warm-up, {p.get('measured_seconds', 0):.0f} s measured"
    )
    for name, figures in sorted(p.get("login", {}).items()):
        say(f"  {name}: {figures['requests']} requests, p50 {figures['p50']:.0f} ms, p95 {figures['p95']:.0f} ms"
            + (f", {figures['failures']} failed" if figures["failures"] else ""))  # fmt: skip
    for failure in p.get("login_failed", []) + run.failures[:15]:
        say(f"  error: {failure}")


# --- Main ---------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/postgres",
        help="a PostgreSQL server (admin URL); the bench creates and drops its own database (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument("--database-name", default="bench_scale", help="default: %(default)s")
    parser.add_argument(
        "--cache-url", default="redis://127.0.0.1:6379/6",
        help="the shared cache; the bench empties this Redis database (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument("--port", type=int, default=8400, help="nginx's port (default: %(default)s)")
    parser.add_argument("--workers", type=int, default=2, help="task workers (default: %(default)s)")
    parser.add_argument("--users", type=int, default=50, help="concurrent users (default: %(default)s)")
    parser.add_argument("--duration", type=int, default=60, help="measured seconds (default: %(default)s)")
    parser.add_argument(
        "--warm-up", type=int, default=10, help="unrecorded seconds of load first (default: %(default)s)"
    )
    parser.add_argument(
        "--login-timeout", type=int, default=120, help="seconds for everyone to sign in (default: %(default)s)"
    )
    parser.add_argument(
        "--think-min", type=float, default=1.0, help="think time between clicks, s (default: %(default)s)"
    )
    parser.add_argument("--think-max", type=float, default=3.0, help="(default: %(default)s)")
    parser.add_argument("--months", type=int, default=24, help="months of generated history (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--no-tls", action="store_true", help="nginx without TLS (the guide's site speaks TLS)")
    parser.add_argument(
        "--settle-timeout", type=int, default=180,
        help="seconds to wait for the scheduler's first tick and an empty task queue (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument("--skip-reference", action="store_true", help="no run against one app server")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (locust's CSV files, logs)")
    args = parser.parse_args(argv)
    if args.database_name in {"test", "postgres", "template0", "template1"} or not args.database_name.isidentifier():
        parser.error(f"refusing to create and drop the database {args.database_name!r}")

    def say(message: str) -> None:
        print(f"· {message}", flush=True)

    if not Path(sys.executable).with_name("locust").exists():
        print(
            'MISSED: locust is not installed (.venv/bin/pip install -c constraints.txt -e ".[bench]"): nothing measured'
        )
        return 0
    if not LOCAL_UP.exists():
        print("MISSED: deploy/local_up.py is absent: nothing measured")
        return 0
    work = Path(tempfile.mkdtemp(prefix="mutualis-bench-scale-"))
    lines: list[Line] = []
    notes: list[str] = []
    try:
        database_url = _pg_create(args.database_url, args.database_name)
        setup_django(database_url, args.cache_url, str(work / "var"))
        import django

        say(
            f"scale — PostgreSQL database {args.database_name}, cache {args.cache_url}, Django {django.get_version()}, "
            f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (other work on this machine moves "
            "the absolute figures: read the ratios)"
        )
        split = user_split(args.users)
        try:
            world = build_world(users=split, months=args.months, seed=args.seed, say=say)
            say(
                f"{args.users} users: {split['staff']} operator staff (password + TOTP), {split['members']} member "
                f"agents, {split['api']} API clients (a token each); think time "
                f"{args.think_min:g}–{args.think_max:g} s; {world.tickets} tickets"
            )
            two = SetUp("two app servers", 2, work / "two")
            with running(two, args, database_url, say):
                first = run_locust(two, world, args, work, say)
            describe(first, say)
            reference = None
            if not args.skip_reference:
                one = SetUp("one app server", 1, work / "one")
                with running(one, args, database_url, say):
                    reference = run_locust(one, world, args, work, say)
                describe(reference, say)
            lines = report(first, reference)
            noise = cores(first).get("others", 0.0)
            if noise > 0.25:
                notes.append(
                    f"Other work on this machine kept {noise:.1f} of its {os.cpu_count()} cores busy during the "
                    "measured window: the latencies above are not the application's alone. Read the CPU per page "
                    "and the ratios, and rerun on a quiet machine for the absolute figures."
                )
        except Exception as error:  # a benchmark reports, it does not crash
            import traceback

            traceback.print_exc()
            lines = [Line("benchmark run", "failed", "", "", "completes", "MISSED")]
            say(f"failed: {error}")
        finally:
            from django.core.cache import cache
            from django.db import connections

            connections.close_all()
            with contextlib.suppress(Exception):  # Redis gone: nothing of ours is left in it
                cache.clear()
    finally:
        _pg_drop(args.database_url, args.database_name)
        if args.keep:
            say(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print()
    print_table(lines)
    missed = [line.figure.strip() for line in lines if line.result == "MISSED"]
    print()
    for note in notes:
        print(note)
    print(f"MISSED: {', '.join(missed)}" if missed else "OK: every target met.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
