"""The local servers the demo's connectors point to, on fixed loopback ports (`mutualis flows_localservers`).

S²low is served over plain HTTP here (the tests run it over HTTPS with a client certificate): the
demo must survive a restart, and a client certificate generated at start would not match the one
saved in the demo's connectors. Each remote side acts by itself after a few polls (`auto_after`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from mutualis.flows.localservers import asalae, iparapheur, iparapheur4, pastell, s2low

# i-Parapheur 4 (SOAP) came fifth: the four first keep their ports, which the demo's connectors hold.
DEMO_PORTS = {"s2low": 8311, "iparapheur": 8312, "asalae": 8313, "pastell": 8314, "iparapheur4": 8315}
HOST = "127.0.0.1"


def demo_url(kind: str, ports: dict[str, int] | None = None) -> str:
    return f"http://{HOST}:{(ports or DEMO_PORTS)[kind]}"


@dataclass
class Running:
    name: str
    server: Any
    thread: threading.Thread
    url: str


def start_all(ports: dict[str, int] | None = None, *, auto_after: int = 2) -> list[Running]:
    """Start the servers (port 0: any free port, for tests); stop them with `stop_all`.

    i-Parapheur 4 starts only when `ports` names it, so a caller listing the first four gets those four.
    Its URL is its web service's (`…/ws-iparapheur`), the address a connector holds.
    """
    ports = ports or DEMO_PORTS
    running = []
    server, thread, url = s2low.serve(ports["s2low"], host=HOST, auto_after=auto_after)
    running.append(Running("S²low", server, thread, url))
    for name, key, module in (
        ("i-Parapheur", "iparapheur", iparapheur),
        ("As@lae", "asalae", asalae),
        ("Pastell", "pastell", pastell),
    ):
        server, thread, url = module.serve(ports[key], auto_after=auto_after)
        running.append(Running(name, server, thread, url))
    if "iparapheur4" in ports:
        soap, thread, _url = iparapheur4.serve(ports["iparapheur4"], auto_after=auto_after)
        running.append(Running("i-Parapheur 4 (SOAP)", soap, thread, soap.endpoint))
    return running


def stop_all(running: list[Running]) -> None:
    for item in running:
        item.server.shutdown()
        item.server.server_close()
        item.thread.join(timeout=5)
