"""The engine: the transition table, the runner's retries, lock and idempotency, against test doubles."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from mutualis.flows import engine, services
from mutualis.flows.enums import ERROR_STATES, FINAL_STATES, TRANSITIONS, Action, FlowType, Port, State
from mutualis.flows.models import ActionLog, FileRole, FlowDocument
from mutualis.flows.ports import Outcome, RecoverableError, RemoteState, UnrecoverableError
from mutualis.flows.tests.fakes import Remote, bind_fakes, installed

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def pdf(name: str = "acte.pdf", content: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def make_member(world) -> None:
    member = world.member_a
    member.department, member.arrondissement = "069", "1"
    member.save(update_fields=["department", "arrondissement"])


def upload_act(world, *, steps=("signature", "transmission", "archive"), number="2026_DE_001", actor=None):
    return services.document_create(
        actor=actor or world.staff,
        member=world.member_a,
        flow=FlowType.ACTE,
        data={
            "number": number,
            "subject": "Tarifs de la cantine",
            "nature": 1,
            "decision_date": dt.date(2026, 2, 20),
            "classification": "7.1",
        },
        steps=list(steps),
        main=pdf(),
        attachments=[pdf("annexe.pdf")],
    )


def run(document: FlowDocument, at: dt.datetime) -> str:
    return engine.document_advance(document.pk, now=at)


def later(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


@pytest.fixture
def remote() -> Iterator[Remote]:
    with installed() as fakes:
        yield fakes


@pytest.fixture
def act(world, remote: Remote) -> FlowDocument:
    make_member(world)
    bind_fakes(world.member_a)
    return upload_act(world)


DONE = Outcome(RemoteState.DONE, message="ok")


def test_it_takes_an_act_through_signature_prefecture_and_archive(act, remote: Remote):
    remote.answer(Port.SIGNATURE, DONE.__class__(RemoteState.DONE, proofs={"signe.pdf": PDF, "bordereau.pdf": PDF}))
    remote.answer(
        Port.TRANSMISSION,
        Outcome(RemoteState.DONE, remote_status="4", proofs={"aracte.xml": b"<ARActe/>", "tampon.pdf": PDF}),
    )
    remote.answer(Port.ARCHIVE, Outcome(RemoteState.DONE, proofs={"reply.xml": b"<ArchiveTransferReply/>"}))

    assert run(act, T0) == State.SEND_IPARAPHEUR
    assert run(act, later(0.5)) == State.SEND_IPARAPHEUR  # the next poll is not due yet: nothing called
    assert [c[1] for c in remote.calls] == ["submit"]
    # Signed: the transmission starts in the same run.
    assert run(act, later(20)) == State.SEND_TDT
    assert run(act, later(40)) == State.SEND_ARCHIVE
    assert run(act, later(80)) == State.TERMINE

    act.refresh_from_db()
    assert (act.signature_remote_id, act.transmission_remote_id, act.archive_remote_id) != ("", "", "")
    roles = sorted(act.files.values_list("role", flat=True))
    assert roles == sorted(
        [
            FileRole.MAIN,
            FileRole.ATTACHMENT,
            FileRole.SIGNED,
            FileRole.BORDEREAU,
            FileRole.ARACTE,
            FileRole.STAMPED,
            FileRole.ARCHIVE_TRANSFER,
            FileRole.ARCHIVE_REPLY,
        ]
    )
    actions = list(act.log.values_list("action", flat=True))
    assert actions == [
        "creation",
        "send-iparapheur",
        "recu-iparapheur",
        "send-tdt",
        "acquiter-tdt",
        "send-archive",
        "accepter-sae",
        "termine",
    ]
    assert b"ArchiveTransfer" in remote.archived[0]
    # The transmission was sent the signed PDF and the member's connectors' decrypted secrets.
    assert remote.configs[0]["password"] == "s3cret-pass"


def test_it_skips_the_steps_a_document_did_not_choose(world, remote: Remote):
    make_member(world)
    bind_fakes(world.member_a)
    document = upload_act(world, steps=["transmission"])
    remote.answer(Port.TRANSMISSION, DONE)
    assert run(document, T0) == State.SEND_TDT
    assert run(document, later(10)) == State.TERMINE
    assert {c[0] for c in remote.calls} == {Port.TRANSMISSION}


class _Internal:
    """An internal port's adapter (what the publication app registers), here a test double."""

    skip = ""

    def __init__(self, calls: list[str]) -> None:
        self.calls = calls

    def skip_reason(self, document: FlowDocument) -> str:
        return self.skip

    def submit(self, document: FlowDocument, main, *, idempotency_key: str) -> str:
        self.calls.append(f"submit {idempotency_key} {main.name}")
        return "42"

    def poll(self, remote_id: str) -> Outcome:
        self.calls.append(f"poll {remote_id}")
        return Outcome(RemoteState.DONE, message="en ligne", proofs={"accuse.json": b"{}"})


@pytest.fixture
def internal() -> Iterator[_Internal]:
    saved = dict(engine._INTERNAL)
    adapter = _Internal([])
    engine.register_internal(Port.PUBLICATION, lambda: adapter)
    try:
        yield adapter
    finally:
        engine._INTERNAL.clear()
        engine._INTERNAL.update(saved)


def test_it_runs_an_internal_port_without_any_binding_and_polls_it_at_once(world, internal: _Internal):
    make_member(world)  # no connector, no binding at all
    document = upload_act(world, steps=["publication"])

    assert run(document, T0) == State.TERMINE

    assert internal.calls == [f"submit {document.pk}:publication acte.pdf", "poll 42"]
    document.refresh_from_db()
    assert document.publication_remote_id == "42"
    assert list(document.log.values_list("action", flat=True)) == [
        Action.CREATION,
        State.SEND_PUBLICATION,
        State.PUBLICATION_OK,
        Action.TERMINE,
    ]
    assert document.files.filter(role=FileRole.PROOF, step="publication").count() == 1


def test_it_passes_an_internal_step_that_does_not_apply_and_says_why(world, internal: _Internal, remote: Remote):
    make_member(world)
    bind_fakes(world.member_a)
    internal.skip = "nature non publiée"
    document = upload_act(world, steps=["transmission", "publication", "archive"])
    remote.answer(Port.TRANSMISSION, DONE)
    remote.answer(Port.ARCHIVE, DONE)

    run(document, T0)
    run(document, later(10))
    assert run(document, later(60)) == State.TERMINE

    assert internal.calls == []
    document.refresh_from_db()
    assert document.steps == ["transmission", "archive"]
    skipped = document.log.get(action=Action.SKIPPED)
    assert skipped.message == "publication : nature non publiée"


def test_a_business_rejection_is_a_final_state_not_an_error(act, remote: Remote):
    remote.answer(Port.SIGNATURE, Outcome(RemoteState.REJECTED, message="Le maire a refusé"))
    run(act, T0)
    assert run(act, later(20)) == State.REJET_IPARAPHEUR
    act.refresh_from_db()
    assert act.state in FINAL_STATES and act.error_message == ""
    assert act.log.last().message == "Le maire a refusé"


def test_it_retries_a_recoverable_error_with_backoff_then_stops_with_too_many_tries(act, remote: Remote):
    policy = engine.policy_for("fake-signature")
    remote.fail(Port.SIGNATURE, *(RecoverableError("Service indisponible (HTTP 500).") for _ in range(20)))
    at = T0
    waits = []
    for _try in range(policy.max_tries - 1):
        assert run(act, at) == State.CREATION
        act.refresh_from_db()
        waits.append(act.next_try_at - at)
        assert run(act, at + waits[-1] - dt.timedelta(seconds=1)) == State.CREATION  # not due: no call
        at = act.next_try_at
    assert waits == [policy.delay(n) for n in range(1, policy.max_tries)]
    assert waits[1] == 2 * waits[0]
    assert run(act, at) == State.ERREUR_IPARAPHEUR
    act.refresh_from_db()
    assert act.error_message.startswith("Trop d'essais (6)")
    assert len([c for c in remote.calls if c[1] == "submit"]) == policy.max_tries
    assert act.log.filter(action=Action.NOUVEL_ESSAI).count() == policy.max_tries - 1
    # Every try carried the same idempotency key.
    assert {c[2] for c in remote.calls} == {f"{act.pk}:signature"}
    # Not picked up by the sweep any more.
    assert act.pk not in engine.due_documents(now=at + dt.timedelta(days=1))


def test_it_resumes_when_the_service_comes_back(act, remote: Remote):
    remote.fail(Port.SIGNATURE, RecoverableError("HTTP 500"), RecoverableError("HTTP 503"))
    run(act, T0)
    act.refresh_from_db()
    run(act, act.next_try_at)
    act.refresh_from_db()
    assert run(act, act.next_try_at) == State.SEND_IPARAPHEUR
    act.refresh_from_db()
    assert act.tries == 0


def test_an_unrecoverable_error_stops_at_once_with_the_reason_and_a_retry_resumes(act, remote: Remote):
    remote.fail(Port.TRANSMISSION, UnrecoverableError("Le certificat est refusé."))
    remote.answer(Port.SIGNATURE, DONE)
    run(act, T0)
    assert run(act, later(20)) == State.ERREUR_TDT
    act.refresh_from_db()
    assert act.error_message == "Le certificat est refusé."
    assert act.resume_state == State.RECU_IPARAPHEUR
    assert run(act, later(999)) == State.ERREUR_TDT  # stays stopped: nothing retried by itself

    services.document_retry(actor=act.created_by, document=act, now=later(1000))
    act.refresh_from_db()
    assert act.state == State.RECU_IPARAPHEUR and act.error_message == ""
    assert run(act, later(1001)) == State.SEND_TDT
    assert act.log.filter(action=Action.REPRISE).count() == 1


def test_a_failed_poll_keeps_the_remote_id_and_polls_the_same_object_after_a_retry(act, remote: Remote):
    run(act, T0)
    remote.fail(Port.SIGNATURE, UnrecoverableError("Réponse illisible."))
    assert run(act, later(20)) == State.ERREUR_IPARAPHEUR
    act.refresh_from_db()
    services.document_retry(actor=act.created_by, document=act, now=later(21))
    remote.answer(Port.SIGNATURE, DONE)
    run(act, later(22))
    submits = [c for c in remote.calls if c[1] == "submit"]
    polls = {c[2] for c in remote.calls if c[0] == Port.SIGNATURE and c[1] == "poll"}
    assert len(submits) == 2  # the signature once, then the transmission
    assert polls == {act.signature_remote_id}


def test_an_invalid_transition_is_refused_with_a_message(act):
    with pytest.raises(engine.InvalidTransition, match="n'est pas possible depuis l'état « créé »"):
        engine.check_transition(act, Action.ACQUITER_TDT)
    with pytest.raises(engine.InvalidTransition, match="seul un document en erreur"):
        services.document_retry(actor=act.created_by, document=act)


def test_the_table_has_no_way_out_of_a_final_state():
    assert not [t for t in TRANSITIONS if t.source in FINAL_STATES]
    # Every error state can be cancelled by a person.
    for flow in FlowType.values:
        sources = {t.source for t in TRANSITIONS if t.flow == flow and t.action == Action.ANNULATION}
        assert {s for s in ERROR_STATES if any(t.target == s for t in TRANSITIONS if t.flow == flow)} <= sources


def test_two_runners_make_one_remote_call(act, remote: Remote):
    seen = []
    # While the first runner is inside submit, a second one starts on the same document.
    remote.during_submit = lambda: seen.append(engine.document_advance(act.pk, now=T0))
    run(act, T0)
    assert seen == [State.CREATION]  # the second runner found the lock and did nothing
    assert len([c for c in remote.calls if c[1] == "submit"]) == 1
    act.refresh_from_db()
    assert act.locked_by == "" and act.state == State.SEND_IPARAPHEUR


def test_a_lock_left_by_a_killed_runner_expires(act, remote: Remote):
    assert engine.claim(act.pk, now=T0) is not None  # a runner that never released
    assert run(act, T0 + dt.timedelta(minutes=5)) == State.CREATION
    assert remote.calls == []
    assert run(act, T0 + engine.LOCK_TTL + dt.timedelta(seconds=1)) == State.SEND_IPARAPHEUR


def test_a_submission_retried_after_a_lost_answer_reuses_the_remote_object(act, remote: Remote):
    # The remote side created the folder but the answer was lost (timeout): the retry carries the
    # same key, and the service answers the same id instead of creating a second folder.
    original = remote.create

    def lost_answer(port: str, key: str) -> str:
        original(port, key)
        raise RecoverableError("délai dépassé")

    remote.create = lost_answer  # type: ignore[method-assign]
    run(act, T0)
    remote.create = original  # type: ignore[method-assign]
    act.refresh_from_db()
    run(act, act.next_try_at)
    act.refresh_from_db()
    assert len(remote.created) == 1
    assert act.signature_remote_id == next(iter(remote.created.values()))


def test_a_document_to_sign_goes_to_signature_then_archive(world, remote: Remote):
    bind_fakes(world.member_a)
    document = services.document_create(
        actor=world.manager_a,
        member=world.member_a,
        flow=FlowType.DOCUMENT_A_SIGNER,
        data={"subject": "Convention de mise à disposition"},
        steps=["signature", "archive"],
        main=pdf("convention.pdf"),
    )
    remote.answer(Port.SIGNATURE, Outcome(RemoteState.DONE, proofs={"convention-signee.pdf": PDF}))
    remote.answer(Port.ARCHIVE, DONE)
    run(document, T0)
    run(document, later(20))
    assert run(document, later(60)) == State.TERMINE
    assert list(document.log.values_list("action", flat=True))[-1] == "termine"


def test_a_missing_binding_stops_with_a_clear_reason(world, remote: Remote):
    make_member(world)
    document = upload_act(world, steps=["transmission"])
    assert run(document, T0) == State.ERREUR_TDT
    document.refresh_from_db()
    assert "Aucun connecteur de transmission" in document.error_message


def test_cancel_withdraws_a_pending_signature(act, remote: Remote):
    run(act, T0)
    services.document_cancel(actor=act.created_by, document=act, now=later(1))
    act.refresh_from_db()
    assert act.state == State.ANNULATION
    assert (Port.SIGNATURE, "cancel", act.signature_remote_id) in remote.calls


def test_the_archive_cannot_be_withdrawn(world, remote: Remote):
    make_member(world)
    bind_fakes(world.member_a)
    document = upload_act(world, steps=["archive"])
    run(document, T0)
    with pytest.raises(engine.InvalidTransition):
        services.document_cancel(actor=world.staff, document=document, now=later(1))


def test_the_log_is_append_only(act):
    entry = ActionLog.objects.filter(document=act).first()
    entry.message = "réécrit"
    with pytest.raises(ValueError):
        entry.save()


def test_the_sweep_picks_due_documents_only(act, remote: Remote):
    now = timezone.now()
    assert act.pk in engine.due_documents(now=now)
    run(act, now)
    assert act.pk not in engine.due_documents(now=now)
    assert act.pk in engine.due_documents(now=now + dt.timedelta(hours=1))


def test_an_upload_queues_its_first_run_after_the_commit(world, remote: Remote, django_capture_on_commit_callbacks):
    make_member(world)
    bind_fakes(world.member_a)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        document = upload_act(world)
    assert len(callbacks) == 1  # the immediate task backend ran the task at the commit
    document.refresh_from_db()
    assert document.state == State.SEND_IPARAPHEUR


def test_the_run_command_advances_what_is_due(world, remote: Remote):
    from io import StringIO

    from django.core.management import call_command

    make_member(world)
    bind_fakes(world.member_a)
    document = upload_act(world)
    out = StringIO()
    call_command("flows_run", stdout=out)
    assert out.getvalue().strip() == "1 document(s) : send-iparapheur 1"
    document.refresh_from_db()
    assert document.state == State.SEND_IPARAPHEUR
    call_command("flows_run", stdout=out)
    assert "0 document(s) : rien à faire" in out.getvalue()


def test_the_sweep_is_a_scheduled_job():
    from mutualis.core import scheduler

    job = scheduler.job_get("flows_run")
    assert job is not None and job.command == "flows_run"


@pytest.mark.django_db(transaction=True)
def test_two_runners_in_two_threads_make_one_remote_call(world, remote: Remote, monkeypatch):
    import threading
    import time

    from django.db import connection, connections

    if connection.vendor == "sqlite":
        pytest.skip("the test database is in memory: threads cannot share it (PostgreSQL runs this test)")
    make_member(world)
    bind_fakes(world.member_a)
    monkeypatch.setattr(services, "enqueue", lambda document_id: None)  # no run at the commit: the threads run it
    document = upload_act(world)
    remote.during_submit = lambda: time.sleep(0.5)  # the first runner is slow inside the call
    start = threading.Barrier(2)
    states = []

    def runner() -> None:
        start.wait()
        try:
            states.append(engine.document_advance(document.pk, now=T0))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=runner) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len([c for c in remote.calls if c[1] == "submit"]) == 1
    assert sorted(states) == [State.CREATION, State.SEND_IPARAPHEUR]


def test_a_connector_polls_at_its_own_pace_when_it_sets_one(act, remote: Remote):
    from mutualis.flows.adapters.base import POLL_SECONDS
    from mutualis.flows.models import ConnectorInstance

    ConnectorInstance.objects.filter(member=act.member).update(config={"url": "http://127.0.0.1:9/", POLL_SECONDS: "5"})
    assert run(act, T0) == State.SEND_IPARAPHEUR
    act.refresh_from_db()
    assert act.next_try_at - T0 == dt.timedelta(seconds=5)  # not the signature service's 15 minutes
    remote.answer(Port.SIGNATURE, Outcome(RemoteState.DONE, proofs={"signe.pdf": PDF, "bordereau.pdf": PDF}))
    assert run(act, T0 + dt.timedelta(seconds=6)) == State.SEND_TDT


def test_a_connector_without_its_own_pace_polls_at_its_kinds(act, remote: Remote):
    assert run(act, T0) == State.SEND_IPARAPHEUR
    act.refresh_from_db()
    assert act.next_try_at - T0 >= dt.timedelta(minutes=1)


def test_a_poll_pace_that_is_not_a_number_of_seconds_is_refused(world, remote: Remote):
    from django.core.exceptions import ValidationError

    for wrong in ("vite", "2", "-5", "100000"):
        with pytest.raises(ValidationError, match="secondes"):
            services.connector_save(
                actor=world.staff,
                member=world.member_a,
                kind="fake-signature",
                label="Parapheur",
                values={"url": "https://p.example", "password": "x", "poll_seconds": wrong},
            )
