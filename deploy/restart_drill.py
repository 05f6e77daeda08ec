"""Rolling restart under traffic, on the set-up deploy/local_up.py brought up: every request answered?

    python deploy/restart_drill.py --dir DIR [--clients 6] [--settle 3]

While a few clients loop on pages, /sante/ and an API POST through nginx, each app server in turn
gets TERM (what `systemctl restart` sends first); the supervisor starts it again as its unit says,
on the socket it held meanwhile, and the next one goes once it answers. Prints the requests made,
those not answered by the app (nginx's 502/504 or a broken connection) and the latency (p50, p95,
max). Exit status 1 when one was not answered. Standard library only.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

# What a browser and an API client do, none of which needs an account: a page, a redirect to sign
# in, the health check, and a POST the API refuses (403, its own answer).
REQUESTS = [
    ("GET", "/comptes/connexion/"),
    ("GET", "/"),
    ("GET", "/sante/"),
    ("POST", "/api/v1/tickets/"),
]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def _request(base: str, method: str, path: str) -> int | str:
    data = b"{}" if method == "POST" else None
    headers = {"Content-Type": "application/json"} if data else {}
    request = urllib.request.Request(base + path, data=data, headers=headers, method=method)  # noqa: S310
    try:
        with urllib.request.build_opener(_NoRedirect).open(request, timeout=60) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError as error:
        return type(error).__name__


def _answers(url: str) -> bool:
    return _request(url, "GET", "/sante/") in (200, 503)


def _app_server(state_file: Path, port: int) -> dict:
    state = json.loads(state_file.read_text())
    return next(server for server in state["app_servers"] if server["port"] == port)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", required=True, help="the folder of a running `local_up.py up`")
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--settle", type=float, default=3.0, help="seconds of traffic before and after")
    args = parser.parse_args(argv)
    state_file = Path(args.dir).resolve() / "state.json"
    state = json.loads(state_file.read_text())
    if state.get("tls"):
        print("restart_drill: run it on a set-up without --tls", file=sys.stderr)
        return 2
    base = state["base_url"]

    stop = threading.Event()
    answers: collections.Counter[tuple[str, int | str]] = collections.Counter()
    durations: list[float] = []
    lost: list[tuple[float, str, int | str]] = []
    started = time.monotonic()

    def client(index: int) -> None:
        method, path = REQUESTS[index % len(REQUESTS)]
        while not stop.is_set():
            before = time.monotonic()
            status = _request(base, method, path)
            durations.append(time.monotonic() - before)
            answers[(f"{method} {path}", status)] += 1
            if not isinstance(status, int) or status in (502, 504):
                lost.append((round(before - started, 2), f"{method} {path}", status))

    threads = [threading.Thread(target=client, args=(index,), daemon=True) for index in range(args.clients)]
    for thread in threads:
        thread.start()
    time.sleep(args.settle)
    for server in state["app_servers"]:
        pid = _app_server(state_file, server["port"])["pid"]
        print(f"{time.monotonic() - started:6.1f} s  TERM app server {server['port']} (pid {pid})", flush=True)
        os.kill(pid, signal.SIGTERM)
        while True:
            time.sleep(0.2)
            current = _app_server(state_file, server["port"])["pid"]
            if current != pid and _answers(server["url"]):
                break
        print(f"{time.monotonic() - started:6.1f} s  app server {server['port']} answers (pid {current})", flush=True)
    time.sleep(args.settle)
    stop.set()
    for thread in threads:
        thread.join(70)

    ordered = sorted(durations)

    def percentile(share: float) -> float:
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000

    print(f"requests: {sum(answers.values())}, not answered by the app: {len(lost)}")
    for (request, status), count in sorted(answers.items(), key=str):
        print(f"  {request:<28} {status!s:>20} × {count}")
    if ordered:
        print(f"latency: p50 {percentile(0.5):.0f} ms, p95 {percentile(0.95):.0f} ms, max {ordered[-1] * 1000:.0f} ms")
    for entry in lost[:20]:
        print(f"  lost at {entry[0]} s: {entry[1]} → {entry[2]}")
    return 1 if lost else 0


if __name__ == "__main__":
    sys.exit(main())
