"""Single sign-on against the real LemonLDAP::NG, driven as a browser would (see
../shared/tools/lemonldap/login_flow.py): the provider's login form, its TOTP form, the callback."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urljoin

import pyotp
import pytest
import requests

from mutualis.accounts.models import Role, User
from mutualis.catalog.models import SubscriptionStatus
from mutualis.core.models import AuditEntry
from mutualis.identity.models import Agent, AgentStatus
from mutualis.identity.tests.conftest import ISSUER
from mutualis.testing import factories as f

HIDDEN = re.compile(r'<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"')
FORM = re.compile(r'<form[^>]*action="([^"]*)"')


@dataclass
class Visit:
    browser: requests.Session
    response: requests.Response  # the last page shown

    @property
    def text(self) -> str:
        return self.response.text


def _follow(browser: requests.Session, response: requests.Response) -> requests.Response:
    for _ in range(15):
        location = response.headers.get("Location")
        if response.status_code not in (301, 302, 303) or not location:
            return response
        response = browser.get(urljoin(response.url, location), allow_redirects=False, timeout=20)
    raise AssertionError("too many redirects")


def login(base: str, user: str, password: str, *, totp: str | None = None, browser=None) -> Visit:
    browser = browser or requests.Session()
    page = _follow(browser, browser.get(f"{base}/oidc/authenticate/?next=/portail/", allow_redirects=False, timeout=20))
    if page.url.startswith(ISSUER) and 'name="password"' in page.text:
        action = FORM.search(page.text).group(1)
        data = {**dict(HIDDEN.findall(page.text)), "user": user, "password": password}
        page = browser.post(urljoin(page.url, action), data=data, allow_redirects=False, timeout=20)
        if page.status_code == 200 and "totp2fcheck" in page.text:
            assert totp, "the provider asks for a TOTP code"
            data = {**dict(HIDDEN.findall(page.text)), "code": pyotp.TOTP(totp).now()}
            page = browser.post(urljoin(page.url, "/totp2fcheck"), data=data, allow_redirects=False, timeout=20)
        page = _follow(browser, page)
    return Visit(browser, page)


def register_totp(browser: requests.Session) -> str:
    headers = {"X-CSRF-Check": "1", "Accept": "application/json"}
    key = browser.post(f"{ISSUER}/2fregisters/totp/getkey", headers=headers, timeout=20).json()
    answer = browser.post(
        f"{ISSUER}/2fregisters/totp/verify",
        headers=headers,
        data={"token": key["token"], "code": pyotp.TOTP(key["secret"]).now(), "TOTPName": "test"},
        timeout=20,
    ).json()
    assert answer.get("result") == 1, answer
    return key["secret"]


def _agent(org, uid, first, last, mail, **extra):
    return Agent.objects.create(
        collectivity=org, hr_id=uid.upper(), login=uid, first_name=first, last_name=last, mail=mail, **extra
    )


@pytest.fixture
def town(sso):
    org = f.OrganisationFactory(name="Alpha", slug="alpha")
    app = f.ApplicationFactory(name="Parapheur électronique", url="https://parapheur.alpha.test/")
    f.SubscriptionFactory(collectivity=org, application=app, status=SubscriptionStatus.PRODUCTION)
    return org


def test_it_lets_an_agent_in_and_shows_their_applications(sso, town):
    _agent(town, "jdupont", "J.", "Dupond", "jeanne.dupont@alpha.test")

    visit = login(sso, "jdupont", "jdupont-pw")

    assert visit.response.url == f"{sso}/portail/"
    assert "Parapheur électronique" in visit.text
    assert 'href="https://parapheur.alpha.test/"' in visit.text
    account = User.objects.get(agent__login="jdupont")
    # a new named account, refreshed from the provider's claims
    assert (account.first_name, account.last_name, account.organisation) == ("Jeanne", "Dupont", town)
    assert not account.has_usable_password()


def test_it_refuses_a_wrong_password_at_the_provider(sso, town):
    _agent(town, "jdupont", "Jeanne", "Dupont", "jeanne.dupont@alpha.test")

    visit = login(sso, "jdupont", "not-the-password")

    assert visit.response.url.startswith(ISSUER)
    assert 'name="password"' in visit.text
    assert visit.browser.get(f"{sso}/portail/", allow_redirects=False, timeout=20).status_code == 302
    assert not User.objects.filter(agent__login="jdupont").exists()


def test_it_refuses_an_agent_missing_from_the_directory(sso, town):
    visit = login(sso, "inconnu", "inconnu-pw")

    assert visit.response.status_code == 403
    assert "pas dans l&#x27;annuaire" in visit.text or "pas dans l'annuaire" in visit.text
    assert AuditEntry.objects.filter(via="sso", object_repr__contains="refusée (unknown)").exists()


def test_it_refuses_a_deactivated_agent(sso, town):
    _agent(town, "parti", "Paul", "Parti", "paul.parti@alpha.test", status=AgentStatus.INACTIVE)

    visit = login(sso, "parti", "parti-pw")

    assert visit.response.status_code == 403
    assert "désactivé" in visit.text
    assert not User.objects.filter(username="parti").exists()


def test_it_refuses_a_generic_account(sso, town):
    agent = _agent(town, "accueil-alpha", "Accueil", "Alpha", "accueil@alpha.test")
    f.UserFactory(username="accueil-alpha", organisation=town, agent=agent, email="accueil@alpha.test")

    visit = login(sso, "accueil-alpha", "accueil-pw")

    assert visit.response.status_code == 403
    assert "compte générique" in visit.text


def test_it_refuses_operator_staff_without_a_second_factor_and_says_how_to_enrol(sso, town):
    operator = f.OperatorFactory()
    agent = _agent(operator, "sansdoublef", "Sam", "Simple", "sam.simple@operateur.test")
    f.UserFactory(username="sansdoublef", role=Role.OPERATOR_STAFF, organisation=operator, agent=agent)

    visit = login(sso, "sansdoublef", "sans-pw")

    assert visit.response.status_code == 403
    assert "second facteur" in visit.text
    assert f"{ISSUER}/2fregisters/" in visit.text


def test_it_lets_operator_staff_in_with_totp(sso, town):
    operator = f.OperatorFactory()
    agent = _agent(operator, "avecdoublef", "Ava", "Double", "ava.double@operateur.test")
    f.UserFactory(username="avecdoublef", role=Role.OPERATOR_STAFF, organisation=operator, agent=agent)
    first = login(sso, "avecdoublef", "avec-pw")
    assert first.response.status_code == 403  # password only: loa-2
    secret = register_totp(first.browser)

    visit = login(sso, "avecdoublef", "avec-pw", totp=secret)

    assert visit.response.url == f"{sso}/portail/", visit.text[:500]
    # the provider's second factor counts: no second TOTP prompt from Mutualis on operator pages
    page = visit.browser.get(f"{sso}/annuaire/", timeout=20)
    assert page.status_code == 200 and page.url == f"{sso}/annuaire/"


def test_it_ends_the_providers_session_on_logout(sso, town):
    _agent(town, "sortie", "Sophie", "Sortie", "sophie.sortie@alpha.test")
    visit = login(sso, "sortie", "sortie-pw")
    assert visit.response.url == f"{sso}/portail/"
    token = visit.browser.cookies.get("csrftoken", domain="127.0.0.1")

    answer = visit.browser.post(
        f"{sso}/comptes/deconnexion/", data={"csrfmiddlewaretoken": token}, allow_redirects=False, timeout=20
    )

    assert answer.headers["Location"].startswith(f"{ISSUER}/oauth2/logout")
    page = _follow(visit.browser, answer)
    if 'class="confirm"' in page.text:  # the provider asks the person to confirm: they click yes
        page = visit.browser.post(page.url, data=dict(HIDDEN.findall(page.text)), allow_redirects=False, timeout=20)
        _follow(visit.browser, page)
    # the provider asks for the password again: its session is over
    again = _follow(visit.browser, visit.browser.get(f"{sso}/oidc/authenticate/", allow_redirects=False, timeout=20))
    assert again.url.startswith(ISSUER) and 'name="password"' in again.text
    assert visit.browser.get(f"{sso}/portail/", allow_redirects=False, timeout=20).status_code == 302


def test_it_refuses_a_callback_with_a_wrong_state(sso, town):
    browser = requests.Session()
    browser.get(f"{sso}/oidc/authenticate/", allow_redirects=False, timeout=20)  # a login in progress

    answer = browser.get(f"{sso}/oidc/callback/?code=forged&state=not-the-state", timeout=20)

    assert answer.status_code == 400
    assert "falsifiée" in answer.text
    assert AuditEntry.objects.filter(via="sso", object_repr="réponse du fournisseur d'identité refusée").exists()


def test_it_refuses_an_id_token_signed_by_another_key(sso, town, monkeypatch):
    """The provider's JWKS does not hold the key that signed this token: refused and logged."""
    import jwt
    from cryptography.hazmat.primitives.asymmetric import rsa
    from mozilla_django_oidc.auth import OIDCAuthenticationBackend

    _agent(town, "jdupont", "Jeanne", "Dupont", "jeanne.dupont@alpha.test")
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    real_get_token = OIDCAuthenticationBackend.get_token

    def forged(self, payload):
        tokens = real_get_token(self, payload)
        claims = jwt.decode(tokens["id_token"], options={"verify_signature": False})
        tokens["id_token"] = jwt.encode(claims, other_key, algorithm="RS256", headers={"kid": "mutualis-test-key"})
        return tokens

    monkeypatch.setattr(OIDCAuthenticationBackend, "get_token", forged)

    visit = login(sso, "jdupont", "jdupont-pw")

    assert visit.response.status_code == 400
    assert not User.objects.filter(agent__login="jdupont").exists()
    assert AuditEntry.objects.filter(via="sso", object_repr="réponse du fournisseur d'identité refusée").exists()
