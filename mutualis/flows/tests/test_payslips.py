"""The payslips flow: a payroll PDF (or a ZIP) split per agent, matched to the directory, each payslip
sent once by secure mail, receipts and « non reçu » through the engine, the month to the archive, and
who sees payslips (the member's payroll managers, not its IT director)."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from pypdf import PdfReader

from mutualis.accounts.models import User
from mutualis.flows import engine, mailsec, payslips, rights, services
from mutualis.flows.enums import FlowType, Port, State
from mutualis.flows.mailsec_models import SecureMail
from mutualis.flows.models import FileRole, FlowDocument
from mutualis.flows.payslip_models import BatchState, Payslip, PayslipBatch
from mutualis.flows.tests.payroll import PayslipPage, payroll_pdf
from mutualis.identity.models import Agent

PERIOD = dt.date(2026, 11, 1)
LINK = re.compile(r"https?://\S+/flux/courrier/([0-9a-f]{64})/")


@pytest.fixture(autouse=True)
def fresh_connection():
    mailsec._drop_connection()
    yield
    mailsec._drop_connection()


@pytest.fixture
def hr(world):
    """Alpha's directory, its secure mail connector, and agent-a as its payroll manager (manager-a, its
    IT director, is not one)."""
    member = world.member_a
    for hr_id, last, mail in (
        ("A001", "Lovelace", "ada@alpha.test"),
        ("A002", "Hopper", "grace@alpha.test"),
        ("A003", "Curie", ""),
        ("A004", "Noether", "emmy@alpha.test"),
    ):
        Agent.objects.create(collectivity=member, hr_id=hr_id, last_name=last, first_name="X", mail=mail)
    instance = services.connector_save(
        actor=world.staff,
        member=member,
        kind="mailsec",
        label="Courrier sécurisé",
        values={"sender": "Mairie d'Alpha, service RH", "reminder_days": "7", "max_reminders": "1"},
    )
    services.binding_set(actor=world.staff, member=member, flow=FlowType.PAYSLIP, port=Port.MAILSEC, instance=instance)
    rights.flow_manager_grant(actor=world.staff, member=member, flow=FlowType.PAYSLIP, user=world.agent_a)
    return world


PAGES = [
    PayslipPage("A001", "Ada"),
    PayslipPage("A002", "Grace"),
    PayslipPage("", "Grace", ("suite du bulletin",)),  # a continuation page prints no matricule
    PayslipPage("A002", "Grace", ("page 3, même matricule",)),
    PayslipPage("Z999", "Inconnu"),
    PayslipPage("A003", "Marie"),  # no address in the directory
    PayslipPage("A004", "Emmy"),
    PayslipPage("A001", "Ada encore"),  # the same matricule again, later in the file
]


def upload(world, content: bytes, name: str = "paie-2026-11.pdf", actor=None) -> PayslipBatch:
    return payslips.payslip_batch_create(
        actor=actor or world.agent_a,
        member=world.member_a,
        period=PERIOD,
        upload=SimpleUploadedFile(name, content),
    )


def run_batch(batch: PayslipBatch) -> None:
    for index in range(batch.chunks):
        payslips.payslip_chunk_process(batch.pk, index)


@pytest.fixture
def small_chunks(monkeypatch):
    # Chunks of 3 pages: Grace's payslip (pages 2-4) straddles the first two chunks.
    monkeypatch.setattr(payslips, "CHUNK", 3)


def test_it_splits_the_payroll_by_matricule_and_lists_the_unmatched(hr, mailoutbox, small_chunks):
    batch = upload(hr, payroll_pdf(PAGES))
    assert (batch.pages, batch.chunks) == (8, 3)
    run_batch(batch)
    rows = {p.pages: p for p in Payslip.objects.filter(batch=batch)}
    assert sorted(rows) == ["1", "2-4", "5", "6", "7", "8"]
    matched = {p.hr_id: p for p in rows.values() if p.document_id}
    assert sorted(matched) == ["A001", "A002", "A004"]
    assert rows["1"].document_id and not rows["8"].document_id  # the first A001 is sent, not the second
    for document in FlowDocument.objects.filter(flow=FlowType.PAYSLIP):
        main = document.files.get(role=FileRole.MAIN)
        with main.file.open("rb") as handle:
            pages = len(PdfReader(io.BytesIO(handle.read())).pages)
        assert pages == (3 if document.payslip.hr_id == "A002" else 1)
    reasons = {p.pages: p.unmatched_reason for p in rows.values() if not p.document_id}
    assert reasons == {
        "5": "matricule inconnu de l'annuaire",
        "6": "l'agent n'a pas d'adresse de courriel dans l'annuaire",
        "8": "matricule déjà présent dans le lot",
    }
    batch.refresh_from_db()
    assert batch.state == BatchState.SENT and batch.done_chunks == [0, 1, 2]
    assert batch.archive_document is None  # no archive connector for Alpha's payslips


def test_it_sends_one_mail_per_matched_payslip_with_a_link_and_no_attachment(hr, mailoutbox):
    batch = upload(hr, payroll_pdf(PAGES))
    run_batch(batch)
    assert sorted(m.to[0] for m in mailoutbox) == ["ada@alpha.test", "emmy@alpha.test", "grace@alpha.test"]
    for message in mailoutbox:
        assert message.attachments == [] and LINK.search(message.body)
        assert message.subject == "Votre bulletin de paie de novembre 2026"
    states = set(FlowDocument.objects.filter(flow=FlowType.PAYSLIP).values_list("state", flat=True))
    assert states == {State.SEND_MAILSEC}
    # The chunks run again (a worker restarted, the tasks requeued): nothing created, nothing sent.
    run_batch(batch)
    assert len(mailoutbox) == 3
    assert Payslip.objects.filter(batch=batch).count() == 6 and SecureMail.objects.count() == 3


def test_a_page_without_matricule_first_is_listed_not_sent(hr, mailoutbox):
    batch = upload(hr, payroll_pdf([PayslipPage("", "Page de garde"), PayslipPage("A004", "Emmy")]))
    run_batch(batch)
    rows = list(Payslip.objects.filter(batch=batch).order_by("position"))
    assert [(r.pages, r.unmatched_reason) for r in rows] == [("1", "aucun matricule lu sur la page"), ("2", "")]
    assert [m.to for m in mailoutbox] == [["emmy@alpha.test"]]


def test_a_zip_of_per_agent_pdfs_is_matched_by_file_name(hr, mailoutbox):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("A001.pdf", payroll_pdf([PayslipPage("", "Ada")]))
        archive.writestr("paie/A004.pdf", payroll_pdf([PayslipPage("", "Emmy")]))
        archive.writestr("B777.pdf", payroll_pdf([PayslipPage("", "?")]))
        archive.writestr("A002.pdf", b"not a pdf")
        archive.writestr("lisez-moi.txt", b"ignored")
    batch = upload(hr, buffer.getvalue(), name="paie.zip")
    assert batch.is_zip and batch.pages == 4
    run_batch(batch)
    rows = {r.pages: r for r in Payslip.objects.filter(batch=batch)}
    assert rows["A002.pdf"].unmatched_reason == "le fichier n'est pas un PDF"
    assert rows["B777.pdf"].unmatched_reason == "matricule inconnu de l'annuaire"
    assert rows["paie/A004.pdf"].document_id and rows["A001.pdf"].document_id
    assert sorted(m.to[0] for m in mailoutbox) == ["ada@alpha.test", "emmy@alpha.test"]


def test_an_unreadable_file_or_no_connector_is_refused(hr, world):
    with pytest.raises(ValidationError):
        upload(hr, b"%PDF-1.4 truncated")
    services.binding_set(
        actor=world.staff, member=world.member_a, flow=FlowType.PAYSLIP, port=Port.MAILSEC, instance=None
    )
    with pytest.raises(ValidationError, match="courrier sécurisé"):
        upload(hr, payroll_pdf(PAGES))


def test_the_receipt_ends_the_payslip_and_no_download_ends_it_not_received(hr, client, mailoutbox):
    batch = upload(hr, payroll_pdf([PayslipPage("A001", "Ada"), PayslipPage("A004", "Emmy")]))
    run_batch(batch)
    ada = Payslip.objects.get(batch=batch, hr_id="A001").document
    emmy = Payslip.objects.get(batch=batch, hr_id="A004").document
    link = {m.to[0]: LINK.search(m.body).group(1) for m in mailoutbox}
    client.post(reverse("flows:mailsec_download", args=[link["ada@alpha.test"]]))
    client.post(reverse("flows:mailsec_download", args=[link["ada@alpha.test"]]))
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
    assert engine.document_advance(ada.pk, now=later) == State.TERMINE
    ada.refresh_from_db()
    assert ada.files.filter(name="accuse-de-reception.txt").count() == 1
    assert list(ada.log.values_list("action", flat=True)) == ["creation", "send-mailsec", "reception", "termine"]
    # Emmy never downloads: one reminder after 7 days, « non reçu » 7 days later.
    start = dt.datetime.now(dt.UTC)
    assert mailsec.secure_mail_remind(now=start + dt.timedelta(days=7, hours=1)).reminded == 1
    assert mailsec.secure_mail_remind(now=start + dt.timedelta(days=14, hours=2)).not_received == 1
    assert engine.document_advance(emmy.pk, now=start + dt.timedelta(days=15)) == State.NON_RECU
    assert len(mailoutbox) == 3  # two payslips, one reminder


# --- rights ---------------------------------------------------------------------------------------


def test_the_payroll_manager_sees_the_payslips_and_the_it_director_does_not(hr, client, mailoutbox):
    batch = upload(hr, payroll_pdf(PAGES))
    run_batch(batch)
    document = Payslip.objects.filter(batch=batch, document__isnull=False).first().document
    pages = [
        reverse("flows:payslip_batch", args=[batch.pk]),
        reverse("flows:payslip_batches", args=["alpha"]),
        reverse("flows:document", args=[document.pk]),
        reverse("flows:file", args=[document.pk, document.files.get().pk]),
    ]
    client.force_login(hr.agent_a)  # the payroll manager
    assert [client.get(url).status_code for url in pages] == [200, 200, 200, 200]
    page = client.get(pages[0]).content.decode()
    assert "matricule inconnu de l&#x27;annuaire" in page and "Z999" in page
    client.force_login(hr.manager_a)  # the IT director
    assert [client.get(url).status_code for url in pages] == [404, 404, 404, 404]
    listing = client.get(reverse("flows:documents", args=["alpha", FlowType.PAYSLIP])).content.decode()
    assert document.subject not in listing
    client.force_login(hr.staff)
    assert [client.get(url).status_code for url in pages] == [200, 200, 200, 200]


def test_another_members_payslip_is_404(hr, client, mailoutbox):
    batch = upload(hr, payroll_pdf(PAGES))
    run_batch(batch)
    document = Payslip.objects.filter(batch=batch, document__isnull=False).first().document
    rights.flow_manager_grant(actor=hr.staff, member=hr.member_b, flow=FlowType.PAYSLIP, user=hr.manager_b)
    client.force_login(hr.manager_b)  # Bravo's payroll manager
    assert client.get(reverse("flows:payslip_batch", args=[batch.pk])).status_code == 404
    assert client.get(reverse("flows:document", args=[document.pk])).status_code == 404
    assert client.get(reverse("flows:payslip_batches", args=["alpha"])).status_code == 404


def test_only_payroll_managers_and_operator_staff_upload(hr, world):
    with pytest.raises(PermissionDenied):
        upload(hr, payroll_pdf(PAGES), actor=world.manager_a)
    assert upload(hr, payroll_pdf(PAGES), actor=world.staff).created_by == world.staff
    with pytest.raises(Exception):  # noqa: B017, PT011 - 404: only operator staff grant the right
        rights.flow_manager_grant(
            actor=world.manager_a, member=world.member_a, flow=FlowType.PAYSLIP, user=world.manager_a
        )


def test_the_upload_page_queues_the_batch(hr, client, mailoutbox, django_capture_on_commit_callbacks):
    client.force_login(hr.agent_a)
    url = reverse("flows:payslip_batches", args=["alpha"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"period": "2026-11", "source": SimpleUploadedFile("paie.pdf", payroll_pdf(PAGES))})
    batch = PayslipBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("flows:payslip_batch", args=[batch.pk])
    batch.refresh_from_db()
    assert batch.state == BatchState.SENT and len(mailoutbox) == 3  # the test's tasks run at once


# --- archive --------------------------------------------------------------------------------------


def test_the_month_goes_to_the_archive_as_one_transfer(hr, world, mailoutbox, asalae_server):
    from mutualis.flows.formats.seda import NS
    from mutualis.flows.formats.xml import parse
    from mutualis.flows.localservers.asalae import DEMO_LOGIN, DEMO_PASSWORD

    archive = services.connector_save(
        actor=world.staff,
        member=world.member_a,
        kind="asalae",
        label="As@lae",
        values={
            "url": asalae_server.url,
            "login": DEMO_LOGIN,
            "password": DEMO_PASSWORD,
            "transferring_agency": "ALPHA",
        },
    )
    services.binding_set(
        actor=world.staff, member=world.member_a, flow=FlowType.PAYSLIP, port=Port.ARCHIVE, instance=archive
    )
    batch = upload(hr, payroll_pdf(PAGES))
    run_batch(batch)
    batch.refresh_from_db()
    document = batch.archive_document
    assert document is not None and document.steps == ["archive"]
    assert engine.document_advance(document.pk) == State.SEND_ARCHIVE
    transfer = parse(document.files.get(role=FileRole.ARCHIVE_TRANSFER).file.read(), what="transfer")
    units = transfer.findall(f".//{{{NS}}}DescriptiveMetadata/{{{NS}}}ArchiveUnit/{{{NS}}}ArchiveUnit")
    assert len(units) == 3  # one per payslip sent
    assert len(asalae_server.transfers) == 1
    document.refresh_from_db()
    asalae_server.accept(document.archive_remote_id)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
    assert engine.document_advance(document.pk, now=later) == State.TERMINE


def test_a_group_killed_before_its_commit_is_settled_later_without_mailing_again(hr, mailoutbox):
    batch = upload(hr, payroll_pdf(PAGES))
    run_batch(batch)
    assert len(mailoutbox) == 3
    # As if the worker died after the SMTP server took the mails, before the group's commit.
    now = dt.datetime.now(dt.UTC)
    documents = FlowDocument.objects.filter(flow=FlowType.PAYSLIP)
    documents.update(
        state=State.CREATION,
        mailsec_remote_id="",
        next_try_at=None,
        locked_by="dead",
        locked_until=now + engine.LOCK_TTL,
    )
    mailoutbox.clear()
    run_batch(batch)  # the chunk requeued: the group is still locked by the dead worker
    assert set(documents.values_list("state", flat=True)) == {State.CREATION} and mailoutbox == []
    later = now + engine.LOCK_TTL + dt.timedelta(minutes=1)
    for document in documents:
        assert engine.document_advance(document.pk, now=later) == State.SEND_MAILSEC
    assert mailoutbox == [] and SecureMail.objects.count() == 3


def test_a_payslip_the_mail_server_refuses_is_left_to_the_engine_to_retry(hr, mailoutbox, monkeypatch):
    from mutualis.flows.ports import RecoverableError

    calls = []

    def refuse(**kwargs):
        calls.append(kwargs["idempotency_key"])
        raise RecoverableError("le serveur de courriel ne répond pas")

    monkeypatch.setattr("mutualis.flows.adapters.mailsec.mailsec.secure_mail_send", refuse)
    batch = upload(hr, payroll_pdf([PayslipPage("A001", "Ada")]))
    run_batch(batch)
    document = Payslip.objects.get(batch=batch, hr_id="A001").document
    document.refresh_from_db()
    assert document.state == State.CREATION and document.tries == 1 and document.next_try_at is not None
    assert calls == [f"{document.pk}:mailsec", f"{document.pk}:mailsec"]  # the group's try, then the engine's
    assert document.log.filter(action="nouvel-essai").count() == 1


def test_the_command_names_and_removes_a_payroll_manager(world):
    from django.core.management import CommandError, call_command

    from mutualis.flows.rights import FlowManager, may_see_flow

    call_command("flows_payroll_manager", "--member", "alpha", "--user", "manager-a")
    assert FlowManager.objects.filter(member=world.member_a, flow=FlowType.PAYSLIP, user=world.manager_a).exists()
    call_command("flows_payroll_manager", "--member", "alpha", "--user", "manager-a", "--revoke")
    assert not may_see_flow(User.objects.get(pk=world.manager_a.pk), FlowType.PAYSLIP)
    with pytest.raises(CommandError, match="appartenir"):
        call_command("flows_payroll_manager", "--member", "bravo", "--user", "agent-a")
