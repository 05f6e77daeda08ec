"""A real LemonLDAP::NG (and its OpenLDAP) for the single sign-on tests, started once per test run.

up.sh (../shared/tools/lemonldap/, beside the repository) needs root; without it, or without the
script, these tests are skipped with the reason printed. Under pytest-xdist the first worker starts
the provider under a file lock and the others reuse it; the last one to finish stops it. Each
worker serves Mutualis on the first free port of RP_PORTS, all registered as redirect URIs.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from django.conf import settings

from mutualis.identity.conf import oidc_settings

REPO = Path(settings.BASE_DIR)
TOOLS = REPO.parent / "shared" / "tools" / "lemonldap"
WORK = Path(os.environ.get("LLNG_DIR", "/tmp/mutualis-llng"))
LOCK = Path("/tmp/mutualis-llng.lock")
ISSUER = "http://auth.mutualis.test"
CLIENT_SECRET = "mutualis-secret"
RP_PORTS = range(18600, 18616)
LDAP_URL = "ldap://127.0.0.1:3389"
LDAP_ADMIN = ("cn=admin,dc=mutualis,dc=test", "adminpw")

# uid, given name, family name, mail, password — the provider's people; Mutualis' directory is
# made by each test.
PEOPLE = [
    ("jdupont", "Jeanne", "Dupont", "jeanne.dupont@alpha.test", "jdupont-pw"),
    ("sansdoublef", "Sam", "Simple", "sam.simple@operateur.test", "sans-pw"),
    ("avecdoublef", "Ava", "Double", "ava.double@operateur.test", "avec-pw"),
    ("inconnu", "Ivan", "Connu", "ivan@alpha.test", "inconnu-pw"),
    ("parti", "Paul", "Parti", "paul.parti@alpha.test", "parti-pw"),
    ("accueil-alpha", "Accueil", "Alpha", "accueil@alpha.test", "accueil-pw"),
    ("sortie", "Sophie", "Sortie", "sophie.sortie@alpha.test", "sortie-pw"),
]


def _ldif() -> str:
    blocks = [
        "dn: dc=mutualis,dc=test\nobjectClass: dcObject\nobjectClass: organization\ndc: mutualis\no: Mutualis test",
        "dn: ou=people,dc=mutualis,dc=test\nobjectClass: organizationalUnit\nou: people",
        "dn: ou=groups,dc=mutualis,dc=test\nobjectClass: organizationalUnit\nou: groups",
    ]
    for uid, given, family, mail, password in PEOPLE:
        blocks.append(
            textwrap.dedent(f"""\
            dn: uid={uid},ou=people,dc=mutualis,dc=test
            objectClass: inetOrgPerson
            uid: {uid}
            sn: {family}
            givenName: {given}
            cn: {given} {family}
            mail: {mail}
            userPassword: {password}""")
        )
    return "\n\n".join(blocks) + "\n"


@contextmanager
def _locked() -> Iterator[None]:
    with LOCK.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _answers() -> bool:
    try:
        return requests.get(f"{ISSUER}/.well-known/openid-configuration", timeout=3).ok
    except requests.RequestException:
        return False


def _skip(reason: str) -> None:
    print(f"\nSKIP LemonLDAP::NG tests: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def llng() -> Iterator[str]:
    if not (TOOLS / "up.sh").exists():
        _skip(f"{TOOLS / 'up.sh'} not found (the shared tools sit beside the repository)")
    if os.geteuid() != 0:
        _skip("up.sh needs root (apt, port 80)")
    run_id = os.environ.get("PYTEST_XDIST_TESTRUNUID") or f"solo-{os.getpid()}"
    marker, users = WORK / "mutualis-run", WORK / "mutualis-users"
    with _locked():
        if not (marker.exists() and marker.read_text() == run_id and _answers()):
            subprocess.run(["bash", str(TOOLS / "down.sh")], check=False, capture_output=True)
            WORK.mkdir(parents=True, exist_ok=True)
            ldif = WORK / "mutualis-tests.ldif"
            ldif.write_text(_ldif())
            uris = [f"http://127.0.0.1:{port}/oidc/callback/" for port in RP_PORTS]
            uris += ["http://127.0.0.1:8000/oidc/callback/", "http://localhost:8000/oidc/callback/"]
            env = {**os.environ, "LLNG_BACKEND": "ldap", "LLNG_LDIF": str(ldif), "LLNG_REDIRECT_URIS": " ".join(uris)}
            done = subprocess.run(
                ["bash", str(TOOLS / "up.sh")], env=env, capture_output=True, text=True, timeout=900, check=False
            )
            if done.returncode != 0:
                _skip(f"up.sh failed: {done.stderr.strip()[-500:]}")
            marker.write_text(run_id)
            users.write_text("0")
        users.write_text(str(int(users.read_text() or 0) + 1))
    yield ISSUER
    with _locked():
        left = int(users.read_text() or 1) - 1
        users.write_text(str(left))
        if left == 0:
            subprocess.run(["bash", str(TOOLS / "down.sh")], check=False, capture_output=True)
            marker.unlink(missing_ok=True)


@pytest.fixture(scope="session")
def rp_server(django_db_setup, django_db_blocker) -> Iterator[str]:
    """Mutualis served on a port the provider knows as a redirect URI."""
    from pytest_django.live_server_helper import LiveServer

    with django_db_blocker.unblock():
        for port in RP_PORTS:
            try:
                server = LiveServer(f"127.0.0.1:{port}")
            except Exception:  # noqa: BLE001 (port taken: try the next)
                continue
            break
        else:
            pytest.skip(f"no free port in {RP_PORTS}")
    yield server.url
    server.stop()


@pytest.fixture
def sso(settings, llng, rp_server, transactional_db) -> str:
    """Single sign-on switched on against the provider; returns Mutualis' base URL."""
    for name, value in oidc_settings({"MUTUALIS_OIDC_ISSUER": llng, "OIDC_RP_CLIENT_SECRET": CLIENT_SECRET}).items():
        setattr(settings, name, value)
    settings.AUTHENTICATION_BACKENDS = [
        "mutualis.accounts.backends.AccountBackend",
        "mutualis.identity.oidc.DirectoryOIDCBackend",
    ]
    return rp_server
