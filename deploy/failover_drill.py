"""PostgreSQL failover drill on one machine, as docs/operations.md (« PostgreSQL standby ») describes.

    python deploy/failover_drill.py --dir DIR [--port 8307] [--pg-port 8340] [--wait 10]

Two private PostgreSQL clusters (initdb, run as the `postgres` user when started as root): a primary
on 127.0.0.1 and a streaming standby made by `pg_basebackup -R -C -S` on 127.0.0.2, same port. The
set-up of deploy/local_up.py runs on them with the guide's multi-host DATABASE_URL
(`…@127.0.0.1,127.0.0.2:PORT/mutualis?target_session_attrs=read-write`). Then the primary is stopped
at once (`pg_ctl stop -m immediate`), `--wait` seconds pass (the human's check), the standby is
promoted (`pg_promote()`), and /sante/ is polled through nginx every 0.1 s throughout. Prints when
it turned 503, how long after the promotion it answered 200 again, the rows counted before and after
(audit entries, on the old and the new primary), and what the supervisor restarted. Everything is
stopped and removed at the end. Standard library only; run it with the virtualenv's python.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

DEPLOY = Path(__file__).resolve().parent
PG_BIN = Path("/usr/lib/postgresql/15/bin")


def say(message: str) -> None:
    print(message, flush=True)


def as_postgres(argv: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: through `runuser` to the postgres account then."""
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


def run(argv: list[str]) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300)  # noqa: S603
    if done.returncode:
        raise RuntimeError(f"{' '.join(argv)}:\n{done.stdout}{done.stderr}")
    return done.stdout


def psql(host: str, port: int, sql: str, database: str = "postgres") -> str:
    return run(
        [str(PG_BIN / "psql"), "-h", host, "-p", str(port), "-U", "postgres", "-d", database, "-Atc", sql]
    ).strip()


def cluster(folder: Path, host: str, port: int, socket_dir: Path) -> None:
    with (folder / "postgresql.conf").open("a") as conf:
        conf.write(f"\nlisten_addresses = '{host}'\nport = {port}\nunix_socket_directories = '{socket_dir}'\n")
        conf.write("wal_log_hints = on\n")


def poll(url: str, stop: threading.Event, timeline: list[tuple[float, int | str]]) -> None:
    last: int | str | None = None
    while not stop.is_set():
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310 — http://127.0.0.1
                status: int | str = answer.status
        except urllib.error.HTTPError as error:
            status = error.code
        except OSError as error:
            status = type(error).__name__
        if status != last:
            timeline.append((time.monotonic(), status))
            last = status
        time.sleep(0.1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", required=True)
    parser.add_argument("--port", type=int, default=8307, help="nginx's port")
    parser.add_argument("--app-port", type=int, default=8364, help="the first app server's port")
    parser.add_argument("--pg-port", type=int, default=8340, help="both clusters' port (127.0.0.1 and .2)")
    parser.add_argument("--wait", type=float, default=10.0, help="seconds between the loss and the promotion")
    args = parser.parse_args(argv)
    if not (PG_BIN / "initdb").exists() or not shutil.which("nginx") and not Path("/usr/sbin/nginx").exists():
        say(f"failover_drill: needs PostgreSQL 15's binaries ({PG_BIN}) and nginx")
        return 2
    base = Path(args.dir).resolve()
    if base.exists():
        say(f"failover_drill: {base} exists; give a new folder")
        return 2
    base.mkdir(parents=True)
    primary, standby, run_dir = base / "primary", base / "standby", base / "run"
    sockets = {name: base / f"socket-{name}" for name in ("primary", "standby")}
    for folder in sockets.values():
        folder.mkdir()
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
        for folder in sockets.values():
            shutil.chown(folder, "postgres")
    pg_ctl = str(PG_BIN / "pg_ctl")
    started: list[Path] = []
    stop = threading.Event()
    try:
        say("primary: initdb, replication role, database")
        run(as_postgres([str(PG_BIN / "initdb"), "-D", str(primary), "-A", "trust", "-U", "postgres"]))
        cluster(primary, "127.0.0.1", args.pg_port, sockets["primary"])
        with (primary / "pg_hba.conf").open("a") as hba:
            hba.write("host replication replicator 127.0.0.0/8 trust\n")
        run(as_postgres([pg_ctl, "-D", str(primary), "-l", str(base / "primary.log"), "-w", "start"]))
        started.append(primary)
        psql("127.0.0.1", args.pg_port, "CREATE ROLE replicator WITH REPLICATION LOGIN")
        psql("127.0.0.1", args.pg_port, "CREATE DATABASE mutualis")
        say("standby: pg_basebackup -R -X stream -C -S standby")
        run(
            as_postgres(
                [str(PG_BIN / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(args.pg_port), "-U", "replicator"]
                + ["-D", str(standby), "-R", "-X", "stream", "-C", "-S", "standby"]
            )
        )
        text = (standby / "postgresql.conf").read_text().replace("listen_addresses = '127.0.0.1'", "")
        (standby / "postgresql.conf").write_text(text.replace(f"unix_socket_directories = '{sockets['primary']}'", ""))
        cluster(standby, "127.0.0.2", args.pg_port, sockets["standby"])
        run(as_postgres([pg_ctl, "-D", str(standby), "-l", str(base / "standby.log"), "-w", "start"]))
        started.append(standby)
        replication = psql("127.0.0.1", args.pg_port, "SELECT client_addr || ' ' || state FROM pg_stat_replication")
        say(f"replication: {replication}")

        url = f"postgres://postgres@127.0.0.1,127.0.0.2:{args.pg_port}/mutualis?target_session_attrs=read-write"
        say(f"set-up: local_up on {url}")
        up = subprocess.run(  # noqa: S603
            [sys.executable, str(DEPLOY / "local_up.py"), "up", "--dir", str(run_dir), "--port", str(args.port)]
            + ["--app-port", str(args.app_port), "--database-url", url, "--workers", "1"]
            + ["--env", "MUTUALIS_WEB_WORKERS=2"],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        if up.returncode:
            raise RuntimeError(f"local_up up failed:\n{up.stderr[-3000:]}")
        base_url = up.stdout.strip().splitlines()[-1]
        rows_before = psql("127.0.0.1", args.pg_port, "SELECT count(*) FROM core_auditentry", "mutualis")

        timeline: list[tuple[float, int | str]] = []
        poller = threading.Thread(target=poll, args=(base_url + "/sante/", stop, timeline), daemon=True)
        poller.start()
        time.sleep(2)
        lost_at = time.monotonic()
        run(as_postgres([pg_ctl, "-D", str(primary), "-m", "immediate", "stop"]))
        started.remove(primary)
        say(f"primary stopped (-m immediate); promoting the standby in {args.wait:.0f} s")
        time.sleep(args.wait)
        promote_at = time.monotonic()
        psql("127.0.0.2", args.pg_port, "SELECT pg_promote()")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (
            timeline and timeline[-1][1] == 200 and timeline[-1][0] > promote_at
        ):
            time.sleep(0.1)
        time.sleep(3)
        stop.set()
        poller.join(10)

        for moment, status in timeline:
            say(f"  {moment - lost_at:+7.2f} s  /sante/ {status}")
        down_at = next((m for m, s in timeline if m >= lost_at and s != 200), None)
        back_at = next((m for m, s in timeline if m > promote_at and s == 200), None)
        rows_after = psql("127.0.0.2", args.pg_port, "SELECT count(*) FROM core_auditentry", "mutualis")
        state = json.loads((run_dir / "state.json").read_text())
        restarts = {e["name"]: e.get("restarts", 0) for e in state["processes"] if e.get("restarts")}
        say(f"503 after the loss: {'%.2f s' % (down_at - lost_at) if down_at else 'never'}")
        say(f"200 again after pg_promote(): {'%.2f s' % (back_at - promote_at) if back_at else 'not within 60 s'}")
        say(f"audit entries: {rows_before} before, {rows_after} on the promoted server")
        say(f"restarted by the supervisor: {restarts or 'nothing'}")
        return 0 if back_at and rows_after == rows_before else 1
    finally:
        stop.set()
        if (run_dir / "state.json").exists():
            subprocess.run([sys.executable, str(DEPLOY / "local_up.py"), "down", "--dir", str(run_dir)], timeout=400)  # noqa: S603
        for folder in started:
            subprocess.run(as_postgres([pg_ctl, "-D", str(folder), "-m", "fast", "stop"]), capture_output=True)  # noqa: S603
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
