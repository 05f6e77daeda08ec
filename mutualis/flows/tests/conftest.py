"""Local servers speaking the real protocols on loopback, one pytest fixture each.

T's servers (S²low) are here; P's (i-Parapheur, As@lae, Pastell…) live in conftest_servers_p.py,
imported at the end of this file. Each fixture starts a fresh server for one test (its state is in
memory) and stops it afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from mutualis.flows.localservers.s2low import Certificates, S2lowServer


@pytest.fixture(scope="session")
def s2low_certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    """A certification authority, the server's certificate for 127.0.0.1 and a client certificate."""
    from mutualis.flows.localservers.s2low import make_certificates

    directory: Path = tmp_path_factory.mktemp("s2low-tls")
    return make_certificates(directory)


@pytest.fixture
def s2low_server(s2low_certificates: Certificates) -> Iterator[S2lowServer]:
    """A local S²low over HTTPS asking for the client certificate; the prefecture acts only when told."""
    from mutualis.flows.localservers.s2low import serve

    server, thread, _url = serve(tls=s2low_certificates, auto_after=None)
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


from mutualis.flows.tests.conftest_servers_p import *  # noqa: E402, F403 - P's local servers (i-Parapheur, As@lae, Pastell)
