"""What the local i-Parapheur, As@lae and Pastell servers share: a threaded loopback HTTP server with fault knobs.

Each server keeps its state in memory behind one lock, answers the protocol's shapes, and can be told
to fail (`fail_next(n, status)`) or to be slow (`delay_next(n, seconds)`) for the next requests, or
to be down until told otherwise (`outage(…)`, then `restore()`), so the adapters' error mapping and
the engine's retries are tested against real sockets. Nothing here is used in production.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email import policy
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import django


@dataclass(frozen=True)
class Part:
    """One part of a multipart/form-data body."""

    name: str
    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class Outage:
    """A service down until `restore()`: each call (or each whose path starts with one of `paths`) waits
    `delay` seconds, then is answered `status` without being handled; with `status` None it is handled
    after the wait — a server so slow that a client with a shorter timeout gives up while its call
    still takes effect (the lost answer an idempotency key is for)."""

    status: int | None = 500
    delay: float = 0.0
    paths: tuple[str, ...] = ()

    def covers(self, path: str) -> bool:
        return not self.paths or path.startswith(self.paths)


class LoopbackServer(ThreadingHTTPServer):
    """A ThreadingHTTPServer on 127.0.0.1 with the knobs every local server offers."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, handler: type[BaseHTTPRequestHandler], port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), handler)
        self.lock = threading.RLock()
        self._failures: list[int] = []
        self._delays: list[float] = []
        self._outage: Outage | None = None
        # Every request seen, as "METHOD /path", for tests that count calls.
        self.seen: list[str] = []
        self.outage_calls = 0  # requests an outage failed or slowed, for benchmarks

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def fail_next(self, n: int = 1, status: int = 500) -> None:
        """The next `n` requests are answered with `status` before anything else happens."""
        with self.lock:
            self._failures.extend([status] * n)

    def delay_next(self, n: int = 1, seconds: float = 1.0) -> None:
        """The next `n` requests wait `seconds` before being handled (a client with a shorter timeout gives up)."""
        with self.lock:
            self._delays.extend([seconds] * n)

    def outage(self, *, status: int | None = 500, delay: float = 0.0, paths: tuple[str, ...] = ()) -> None:
        """Down from now until `restore()` (see `Outage`); `fail_next` and `delay_next` still come first."""
        with self.lock:
            self._outage = Outage(status=status, delay=delay, paths=paths)

    def restore(self) -> None:
        """The service is back: calls are handled again as they arrive."""
        with self.lock:
            self._outage = None

    def take_fault(self, request: str) -> tuple[int | None, float]:
        with self.lock:
            self.seen.append(request)
            status = self._failures.pop(0) if self._failures else None
            delay = self._delays.pop(0) if self._delays else 0.0
            down = self._outage
            if status is None and not delay and down is not None and down.covers(request.partition(" ")[2]):
                status, delay = down.status, down.delay
                self.outage_calls += 1
        return status, delay


Route = tuple[str, re.Pattern[str], str]


class LoopbackHandler(BaseHTTPRequestHandler):
    """Dispatches `routes` (method, path regex, handler method name) after the server's fault knobs."""

    server: LoopbackServer
    routes: tuple[Route, ...] = ()
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature
        """Quiet: tests and the demo do not want one line per request on stderr."""

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        self.body = self._read_body()
        parts = urlsplit(self.path)
        self.query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        status, delay = self.server.take_fault(f"{method} {parts.path}")
        if delay:
            time.sleep(delay)
        if status is not None:
            self.send_json({"message": f"Erreur simulée (HTTP {status})"}, status=status)
            return
        if not self.authorized():
            return
        for route_method, pattern, name in self.routes:
            match = pattern.fullmatch(parts.path)
            if route_method == method and match:
                getattr(self, name)(**match.groupdict())
                return
        self.send_json({"message": f"Ressource inconnue : {method} {parts.path}"}, status=404)

    def authorized(self) -> bool:
        """Overridden by servers that check credentials; answers the refusal itself when it returns False."""
        return True

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def form(self) -> dict[str, str]:
        """An application/x-www-form-urlencoded body."""
        return {key: values[-1] for key, values in parse_qs(self.body.decode("utf-8")).items()}

    def multipart(self) -> list[Part]:
        """A multipart/form-data body, its parts in order."""
        content_type = self.headers.get("Content-Type", "")
        if not content_type.startswith("multipart/form-data"):
            return []
        head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
        message = BytesParser(policy=policy.HTTP).parsebytes(head + self.body)
        result = []
        for part in message.iter_parts():
            payload = part.get_payload(decode=True)
            result.append(
                Part(
                    name=str(part.get_param("name", header="content-disposition") or ""),
                    filename=part.get_filename() or "",
                    content_type=part.get_content_type(),
                    content=payload if isinstance(payload, bytes) else b"",
                )
            )
        return result

    def send_bytes(self, content: bytes, *, content_type: str, status: int = 200) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(content)

    def send_json(self, data: Any, *, status: int = 200) -> None:
        self.send_bytes(
            json.dumps(data, ensure_ascii=False).encode("utf-8"), content_type="application/json", status=status
        )

    def send_empty(self, status: int = 204) -> None:
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()


def route(method: str, pattern: str, name: str) -> Route:
    return (method, re.compile(pattern), name)


def start(server: LoopbackServer) -> tuple[threading.Thread, str]:
    """Serves in a daemon thread; returns the thread and the base URL."""
    thread = threading.Thread(target=server.serve_forever, name=type(server).__name__, daemon=True)
    thread.start()
    return thread, server.url


def stop(server: LoopbackServer, thread: threading.Thread) -> None:
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def main(
    description: str, build: Callable[[argparse.Namespace], LoopbackServer], argv: list[str] | None = None
) -> None:
    """`python -m mutualis.flows.localservers.<name> --port N`: serves until interrupted."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free port)")
    parser.add_argument(
        "--auto-after",
        type=int,
        default=2,
        help="the remote side acts after this many polls (0: never, only when told by a test)",
    )
    args = parser.parse_args(argv)
    # The SEDA and PREMIS helpers speak French through Django's translations: settings must be loaded.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    server = build(args)
    print(f"{description} : {server.url}", flush=True)  # noqa: T201 - a command-line entry point
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
