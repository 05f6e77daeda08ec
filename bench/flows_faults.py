"""Flows benchmark: S²low fails (500s, then answers too late), comes back; what the engine's retries do.

    .venv/bin/python -m bench.flows_faults                       # PostgreSQL on 127.0.0.1:5432
    .venv/bin/python -m bench.flows_faults --sqlite              # the embedded SQLite
    .venv/bin/python -m bench.flows_faults --documents 90 --outage 40 --sweepers 4

It creates its own database (bench_flows_faults on the server of --database-url, or a SQLite file),
a member whose acts go to the prefecture through a local S²low over HTTPS with a client certificate
(the prefecture acknowledges after 3 status polls), its connector with a 1 s answer timeout, and a
bench-only retry policy for S²low (5 tries, 0.5 s first wait doubled up to 3 s, polls every second:
the production policy, the same shape in minutes, would take hours). The sweep (`flows_run`'s loop:
`engine.due_documents` then `engine.document_advance`) runs in --sweepers threads, every 0.1 s.

The reference, in the same run: the same number of acts uploaded at once, no fault, until every one
is acknowledged (« terminé »). The fault: a third of the acts are uploaded and sent, waiting for
the prefecture, when S²low goes down; a third are uploaded as it goes down; a third during the
outage. The outage (--outage seconds): the first 40 % every call answers 500, the next 30 % every
call answers 3 s late (after the client gave up), the last 30 % only the deposits answer late but
take effect (the lost answer the idempotency key is for). Then S²low is back: the bench waits for
every act to be terminé or stopped in « erreur de transmission » (tries spent), then « Relance »
the stopped ones as a person would (services.document_retry) and waits for them.

Printed: the tries per act, each backoff wait observed against the policy's, how many acts stopped
on the error and how many resumed by themselves, the time from S²low's return to every act settled,
then from the « Relancer » to every act done, as ratios of the reference, and the acts S²low holds
(one per act). No time target: the issue asks that a failing service be retried with backoff, then
shown as an error, and that the flow resume when the service is back. Checked, MISSED when not: no
act held twice by S²low; every act ends terminé with its own transaction; no try earlier than the
policy's wait; every stopped act spent exactly its tries and says « Trop d'essais »; no act that
resumed by itself was resumed by a person. A benchmark, not a test: it always exits 0.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import secrets
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from bench.matrix import throwaway_database

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/postgres"
DATABASE = "bench_flows_faults"
TIMEOUT_S = 1  # the connector's answer timeout (its `timeout_seconds` setting)
LATE_S = 3.0  # how late S²low answers in the timeout phases
ACK_AFTER_POLLS = 3
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
CREATE = "/modules/actes/actes_transac_create.php"


def say(message: str) -> None:
    print(f"flows_faults: {message}", file=sys.stderr, flush=True)


def setup_django() -> None:
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "SECRET_KEY": secrets.token_urlsafe(48),
            "MUTUALIS_REQUIRE_2FA": "false",
            "DEBUG": "false",
            "EMAIL_URL": "memory://",
            # The upload's and the resume's queued runs stay in the queue (no worker): the sweep does
            # every run, so each try is the sweep's, as when the worker is busy or down.
            "MUTUALIS_TASKS_BACKEND": "database",
            "LOG_LEVEL": "ERROR",  # the engine warns once per failed try
        }
    )
    import django

    django.setup()


def bench_policy() -> Any:
    """S²low's policy shape (doubling, capped), its minutes made half-seconds so the bench runs in one:
    5 tries, waits of 0.5, 1, 2 and 3 s (the cap), a poll every second."""
    from mutualis.flows.engine import RetryPolicy

    return RetryPolicy(
        max_tries=5,
        first_delay=dt.timedelta(seconds=0.5),
        factor=2.0,
        max_delay=dt.timedelta(seconds=3),
        poll_every=dt.timedelta(seconds=1),
    )


def generate(s2low_url: str, certificates: Any) -> tuple[Any, Any]:
    from mutualis.accounts.models import Role, User
    from mutualis.flows import services
    from mutualis.flows.adapters.base import TIMEOUT_SECONDS
    from mutualis.flows.enums import FlowType, Port
    from mutualis.members.models import Organisation, OrganisationKind

    operator = Organisation.objects.create(name="Opérateur", slug="operateur", kind=OrganisationKind.OPERATOR)
    member = Organisation.objects.create(
        name="Ville A",
        slug="ville-a",
        kind=OrganisationKind.COMMUNE,
        siren="210100012",
        department="069",
        arrondissement="1",
    )
    staff = User.objects.create(username="staff", role=Role.OPERATOR_STAFF, organisation=operator)
    connector = services.connector_save(
        actor=staff,
        member=member,
        kind="s2low",
        label="S²low",
        values={
            "url": s2low_url,
            "certificate": certificates.client_cert_pem,
            "private_key": certificates.client_key_pem,
            "server_ca": certificates.ca_pem,
            TIMEOUT_SECONDS: str(TIMEOUT_S),
        },
    )
    services.binding_set(actor=staff, member=member, flow=FlowType.ACTE, port=Port.TRANSMISSION, instance=connector)
    return member, staff


def upload(member: Any, staff: Any, number: str) -> int:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from mutualis.flows import services
    from mutualis.flows.enums import FlowType

    document = services.document_create(
        actor=staff,
        member=member,
        flow=FlowType.ACTE,
        data={
            "number": number,
            "subject": f"Délibération {number}",
            "nature": 1,
            "decision_date": dt.date(2026, 11, 20),
            "classification": "7.1",
        },
        steps=["transmission"],
        main=SimpleUploadedFile("acte.pdf", PDF, content_type="application/pdf"),
        attachments=[],
    )
    return int(document.pk)


class Sweep:
    """`flows_run --loop 0.1` in threads: each pass advances every due document (the lock keeps two
    threads off the same one)."""

    def __init__(self, threads: int) -> None:
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._loop, name=f"sweep-{n}", daemon=True) for n in range(threads)]
        self.passes: list[tuple[float, int]] = []  # (seconds, documents) of each pass

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def stop(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=30)

    def _loop(self) -> None:
        from django.db import connection
        from django.utils import timezone

        from mutualis.flows import engine

        try:
            while not self.stopping.is_set():
                started = time.monotonic()
                ids = engine.due_documents(now=timezone.now())
                for document_id in ids:
                    if self.stopping.is_set():
                        break
                    engine.document_advance(document_id)
                if ids:
                    self.passes.append((time.monotonic() - started, len(ids)))
                self.stopping.wait(0.1)
        finally:
            connection.close()


def states(ids: list[int]) -> Counter[str]:
    from django.db.models import Count

    from mutualis.flows.models import FlowDocument

    rows = FlowDocument.objects.filter(pk__in=ids).values_list("state").annotate(n=Count("pk")).order_by()
    return Counter(dict(rows))


def wait_for(ids: list[int], settled: set[str], limit_s: float) -> tuple[float, Counter[str]]:
    """Seconds until every document is in one of `settled`, and the states then."""
    started = time.monotonic()
    now = states(ids)
    while sum(n for s, n in now.items() if s in settled) < len(ids) and time.monotonic() - started < limit_s:
        time.sleep(0.1)
        now = states(ids)
    return time.monotonic() - started, now


def backoff(ids: list[int], policy: Any) -> dict[int, list[float]]:
    """Per failure number k, the observed waits (s) from a failed try to the next try of the same
    document that failed too (the log's `at` is each run's start)."""
    from mutualis.flows.enums import ERROR_STATES, Action
    from mutualis.flows.models import ActionLog

    failing = {Action.NOUVEL_ESSAI, *ERROR_STATES}
    entries: dict[int, list[tuple[dt.datetime, str]]] = defaultdict(list)
    for document_id, at, action in (
        ActionLog.objects.filter(document_id__in=ids).order_by("at", "pk").values_list("document_id", "at", "action")
    ):
        entries[document_id].append((at, action))
    waits: dict[int, list[float]] = defaultdict(list)
    for log in entries.values():
        k = 0
        for (at, action), (next_at, next_action) in zip(log, log[1:], strict=False):
            if action == Action.NOUVEL_ESSAI:
                k += 1
                if next_action in failing:
                    waits[k].append((next_at - at).total_seconds())
            elif action == Action.REPRISE:
                k = 0
    return waits


def run(args: argparse.Namespace) -> None:
    from mutualis.flows.localservers.s2low import make_certificates, serve

    count = args.documents
    folder = Path(tempfile.mkdtemp(prefix="mutualis-bench-flows-faults-"))
    certificates = make_certificates(folder / "tls")
    server, thread, url = serve(tls=certificates, auto_after=ACK_AFTER_POLLS)
    database_url = None if args.sqlite else args.database_url
    with throwaway_database(database_url, DATABASE) as where:
        setup_django()
        from django.core.management import call_command
        from django.db import connections
        from django.db.models import Count
        from django.utils import timezone

        from mutualis.flows import engine, services
        from mutualis.flows.enums import ERROR_STATES, Action, State
        from mutualis.flows.models import ActionLog, FlowDocument

        call_command("migrate", verbosity=0)
        policy = bench_policy()
        engine.RETRY_POLICIES["s2low"] = policy
        member, staff = generate(url, certificates)
        say(f"{where}; S²low on {url}; {count} acts, {args.sweepers} sweep threads")
        sweep = Sweep(args.sweepers)
        sweep.start()
        load_before = os.getloadavg()
        try:
            # --- the reference: the same number of acts, no fault -----------------------------
            started = time.monotonic()
            reference_ids = [upload(member, staff, f"REF_{n:04d}") for n in range(count)]
            _reference_s, reference_states = wait_for(reference_ids, {State.TERMINE}, limit_s=120)
            reference_total = time.monotonic() - started
            say(f"reference: {dict(reference_states)} in {reference_total:.1f} s")
            reference_creates = sum(1 for m, p in server.requests if (m, p) == ("POST", CREATE))

            # --- the fault ---------------------------------------------------------------------
            third = count // 3
            waiting_ids = [upload(member, staff, f"FLT_{n:04d}") for n in range(third)]
            # These are sent and wait for the prefecture (one poll a second, acknowledged at the third).
            for _wait in range(200):
                if not states(waiting_ids).get(State.CREATION):
                    break
                time.sleep(0.05)
            waiting_states = states(waiting_ids)
            window = args.outage
            phases = [
                (0.0, "500 on every call", {"status": 500}),
                (0.4 * window, f"every call {LATE_S:g} s late", {"status": None, "delay": LATE_S}),
                (0.7 * window, f"deposits {LATE_S:g} s late", {"status": None, "delay": LATE_S, "paths": (CREATE,)}),
            ]
            down_at = time.monotonic()
            server.outage(**phases[0][2])
            calls_before = server.outage_calls
            at_outage_ids = [upload(member, staff, f"FLT_{n:04d}") for n in range(third, 2 * third)]
            during_ids: list[int] = []
            late = count - 2 * third
            schedule = [(window * (n + 0.5) / late, f"FLT_{2 * third + n:04d}") for n in range(late)]
            phase = 0
            while time.monotonic() - down_at < window:
                elapsed = time.monotonic() - down_at
                if phase + 1 < len(phases) and elapsed >= phases[phase + 1][0]:
                    phase += 1
                    server.outage(**phases[phase][2])
                while schedule and schedule[0][0] <= elapsed:
                    during_ids.append(upload(member, staff, schedule.pop(0)[1]))
                time.sleep(0.02)
            for _left, number in schedule:
                during_ids.append(upload(member, staff, number))
            server.restore()
            refused = server.outage_calls - calls_before
            fault_ids = waiting_ids + at_outage_ids + during_ids
            now = timezone.now()
            pending = FlowDocument.objects.filter(pk__in=fault_ids, next_try_at__gt=now).order_by("-next_try_at")
            last_scheduled = pending.first()
            last_wait = (last_scheduled.next_try_at - now).total_seconds() if last_scheduled else 0.0
            settled_s, settled = wait_for(fault_ids, {State.TERMINE, *ERROR_STATES}, limit_s=120)
            say(f"S²low back; settled in {settled_s:.1f} s: {dict(settled)}")
            stopped = list(FlowDocument.objects.filter(pk__in=fault_ids, state__in=ERROR_STATES).order_by("pk"))
            reasons = Counter(d.error_message.partition(" : ")[0] for d in stopped)
            tries_of_stopped = Counter(d.tries for d in stopped)
            # A person presses « Relancer » on each stopped act.
            for document in stopped:
                services.document_retry(actor=staff, document=document)
            retry_s, final = wait_for(fault_ids, {State.TERMINE}, limit_s=120)
            total_s = time.monotonic() - down_at
            say(f"relancés: {dict(final)} {retry_s:.1f} s after")
            time.sleep(LATE_S + 0.5)  # a late deposit still in S²low's hands would show
        finally:
            sweep.stop()
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)
        load_after = os.getloadavg()

        # --- what the log and S²low say ----------------------------------------------------------
        failures = Counter(
            dict(
                ActionLog.objects.filter(document_id__in=fault_ids, action=Action.NOUVEL_ESSAI)
                .values_list("document_id")
                .annotate(n=Count("pk"))
                .order_by()
            )
        )
        stopped_ids = {d.pk for d in stopped}
        # Tries spent before the return or the error: « nouvel essai » entries, plus the one that stopped it.
        per_document = Counter(failures.get(pk, 0) + (1 if pk in stopped_ids else 0) for pk in fault_ids)
        resumed_by_person = set(
            ActionLog.objects.filter(document_id__in=fault_ids, action=Action.REPRISE).values_list(
                "document_id", flat=True
            )
        )
        waits = backoff(fault_ids, policy)
        acts = server.acts()
        numbers = Counter(t.number for t in acts)
        fault_numbers = {n for n in numbers if n.startswith("FLT_")}
        documents = list(FlowDocument.objects.filter(pk__in=fault_ids).values_list("number", "transmission_remote_id"))
        by_id = {str(t.id): t.number for t in acts}
        deposits = sum(1 for m, p in server.requests if (m, p) == ("POST", CREATE)) - reference_creates
        connections.close_all()

    def wave(ids: list[int]) -> str:
        ids_set = set(ids)
        stopped_here = len(ids_set & stopped_ids)
        return f"{stopped_here} stopped on the error, {len(ids) - stopped_here} resumed by themselves"

    early = [(k, w) for k, observed in waits.items() for w in observed if w < policy.delay(k).total_seconds() - 0.001]
    held_twice = [n for n, c in numbers.items() if c > 1]
    own = all(by_id.get(remote) == number for number, remote in documents) and len({r for _n, r in documents}) == len(
        documents
    )
    all_done = final.get(State.TERMINE, 0) == len(fault_ids)
    exact_tries = set(tries_of_stopped) <= {policy.max_tries} and set(reasons) <= {
        f"Trop d'essais ({policy.max_tries})"
    }
    nobody = not (resumed_by_person - stopped_ids)

    def ok(flag: bool) -> str:
        return "ok" if flag else "MISSED"

    n = len(fault_ids)
    print()
    print(
        f"bench.flows_faults — {n} acts to the prefecture through a local S²low (HTTPS, client certificate), "
        f"{where}, {args.sweepers} sweep threads"
    )
    print(
        f"  policy (bench-only): {policy.max_tries} tries, waits "
        + ", ".join(f"{policy.delay(k).total_seconds():g}" for k in range(1, policy.max_tries))
        + f" s, poll every {policy.poll_every.total_seconds():g} s; connector timeout {TIMEOUT_S} s"
    )
    print(
        f"  reference, no fault: {count} acts uploaded at once, all terminé in {reference_total:.1f} s "
        f"({ACK_AFTER_POLLS} polls each before the prefecture's acknowledgement)"
    )
    print(
        f"  outage {window:g} s: "
        + "; ".join(f"from {start:g} s {label}" for start, label, _kw in phases)
        + f"; {refused} calls failed or slowed by it"
    )
    print(
        f"    {len(waiting_ids)} sent before it went down ({dict(waiting_states)}): {wave(waiting_ids)}\n"
        f"    {len(at_outage_ids)} uploaded as it went down: {wave(at_outage_ids)}\n"
        f"    {len(during_ids)} uploaded during it: {wave(during_ids)}"
    )
    print(
        "  tries per act (failed calls before the return or the stop): "
        + ", ".join(f"{k} tries × {v}" for k, v in sorted(per_document.items()))
    )
    print("  backoff, wait after the k-th failure to the next failed try (policy → observed median / max):")
    for k in sorted(waits):
        observed = waits[k]
        print(
            f"    k={k}: {policy.delay(k).total_seconds():g} s → {statistics.median(observed):.2f} / "
            f"{max(observed):.2f} s over {len(observed)} waits"
        )
    print(f"    no try earlier than the policy's wait: {ok(not early)} ({len(early)} early)")
    print(
        f"  stopped on « erreur de transmission »: {len(stopped)}; reasons {dict(reasons)}; "
        f"tries {dict(tries_of_stopped)}: {ok(exact_tries)}"
    )
    print(f"  resumed by themselves: {n - len(stopped)}; none resumed by a person: {ok(nobody)}")
    print(
        f"  from S²low's return to every act terminé or stopped: {settled_s:.1f} s "
        f"({settled_s / reference_total:.1f}× the reference; "
        f"the last try was scheduled {last_wait:.1f} s after the return)"
    )
    if stopped:
        print(
            f"  from « Relancer » on the {len(stopped)} stopped to every act terminé: {retry_s:.1f} s "
            f"({retry_s / reference_total:.1f}× the reference); outage start to all done {total_s:.1f} s"
        )
    else:
        print(f"  none stopped, nothing to « Relancer »; outage start to all done {total_s:.1f} s")
    print(
        f"  S²low holds {len(fault_numbers)} acts for {n} documents, numbers held twice {len(held_twice)}; "
        f"deposits it handled {deposits}, {deposits - len(fault_numbers)} of them refused as a number it holds "
        f"(a try that looked the act up before S²low finished the late deposit): "
        f"{ok(not held_twice and len(fault_numbers) == n)}"
    )
    print(f"  every act terminé with its own transaction: {ok(all_done and own)} ({dict(final)})")
    passes = sorted(sweep.passes)
    if passes:
        slowest = passes[-1]
        print(
            f"  slowest sweep pass: {slowest[0]:.1f} s for {slowest[1]} due documents "
            f"(a timed-out call holds its thread {TIMEOUT_S} s)"
        )
    print(f"  load average before {load_before[0]:.2f}, after {load_after[0]:.2f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--documents", type=int, default=45, help="acts in the reference and in the fault (45)")
    parser.add_argument("--outage", type=float, default=30.0, help="seconds S²low is down (30)")
    parser.add_argument("--sweepers", type=int, default=4, help="sweep threads (4)")
    parser.add_argument("--database-url", default=DEFAULT_URL, help=f"PostgreSQL server ({DATABASE} is created on it)")
    parser.add_argument("--sqlite", action="store_true", help="a SQLite file in a temporary directory instead")
    run(parser.parse_args(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
