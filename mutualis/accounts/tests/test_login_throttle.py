"""Password guessing is throttled (django-axes) per account, per address and per pair, each
failure audited without its password; the lockout page is in French."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import authenticate
from django.test import RequestFactory
from django.urls import reverse

from mutualis.accounts.backends import LoginThrottleBackend
from mutualis.accounts.throttle import client_ip
from mutualis.core.models import AuditAction, AuditEntry
from mutualis.testing.factories import PASSWORD

LOGIN = reverse("accounts:login")


@pytest.fixture(autouse=True)
def _throttle(settings, db):
    """A known limit, and no lockout carried from one test to another (axes keeps its counts in
    tables: the test's transaction is rolled back, and this clears what a non-rolled-back test left)."""
    from axes.utils import reset

    settings.AXES_FAILURE_LIMIT = 3
    settings.LOGIN_COOLOFF_MINUTES = 15
    reset()
    yield
    reset()


def _login(client, username, password, ip="192.0.2.10", **extra):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip, **extra)


def test_it_locks_an_account_out_after_the_limit_even_with_the_right_password(client, world):
    statuses = [_login(client, "staff", "wrong-guess").status_code for _ in range(3)]

    response = _login(client, "staff", PASSWORD)

    assert statuses == [200, 200, 429]  # the failure that reaches the limit locks

    assert response.status_code == 429
    page = response.content.decode()
    assert "Connexion temporairement bloquée" in page
    assert "Réessayez dans 15 minutes." in page
    assert "_auth_user_id" not in client.session


def test_it_locks_the_account_whatever_address_the_guesses_come_from(client, world):
    for number in range(3):
        _login(client, "staff", "wrong-guess", ip=f"198.51.100.{number}")

    assert _login(client, "staff", PASSWORD, ip="203.0.113.7").status_code == 429


def test_it_locks_an_address_trying_one_password_on_many_accounts(client, world):
    for username in ("admin", "manager-a", "agent-a"):
        _login(client, username, "Printemps2026!")

    # A fourth account, never guessed, from the same address: refused; from elsewhere: in.
    assert _login(client, "elected-a", PASSWORD).status_code == 429
    assert _login(client, "elected-a", PASSWORD, ip="203.0.113.7").status_code == 302


def test_it_lets_a_user_in_below_the_limit(client, world):
    for _ in range(2):
        _login(client, "staff", "wrong-guess")

    response = _login(client, "staff", PASSWORD)

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(world.staff.pk)


def test_it_opens_again_after_the_cool_off(client, world, settings):
    for _ in range(3):
        _login(client, "staff", "wrong-guess")
    assert _login(client, "staff", PASSWORD).status_code == 429

    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.get().attempt_time.replace(year=2000))

    assert _login(client, "staff", PASSWORD).status_code == 302


def test_it_audits_each_failure_with_the_name_and_address_but_never_the_password(client, world):
    _login(client, "staff", "Secret-Guess-1")
    _login(client, "nobody-here", "Secret-Guess-2", ip="198.51.100.9")

    entries = AuditEntry.objects.filter(action=AuditAction.LOGIN_FAILED).order_by("pk")
    assert [(e.changes["username"][1], e.changes["ip_address"][1], e.actor) for e in entries] == [
        ("staff", "192.0.2.10", None),
        ("nobody-here", "198.51.100.9", None),
    ]
    dump = repr(list(AuditEntry.objects.values()))
    assert "Secret-Guess" not in dump


def test_it_reads_the_address_behind_the_configured_reverse_proxies(settings):
    factory = RequestFactory()
    # The client wrote the first entry itself; the proxy appended the address it saw.
    request = factory.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.20")

    settings.REVERSE_PROXY_COUNT = 0
    assert client_ip(request) == "10.0.0.2"
    settings.REVERSE_PROXY_COUNT = 1
    assert client_ip(request) == "198.51.100.20"
    settings.REVERSE_PROXY_COUNT = 3  # fewer hops than proxies: the request went round them
    assert client_ip(request) == "10.0.0.2"
    settings.REVERSE_PROXY_COUNT = 1
    assert client_ip(factory.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="not-an-ip")) == "10.0.0.2"


def test_it_counts_a_forged_forwarded_header_against_the_real_address(client, world, settings):
    """Behind one proxy, a guesser who writes a new X-Forwarded-For each time is still counted
    at the address the proxy saw."""
    settings.REVERSE_PROXY_COUNT = 1
    for number in range(3):
        _login(client, f"name-{number}", "guess", HTTP_X_FORWARDED_FOR=f"10.9.9.{number}, 198.51.100.20")

    assert _login(client, "staff", PASSWORD, HTTP_X_FORWARDED_FOR="10.9.9.99, 198.51.100.20").status_code == 429


def test_it_does_not_count_a_single_sign_on_callback_as_a_password_guess(world, rf):
    """The OIDC backend authenticates with a code, not a password: a locked-out address must not
    stop it, nor its refusals lock the address."""
    request = rf.post(LOGIN, REMOTE_ADDR="192.0.2.10")
    for username in ("a", "b", "c"):
        authenticate(request, username=username, password="guess")
    assert AccessAttempt.objects.filter(ip_address="192.0.2.10").exists()

    assert LoginThrottleBackend().authenticate(request, code="from-provider", nonce="n") is None
    authenticate(request, code="from-provider", nonce="n")

    assert sum(a.failures_since_start for a in AccessAttempt.objects.all()) == 3
    assert AuditEntry.objects.filter(action=AuditAction.LOGIN_FAILED).count() == 3


def test_it_lets_code_authenticate_without_a_request(world):
    """Scripts and the test client call authenticate() without a request: no one to throttle."""
    assert authenticate(username="staff", password=PASSWORD) == world.staff


def test_it_offers_password_reset_on_the_lockout_page_only_for_local_accounts(client, world, settings):
    for _ in range(3):
        _login(client, "staff", "wrong-guess")

    assert reverse("accounts:password_reset") in _login(client, "staff", PASSWORD).content.decode()
    settings.OIDC_ENABLED = True
    assert reverse("accounts:password_reset") not in _login(client, "staff", PASSWORD).content.decode()
