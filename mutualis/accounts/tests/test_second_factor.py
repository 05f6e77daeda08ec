"""The second factor (TOTP) operator staff must pass when REQUIRE_2FA_FOR_STAFF is on."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from mutualis.accounts.models import ApiToken
from mutualis.accounts.services import api_token_create
from mutualis.core.models import AuditAction, AuditEntry

ENROL = "/comptes/2fa/enrolement/"
VERIFY = "/comptes/2fa/"


@pytest.fixture
def required(settings):
    settings.REQUIRE_2FA_FOR_STAFF = True
    return settings


def _code(device: TOTPDevice, shift: int = 0) -> str:
    """The code the user's phone shows now (`shift` steps away)."""
    value = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift + shift)
    return f"{value:0{device.digits}d}"


def _next_of(location: str) -> str:
    return parse_qs(urlsplit(location).query)["next"][0]


def test_it_sends_unverified_operator_staff_to_enrolment_then_lets_them_in(client, world, required):
    client.force_login(world.staff)

    first = client.get("/adherents/")
    second = client.get(first["Location"])
    page = client.get(second["Location"])
    device = TOTPDevice.objects.get(user=world.staff)
    enrolled = client.post(second["Location"], {"token": _code(device), "next": "/adherents/"})

    assert (urlsplit(first["Location"]).path, _next_of(first["Location"])) == (VERIFY, "/adherents/")
    assert (urlsplit(second["Location"]).path, _next_of(second["Location"])) == (ENROL, "/adherents/")
    assert page.status_code == 200
    assert "otpauth://totp/" in page.content.decode()
    assert (enrolled.status_code, enrolled["Location"]) == (302, "/adherents/")
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/adherents/").status_code == 200
    assert AuditEntry.objects.filter(action=AuditAction.UPDATE, changes={"totp": [False, True]}).exists()


def test_it_refuses_a_wrong_enrolment_code(client, world, required):
    client.force_login(world.staff)
    client.get(ENROL)
    device = TOTPDevice.objects.get(user=world.staff)

    response = client.post(ENROL, {"token": _code(device, shift=100)})

    assert response.status_code == 200
    assert "Code incorrect" in response.content.decode()
    device.refresh_from_db()
    assert not device.confirmed
    assert client.get("/adherents/").status_code == 302


def test_it_asks_an_enrolled_account_for_its_code(client, world, required):
    device = TOTPDevice.objects.create(user=world.admin, name="téléphone", confirmed=True)
    client.force_login(world.admin)

    redirected = client.get("/journal/")
    form = client.get(redirected["Location"])
    verified = client.post(redirected["Location"], {"token": _code(device), "next": "/journal/"})

    assert urlsplit(redirected["Location"]).path == VERIFY
    assert form.status_code == 200
    assert (verified.status_code, verified["Location"]) == (302, "/journal/")
    assert client.get("/journal/").status_code == 200


def test_it_refuses_a_wrong_verification_code(client, world, required):
    device = TOTPDevice.objects.create(user=world.admin, name="téléphone", confirmed=True)
    client.force_login(world.admin)

    response = client.post(VERIFY, {"token": _code(device, shift=100)})

    assert response.status_code == 200
    assert "Code incorrect ou expiré." in response.content.decode()
    assert client.get("/journal/").status_code == 302


def test_it_does_not_let_a_password_alone_enrol_a_second_device(client, world, required):
    """With a device enrolled, the enrolment page asks for its code first: else whoever holds the
    password could add their own phone."""
    TOTPDevice.objects.create(user=world.staff, name="téléphone", confirmed=True)
    client.force_login(world.staff)

    response = client.get(ENROL)

    assert urlsplit(response["Location"]).path == VERIFY
    assert TOTPDevice.objects.filter(user=world.staff).count() == 1


@pytest.mark.parametrize("who", ["manager_a", "agent_a", "elected_a"])
def test_it_never_asks_a_member_account(client, world, required, who):
    client.force_login(getattr(world, who))

    assert client.get("/adherents/").status_code == 200
    assert client.get(reverse("accounts:profile")).status_code == 200
    assert not TOTPDevice.objects.exists()


@pytest.mark.parametrize("who", ["admin", "staff"])
def test_it_does_not_ask_when_the_setting_is_off(client, world, settings, who):
    settings.REQUIRE_2FA_FOR_STAFF = False
    client.force_login(getattr(world, who))

    assert client.get("/adherents/").status_code == 200
    assert client.get("/api/v1/collectivities/").status_code == 200


def test_it_keeps_the_whole_query_string_of_the_page_asked_for(client, world, required):
    client.force_login(world.staff)

    first = client.get("/catalogue/matrice/", {"domaine": "rh", "statut": "all"})
    second = client.get(first["Location"])
    client.get(second["Location"])
    device = TOTPDevice.objects.get(user=world.staff)
    done = client.post(second["Location"], {"token": _code(device)})

    assert _next_of(first["Location"]) == "/catalogue/matrice/?domaine=rh&statut=all"
    assert done["Location"] == "/catalogue/matrice/?domaine=rh&statut=all"


def test_it_does_not_redirect_outside_the_site_after_enrolment(client, world, required):
    client.force_login(world.staff)
    client.get(ENROL)
    device = TOTPDevice.objects.get(user=world.staff)

    response = client.post(f"{ENROL}?next=https://evil.example/", {"token": _code(device)})

    assert response["Location"] == "/"


def test_it_keeps_the_profile_and_token_making_behind_the_second_factor(client, world, required):
    """An API token made without the second factor would be a way round it."""
    client.force_login(world.staff)

    profile = client.get(reverse("accounts:profile"))
    made = client.post(reverse("accounts:token_create"), {"name": "contournement"})

    assert urlsplit(profile["Location"]).path == VERIFY
    assert urlsplit(made["Location"]).path == VERIFY
    assert not ApiToken.objects.exists()


def test_it_refuses_the_api_session_of_unverified_staff(client, world, required):
    client.force_login(world.staff)

    assert client.get("/api/v1/collectivities/").status_code == 401


def test_it_accepts_the_api_session_of_verified_staff(client, world, required):
    device = TOTPDevice.objects.create(user=world.staff, name="téléphone", confirmed=True)
    client.force_login(world.staff)
    client.post(VERIFY, {"token": _code(device)})

    assert client.get("/api/v1/collectivities/").status_code == 200


def test_it_accepts_the_api_session_of_a_member_account(client, world, required):
    client.force_login(world.agent_a)

    assert client.get("/api/v1/collectivities/").status_code == 200


def test_it_refuses_the_token_of_operator_staff_without_a_confirmed_second_factor(client, world, required):
    """A token made before the rule, while it was off, or in a single sign-on session stands in
    for a whole login: it must not carry less than the login it replaces."""
    token, secret = api_token_create(actor=world.staff, name="script")
    TOTPDevice.objects.create(user=world.staff, name="pas fini", confirmed=False)

    response = client.get("/api/v1/collectivities/", HTTP_AUTHORIZATION=f"Bearer {secret}")

    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/json")
    assert "second facteur" in response.json()["detail"]
    token.refresh_from_db()
    assert token.last_used_at is None


def test_it_accepts_the_token_once_the_account_has_a_confirmed_second_factor(client, world, required):
    _token, secret = api_token_create(actor=world.staff, name="script")
    TOTPDevice.objects.create(user=world.staff, name="téléphone", confirmed=True)

    assert client.get("/api/v1/collectivities/", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 200


def test_it_accepts_staff_tokens_without_a_second_factor_when_not_required(client, world, settings):
    settings.REQUIRE_2FA_FOR_STAFF = False
    _token, secret = api_token_create(actor=world.staff, name="script")

    assert client.get("/api/v1/collectivities/", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 200


def test_it_accepts_a_member_token_without_a_second_factor(client, world, required):
    _token, secret = api_token_create(actor=world.manager_a, name="tableur")

    assert client.get("/api/v1/collectivities/", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 200


def test_it_tells_staff_on_the_token_page_why_their_tokens_are_refused(client, world, required, settings):
    """Staff reach the page without a TOTP device after a single sign-on whose provider proved the
    second factor: the page says the API will refuse their tokens, and where to enrol."""
    from mutualis.accounts.middleware import SSO_SECOND_FACTOR_KEY

    client.force_login(world.staff)
    session = client.session
    session[SSO_SECOND_FACTOR_KEY] = True
    session.save()

    without = client.get(reverse("accounts:profile")).content.decode()
    TOTPDevice.objects.create(user=world.staff, name="téléphone", confirmed=True)
    with_device = client.get(reverse("accounts:profile")).content.decode()

    assert "API refuse vos jetons" in without and reverse("accounts:otp_enrol") in without
    assert "API refuse vos jetons" not in with_device


def test_it_sends_anonymous_visitors_of_the_second_factor_pages_to_login(client, world, required):
    for url in (VERIFY, ENROL):
        response = client.get(url)
        assert urlsplit(response["Location"]).path == "/comptes/connexion/"
