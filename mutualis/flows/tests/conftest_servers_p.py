"""P's local servers (i-Parapheur, As@lae, Pastell) as pytest fixtures, imported by conftest.py.

Each fixture starts a fresh server on a free loopback port for one test, its remote side acting only
when the test tells it to (`auto_after=None`), and stops it afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from mutualis.flows.localservers.asalae import AsalaeServer
    from mutualis.flows.localservers.iparapheur import IparapheurServer
    from mutualis.flows.localservers.pastell import PastellServer


@pytest.fixture
def iparapheur_server() -> Iterator[IparapheurServer]:
    """A local i-Parapheur 5: user mutualis / secret, client ipcore-web, tenant-1 with desk-1."""
    from mutualis.flows.localservers.iparapheur import serve
    from mutualis.flows.localservers.loopback import stop

    server, thread, _url = serve()
    try:
        yield server
    finally:
        stop(server, thread)


@pytest.fixture
def asalae_server() -> Iterator[AsalaeServer]:
    """A local As@lae: account mutualis / secret (sent as its SHA-256)."""
    from mutualis.flows.localservers.asalae import serve
    from mutualis.flows.localservers.loopback import stop

    server, thread, _url = serve()
    try:
        yield server
    finally:
        stop(server, thread)


@pytest.fixture
def pastell_server() -> Iterator[PastellServer]:
    """A local Pastell with its seeded entities and documents: account admin / secret."""
    from mutualis.flows.localservers.loopback import stop
    from mutualis.flows.localservers.pastell import serve

    server, thread, _url = serve()
    try:
        yield server
    finally:
        stop(server, thread)
