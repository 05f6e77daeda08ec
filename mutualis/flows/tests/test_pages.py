"""The flows' pages: who sees what, the upload form's checks, connectors and their secrets, query counts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from mutualis.core.models import AuditEntry
from mutualis.flows import engine, services
from mutualis.flows.enums import FlowType, Port, State
from mutualis.flows.models import ActClassification, ConnectorInstance, FlowBinding, FlowDocument
from mutualis.flows.ports import Outcome, RemoteState, UnrecoverableError
from mutualis.flows.secrets import decrypt
from mutualis.flows.tests.fakes import Remote, bind_fakes, installed
from mutualis.flows.tests.test_engine import PDF, T0, make_member, upload_act


@pytest.fixture
def remote() -> Iterator[Remote]:
    with installed() as fakes:
        yield fakes


def act_post(**overrides):
    data = {
        "number": "2026_DE_007",
        "nature": "1",
        "subject": "Subvention au comité des fêtes",
        "decision_date": "2026-02-20",
        "classification": "7.5",
        "steps": ["signature", "transmission", "archive"],
        "main": SimpleUploadedFile("deliberation.pdf", PDF, content_type="application/pdf"),
        "attachments": [SimpleUploadedFile("annexe.pdf", PDF, content_type="application/pdf")],
    }
    data.update(overrides)
    return data


def errors_of(response) -> str:
    return response.content.decode()


# --- upload ---------------------------------------------------------------------------------------


def test_a_members_agent_uploads_an_act(client, world, remote):
    make_member(world)
    bind_fakes(world.member_a)
    client.force_login(world.agent_a)
    url = reverse("flows:document_create", args=["alpha", FlowType.ACTE])
    assert client.get(url).status_code == 200
    response = client.post(url, act_post())
    document = FlowDocument.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("flows:document", args=[document.pk])
    assert (document.number, document.nature, document.decision_date) == ("2026_DE_007", 1, dt.date(2026, 2, 20))
    assert document.files.count() == 2
    assert AuditEntry.objects.filter(object_id=str(document.pk), action="create").exists()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"number": "2026-de-7"}, "majuscules, chiffres et « _ »"),
        ({"number": "_2026"}, "majuscules, chiffres et « _ »"),
        ({"number": "A" * 16}, "15 caractères"),
        ({"subject": "x" * 500}, "499 au plus"),
        ({"subject": ""}, "obligatoire"),
        ({"nature": ""}, "obligatoire"),
        ({"decision_date": "2999-01-01"}, "dans le futur"),
        ({"decision_date": "20/02"}, "date"),
        ({"classification": "7"}, "au moins deux niveaux"),
        ({"classification": "7.x"}, "chiffres séparés par des points"),
        ({"steps": []}, "obligatoire"),
        ({"main": SimpleUploadedFile("acte.pdf", b"MZ\x90\x00", content_type="application/pdf")}, "exécutable"),
        (
            {"main": SimpleUploadedFile("acte.docx", b"PK\x03\x04", content_type="application/pdf")},
            "n&#x27;est pas un PDF",
        ),
        (
            {"attachments": [SimpleUploadedFile("annexe.pdf", b"hello", content_type="application/pdf")]},
            "n&#x27;est pas un PDF",
        ),
    ],
)
def test_the_act_form_says_what_is_wrong(client, world, overrides, message):
    make_member(world)
    client.force_login(world.agent_a)
    response = client.post(reverse("flows:document_create", args=["alpha", FlowType.ACTE]), act_post(**overrides))
    assert response.status_code == 400
    assert message in errors_of(response)
    assert not FlowDocument.objects.exists()


def test_the_act_form_refuses_a_number_already_used_and_a_code_outside_the_classification(client, world, remote):
    make_member(world)
    upload_act(world, number="2026_DE_007")
    services.classification_import(
        actor=world.staff, member=world.member_a, version=dt.date(2026, 1, 1), codes={"1.1": "Marchés publics"}
    )
    client.force_login(world.agent_a)
    response = client.post(reverse("flows:document_create", args=["alpha", FlowType.ACTE]), act_post())
    body = errors_of(response)
    assert "porte déjà le numéro 2026_DE_007" in body
    assert "pas dans la classification de la préfecture" in body


def test_the_act_form_asks_for_the_members_identifiers_before_a_transmission(client, world):
    client.force_login(world.agent_a)
    response = client.post(reverse("flows:document_create", args=["alpha", FlowType.ACTE]), act_post())
    assert "département, arrondissement manquant" in errors_of(response)


def test_a_file_above_the_limit_is_refused(client, world, settings, monkeypatch):
    make_member(world)
    monkeypatch.setattr(services, "MAX_FILE_BYTES", len(PDF) - 1)
    client.force_login(world.agent_a)
    response = client.post(reverse("flows:document_create", args=["alpha", FlowType.ACTE]), act_post())
    assert response.status_code == 400
    assert "Mo" in errors_of(response)


def test_an_elected_official_cannot_upload(client, world):
    client.force_login(world.elected_a)
    assert client.get(reverse("flows:document_create", args=["alpha", FlowType.ACTE])).status_code == 403


# --- tenancy --------------------------------------------------------------------------------------


def test_a_member_sees_only_its_own_documents(client, world, remote):
    make_member(world)
    foreign = services.document_create(
        actor=world.staff,
        member=world.member_b,
        flow=FlowType.DOCUMENT_A_SIGNER,
        data={"subject": "Convention Bravo"},
        steps=["signature"],
        main=SimpleUploadedFile("c.pdf", PDF),
    )
    own = upload_act(world)
    file_id = foreign.files.get().pk
    client.force_login(world.agent_a)
    assert client.get(reverse("flows:document", args=[own.pk])).status_code == 200
    for name, args in (
        ("flows:document", [foreign.pk]),
        ("flows:file", [foreign.pk, file_id]),
        ("flows:documents", ["bravo", FlowType.DOCUMENT_A_SIGNER]),
        ("flows:document_create", ["bravo", FlowType.DOCUMENT_A_SIGNER]),
    ):
        assert client.get(reverse(name, args=args)).status_code == 404, name
    for name in ("flows:retry", "flows:cancel"):
        assert client.post(reverse(name, args=[foreign.pk])).status_code == 404
    body = client.get(reverse("flows:index")).content.decode()
    assert "Alpha" in body and "Bravo" not in body
    # Connectors are the operator's business: a member is told nothing exists.
    assert client.get(reverse("flows:connectors", args=["alpha"])).status_code == 404


def test_staff_see_every_member_and_download_every_proof(client, world, remote):
    make_member(world)
    bind_fakes(world.member_a)
    document = upload_act(world, steps=["transmission"])
    remote.answer(Port.TRANSMISSION, Outcome(RemoteState.DONE, proofs={"aracte.xml": b"<ARActe/>", "tampon.pdf": PDF}))
    engine.document_advance(document.pk, now=T0)
    engine.document_advance(document.pk, now=T0 + dt.timedelta(hours=1))
    client.force_login(world.staff)
    body = client.get(reverse("flows:document", args=[document.pk])).content.decode()
    assert "terminé" in body
    assert "1 · Délibération" in body  # the nature's name, not its bare @CTES code
    assert "acquiter-tdt" in body and "aracte.xml" in body and "tampon.pdf" in body
    for row in document.files.all():
        response = client.get(reverse("flows:file", args=[document.pk, row.pk]))
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == row.file.open("rb").read()
    assert "Alpha" in client.get(reverse("flows:index")).content.decode()


def test_the_stuck_list_says_why_and_retry_and_cancel_work_from_the_page(client, world, remote):
    make_member(world)
    bind_fakes(world.member_a)
    document = upload_act(world, steps=["transmission"])
    remote.fail(Port.TRANSMISSION, UnrecoverableError("Le certificat du connecteur a expiré."))
    engine.document_advance(document.pk, now=T0)
    client.force_login(world.manager_a)
    listing = client.get(reverse("flows:documents", args=["alpha", FlowType.ACTE])).content.decode()
    assert "Le certificat du connecteur a expiré." in listing
    assert "erreur de transmission (1)" in listing
    response = client.post(reverse("flows:retry", args=[document.pk]))
    assert response.status_code == 302
    document.refresh_from_db()
    assert document.state == State.CREATION
    client.post(reverse("flows:cancel", args=[document.pk]))
    document.refresh_from_db()
    assert document.state == State.ANNULATION
    assert AuditEntry.objects.filter(object_id=str(document.pk), via="web").count() == 3  # upload, retry, cancel


# --- connectors -----------------------------------------------------------------------------------


def test_staff_create_a_connector_whose_secret_is_encrypted_and_never_shown_back(client, world, remote):
    client.force_login(world.staff)
    url = reverse("flows:connector_create", args=["alpha", "fake-transmission"])
    response = client.post(
        url, {"label": "S²low Alpha", "s_url": "https://s2low.test/", "s_password": "tres-secret-42"}
    )
    assert response.status_code == 302
    instance = ConnectorInstance.objects.get()
    with connection.cursor() as cursor:
        cursor.execute("SELECT config, secrets FROM flows_connectorinstance WHERE id = %s", [instance.pk])
        row = " ".join(str(v) for v in cursor.fetchone())
    assert "tres-secret-42" not in row
    assert decrypt(instance.secrets) == {"password": "tres-secret-42"}
    edit = client.get(reverse("flows:connector_edit", args=[instance.pk])).content.decode()
    assert "https://s2low.test/" in edit and "tres-secret-42" not in edit
    # Saved again without typing the secret: it is kept.
    client.post(
        reverse("flows:connector_edit", args=[instance.pk]), {"label": "S²low Alpha", "s_url": "https://s2low.test/v2/"}
    )
    instance.refresh_from_db()
    assert (
        decrypt(instance.secrets) == {"password": "tres-secret-42"}
        and instance.config["url"] == "https://s2low.test/v2/"
    )
    entries = AuditEntry.objects.filter(object_id=str(instance.pk))
    assert entries.count() == 2 and "tres-secret-42" not in str(list(entries.values_list("changes", flat=True)))


def test_the_test_button_calls_check_and_shows_the_outcome(client, world, remote):
    bind_fakes(world.member_a)
    instance = ConnectorInstance.objects.get(kind="fake-signature")
    client.force_login(world.staff)
    response = client.post(reverse("flows:connector_check", args=[instance.pk]), follow=True)
    assert "Connexion réussie." in response.content.decode()
    remote.fail(Port.SIGNATURE, UnrecoverableError("Identifiants refusés."))
    response = client.post(reverse("flows:connector_check", args=[instance.pk]), follow=True)
    assert "Identifiants refusés." in response.content.decode()
    instance.refresh_from_db()
    assert instance.last_check_ok is False


def test_staff_bind_a_connector_to_a_flow(client, world, remote):
    bind_fakes(world.member_a, flows=())
    instance = ConnectorInstance.objects.get(kind="fake-archive")
    client.force_login(world.staff)
    assert client.get(reverse("flows:connectors", args=["alpha"])).status_code == 200
    url = reverse("flows:binding_set", args=["alpha"])
    client.post(url, {"flow": FlowType.ACTE, "port": Port.ARCHIVE, "instance": instance.pk})
    assert FlowBinding.objects.get().instance == instance
    # A connector of another port is refused.
    client.post(url, {"flow": FlowType.ACTE, "port": Port.SIGNATURE, "instance": instance.pk})
    assert FlowBinding.objects.count() == 1


def test_a_wrong_secrets_key_fails_with_a_clear_message(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from mutualis.flows import secrets

    monkeypatch.setenv("MUTUALIS_SECRETS_KEY", "not-a-key")
    with pytest.raises(ImproperlyConfigured, match="MUTUALIS_SECRETS_KEY"):
        secrets.encrypt({"a": "b"})


def test_secrets_written_with_one_key_are_read_after_rotation(monkeypatch):
    from cryptography.fernet import Fernet

    from mutualis.flows import secrets

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    monkeypatch.setenv("MUTUALIS_SECRETS_KEY", old)
    token = secrets.encrypt({"api_key": "k"})
    monkeypatch.setenv("MUTUALIS_SECRETS_KEY", f"{new},{old}")
    assert secrets.decrypt(token) == {"api_key": "k"}


# --- query counts ---------------------------------------------------------------------------------


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("who", ["staff", "manager_a"])
def test_the_pages_query_count_does_not_grow_with_documents(client, world, remote, who):
    make_member(world)
    bind_fakes(world.member_a)
    client.force_login(getattr(world, who))
    urls = [reverse("flows:index"), reverse("flows:documents", args=["alpha", FlowType.ACTE])]

    def add(n: int, start: int) -> None:
        for i in range(n):
            document = upload_act(world, number=f"N{start + i:03d}", steps=["transmission"])
            engine.document_advance(document.pk, now=T0)  # some waiting, some in error below
            if i % 2:
                remote.fail(Port.TRANSMISSION, UnrecoverableError("refus"))
                engine.document_advance(document.pk, now=T0 + dt.timedelta(hours=1))

    add(2, 0)
    document = FlowDocument.objects.first()
    pages = [*urls, reverse("flows:document", args=[document.pk])]
    for url in pages:  # the per-process caches (the operator's name) warm up first
        client.get(url)
    few = [_queries(client, url) for url in pages]
    add(6, 100)
    many = [_queries(client, url) for url in pages]
    assert few == many


def test_classification_import_replaces_the_codes(world):
    services.classification_import(actor=None, member=world.member_a, version=dt.date(2026, 1, 1), codes={"1.1": "a"})
    services.classification_import(
        actor=None, member=world.member_a, version=dt.date(2026, 2, 1), codes={"1.2": "b", "1.3": "c"}
    )
    assert list(ActClassification.objects.values_list("code", flat=True)) == ["1.2", "1.3"]


def test_a_pem_pasted_in_the_form_keeps_its_lines(client, world):
    pem = "-----BEGIN CERTIFICATE-----\nMIIB\nAbCd\n-----END CERTIFICATE-----\n"
    key = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n"
    client.force_login(world.staff)
    url = reverse("flows:connector_create", args=["alpha", "s2low"])
    page = client.get(url).content.decode()
    assert 'name="s_certificate"' in page and "<textarea" in page
    response = client.post(
        url, {"label": "S²low", "s_url": "https://s2low.test", "s_certificate": pem, "s_private_key": key}
    )
    assert response.status_code == 302
    instance = ConnectorInstance.objects.get()
    assert decrypt(instance.secrets)["certificate"] == pem.strip()  # every line kept


def test_the_operator_itself_has_no_flows(client, world):
    client.force_login(world.staff)
    operator = world.operator.slug
    assert client.get(reverse("flows:documents", args=[operator, FlowType.ACTE])).status_code == 404
    assert client.get(reverse("flows:document_create", args=[operator, FlowType.ACTE])).status_code == 404


def test_payslips_are_uploaded_as_the_months_payroll_file_not_through_the_generic_form(client, world):
    client.force_login(world.staff)
    response = client.get(reverse("flows:document_create", args=["alpha", FlowType.PAYSLIP]))
    assert response.status_code == 302
    assert response["Location"] == reverse("flows:payslip_batches", args=["alpha"])
    body = client.get(reverse("flows:documents", args=["alpha", FlowType.PAYSLIP])).content.decode()
    assert reverse("flows:payslip_batches", args=["alpha"]) in body
    assert reverse("flows:document_create", args=["alpha", FlowType.PAYSLIP]) not in body
