"""Password reset by mail for local accounts: same answer whether the address exists or not,
link on MUTUALIS_BASE_URL, throttled per address and per account, audited; gone under single
sign-on."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.urls import reverse

from mutualis.core.models import AuditAction, AuditEntry

RESET = reverse("accounts:password_reset")
NEW_PASSWORD = "Une-phrase-de-passe-neuve-42"


@pytest.fixture
def local(settings, world):
    settings.OIDC_ENABLED = False
    settings.MUTUALIS_BASE_URL = "https://mutualis.example.fr"
    settings.PASSWORD_RESET_PER_HOUR = 3
    world.agent_a.email = "agent.a@alpha.test"
    world.agent_a.save(update_fields=["email"])
    return world


@pytest.fixture
def ask(client, django_capture_on_commit_callbacks):
    """Posts the reset form from `ip`; the mail leaves when the request's transaction commits."""

    def post(email, ip="192.0.2.10"):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(RESET, {"email": email}, REMOTE_ADDR=ip)

    return post


def _link(message) -> str:
    return re.search(r"https?://\S+", message.body).group(0)


def test_it_mails_a_link_built_on_the_base_url_and_the_link_sets_a_new_password(client, ask, local):
    response = ask("Agent.A@alpha.test", ip="192.0.2.10")

    assert (response.status_code, response["Location"]) == (302, reverse("accounts:password_reset_done"))
    assert [m.to for m in mail.outbox] == [["agent.a@alpha.test"]]
    message = mail.outbox[0]
    assert message.subject == "Mutualis : choisir un nouveau mot de passe"
    link = _link(message)
    # Not the Host header of whoever asked: the configured address of the platform.
    assert link.startswith("https://mutualis.example.fr/comptes/mot-de-passe/nouveau/")
    assert "agent-a" in message.body and "&amp;" not in message.body

    form = client.get(link.removeprefix("https://mutualis.example.fr"), follow=True)
    assert form.status_code == 200 and "Nouveau mot de passe" in form.content.decode()
    done = client.post(form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    assert done["Location"] == reverse("accounts:password_reset_complete")
    local.agent_a.refresh_from_db()
    assert local.agent_a.check_password(NEW_PASSWORD)
    assert client.post(reverse("accounts:login"), {"username": "agent-a", "password": NEW_PASSWORD}).status_code == 302
    # The link served once.
    again = client.get(link.removeprefix("https://mutualis.example.fr"), follow=True)
    assert "plus valable" in again.content.decode()


def test_it_answers_the_same_whether_the_address_has_an_account_or_not(client, ask, local):
    known = ask("agent.a@alpha.test", ip="192.0.2.10")
    unknown = ask("personne@nulle-part.test", ip="192.0.2.11")

    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert len(mail.outbox) == 1
    page = client.get(known["Location"]).content.decode()
    assert "Si un compte correspond à cette adresse" in page


def test_it_sends_nothing_to_a_deactivated_account(client, ask, local):
    local.agent_a.is_active = False
    local.agent_a.save(update_fields=["is_active"])

    assert ask("agent.a@alpha.test").status_code == 302
    assert mail.outbox == []


def test_it_throttles_per_address(client, ask, local):
    statuses = [ask(f"someone{n}@nulle-part.test").status_code for n in range(4)]

    assert statuses == [302, 302, 302, 429]
    assert "réessayez dans une heure" in ask("agent.a@alpha.test").content.decode()
    assert mail.outbox == []
    # Another address may still ask.
    assert ask("agent.a@alpha.test", ip="198.51.100.1").status_code == 302


def test_it_throttles_per_account_whatever_the_address(client, ask, local):
    statuses = [ask("agent.a@alpha.test", ip=f"198.51.100.{n}").status_code for n in range(4)]

    assert statuses == [302, 302, 302, 429]
    assert len(mail.outbox) == 3
    # The count is per account typed, existing or not, so the refusal tells nothing either.
    unknown = [ask("personne@nulle-part.test", ip=f"203.0.113.{n}").status_code for n in range(4)]
    assert unknown == statuses


def test_it_audits_the_request_and_the_new_password(client, ask, local):
    ask("agent.a@alpha.test", ip="192.0.2.10")
    ask("personne@nulle-part.test", ip="192.0.2.11")
    path = _link(mail.outbox[0]).removeprefix("https://mutualis.example.fr")
    form = client.get(path, follow=True)
    client.post(form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    asked = AuditEntry.objects.filter(action=AuditAction.PASSWORD_RESET_REQUEST).order_by("pk")
    assert [(e.object_repr, e.changes["ip_address"][1], e.organisation_id) for e in asked] == [
        ("agent-a", "192.0.2.10", local.member_a.pk),
        ("personne@nulle-part.test", "192.0.2.11", None),
    ]
    reset = AuditEntry.objects.get(action=AuditAction.PASSWORD_RESET)
    assert (reset.actor, reset.object_repr) == (local.agent_a, "agent-a")
    assert NEW_PASSWORD not in repr(list(AuditEntry.objects.values()))


def test_it_offers_the_reset_on_the_login_page_of_local_accounts(client, local):
    assert RESET in client.get(reverse("accounts:login")).content.decode()


@pytest.mark.parametrize(
    "url",
    [
        RESET,
        reverse("accounts:password_reset_done"),
        reverse("accounts:password_reset_confirm", kwargs={"uidb64": "MQ", "token": "set-password"}),
        reverse("accounts:password_reset_complete"),
    ],
)
def test_it_has_no_password_reset_under_single_sign_on(client, local, settings, url):
    settings.OIDC_ENABLED = True

    assert client.get(url).status_code == 404
    assert client.post(url, {"email": "agent.a@alpha.test"}).status_code == 404
    assert mail.outbox == []


def test_it_does_not_offer_the_reset_on_the_login_page_under_single_sign_on(client, local, settings):
    settings.OIDC_ENABLED = True

    assert RESET not in client.get(reverse("accounts:login")).content.decode()


class RefusingBackend(BaseEmailBackend):
    """A mail server that is down."""

    def send_messages(self, email_messages):
        raise ConnectionRefusedError("smtp down")


def test_it_answers_the_same_when_the_mail_server_fails(client, ask, local, settings):
    """The mail leaves in a background job: a mail server down neither breaks the page nor
    tells the asker that the address has an account."""
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"

    known = ask("agent.a@alpha.test", ip="192.0.2.10")
    unknown = ask("personne@nulle-part.test", ip="192.0.2.11")

    assert (
        (known.status_code, known["Location"])
        == (unknown.status_code, unknown["Location"])
        == (
            302,
            reverse("accounts:password_reset_done"),
        )
    )
