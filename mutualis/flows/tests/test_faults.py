"""A remote service that fails, then comes back: the engine's retries against the real local servers.

No test double: the adapters talk to the local S²low (HTTPS with a client certificate) and
i-Parapheur over loopback, switched down with `outage()` (500s, or answers slower than the
connector's timeout) and back with `restore()`; the runs are `engine.document_advance` at a moving
`now`, so the backoff is read from `next_try_at` without waiting for it.
"""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from mutualis.flows import engine, services
from mutualis.flows.adapters.base import DEFAULT_TIMEOUT, TIMEOUT_SECONDS
from mutualis.flows.enums import Action, FlowType, Port, State
from mutualis.flows.models import ConnectorInstance
from mutualis.flows.tests.test_engine import make_member, upload_act

CREATE = "/modules/actes/actes_transac_create.php"
MINUTE = dt.timedelta(minutes=1)


def connect_s2low(world, server, certificates, **extra: str) -> ConnectorInstance:
    instance = services.connector_save(
        actor=world.staff,
        member=world.member_a,
        kind="s2low",
        label="S²low",
        values={
            "url": server.url,
            "certificate": certificates.client_cert_pem,
            "private_key": certificates.client_key_pem,
            "server_ca": certificates.ca_pem,
            **extra,
        },
    )
    services.binding_set(
        actor=world.staff, member=world.member_a, flow=FlowType.ACTE, port=Port.TRANSMISSION, instance=instance
    )
    return instance


def connect_iparapheur(world, server) -> None:
    instance = services.connector_save(
        actor=world.staff,
        member=world.member_a,
        kind="iparapheur",
        label="i-Parapheur",
        values={
            "url": server.url,
            "realm": "api",
            "client_id": "ipcore-web",
            "username": "mutualis",
            "password": "secret",
            "tenant_id": "tenant-1",
            "desk_id": "desk-1",
            "type": "ACTES",
            "subtype": "Délibération",
        },
    )
    services.binding_set(
        actor=world.staff, member=world.member_a, flow=FlowType.ACTE, port=Port.SIGNATURE, instance=instance
    )


def creates(server) -> int:
    """Act creations S²low handled (an outage's refused calls are not handled)."""
    return sum(1 for method, path in server.requests if (method, path) == ("POST", CREATE))


def retries(document) -> list[tuple[dt.datetime, str]]:
    return list(document.log.filter(action=Action.NOUVEL_ESSAI).order_by("at", "pk").values_list("at", "message"))


def test_it_backs_off_stops_on_too_many_tries_and_resumes_on_relancer_with_one_act(
    client, world, s2low_server, s2low_certificates, django_capture_on_commit_callbacks
):
    make_member(world)
    connect_s2low(world, s2low_server, s2low_certificates)
    act = upload_act(world, steps=["transmission"])
    policy = engine.policy_for("s2low")
    assert policy.max_tries == 8
    s2low_server.outage(status=500)

    # Back in time so that the runs, three hours of backoff, end before the resumed run's real now.
    when = timezone.now() - dt.timedelta(hours=4)
    started = when
    for tries in range(1, policy.max_tries):
        assert engine.document_advance(act.pk, now=when) == State.CREATION
        act.refresh_from_db()
        assert act.tries == tries and "S²low est indisponible (HTTP 500)" in act.last_message
        assert act.next_try_at - when == policy.delay(tries)
        refused = s2low_server.outage_calls
        # Not due yet: a run a second early, or the sweep, calls nothing.
        assert engine.document_advance(act.pk, now=act.next_try_at - dt.timedelta(seconds=1)) == State.CREATION
        assert act.pk not in engine.due_documents(now=act.next_try_at - dt.timedelta(seconds=1))
        assert s2low_server.outage_calls == refused
        when = act.next_try_at

    # The log's « nouvel essai » entries are as far apart as the backoff says.
    tried_at = [at for at, _message in retries(act)]
    assert tried_at[0] == started
    gaps = [b - a for a, b in zip(tried_at, [*tried_at[1:], act.next_try_at], strict=True)]
    assert gaps == [policy.delay(n) for n in range(1, policy.max_tries)]
    # The documented S²low backoff: 2 minutes, doubled each time, capped at an hour.
    assert [gap // MINUTE for gap in gaps] == [2, 4, 8, 16, 32, 60, 60]
    assert [message for _at, message in retries(act)][0].startswith("Essai 1 sur 8 échoué : S²low est indisponible")

    # The eighth failure: the step's error state, stopped, the reason said.
    assert engine.document_advance(act.pk, now=when) == State.ERREUR_TDT
    act.refresh_from_db()
    assert act.error_message == "Trop d'essais (8) : S²low est indisponible (HTTP 500)."
    assert act.resume_state == State.CREATION and act.next_try_at is None
    assert list(act.log.values_list("action", flat=True)) == [
        Action.CREATION,
        *[Action.NOUVEL_ESSAI] * (policy.max_tries - 1),
        Action.ERREUR_TDT,
    ]
    assert act.pk not in engine.due_documents(now=when + dt.timedelta(days=30))  # nothing retries it by itself
    client.force_login(world.staff)
    page = client.get(reverse("flows:document", args=[act.pk])).content.decode()
    assert "Trop d&#x27;essais (8) : S²low est indisponible (HTTP 500)." in page
    assert creates(s2low_server) == 0 and s2low_server.acts() == []

    # S²low is back; a person presses « Relancer »: the queued run sends the act at once.
    s2low_server.restore()
    with django_capture_on_commit_callbacks(execute=True):
        services.document_retry(actor=world.staff, document=act, now=when + MINUTE)
    act.refresh_from_db()
    assert act.state == State.SEND_TDT and act.tries == 0 and act.error_message == ""
    s2low_server.acknowledge(int(act.transmission_remote_id))
    assert engine.document_advance(act.pk, now=act.next_try_at) == State.TERMINE
    assert act.log.filter(action=Action.ACQUITER_TDT).count() == 1
    assert act.log.filter(action=Action.REPRISE, actor=world.staff).count() == 1
    assert creates(s2low_server) == 1 and len(s2low_server.acts()) == 1


def test_a_service_back_before_the_tries_are_spent_is_resumed_by_the_next_due_run(
    world, s2low_server, s2low_certificates
):
    make_member(world)
    connect_s2low(world, s2low_server, s2low_certificates)
    act = upload_act(world, steps=["transmission"])
    policy = engine.policy_for("s2low")
    s2low_server.outage(status=503)
    when = timezone.now()
    for _run in range(3):
        engine.document_advance(act.pk, now=when)
        act.refresh_from_db()
        when = act.next_try_at
    assert act.tries == 3 and act.state == State.CREATION

    s2low_server.restore()
    # The backoff holds even though S²low is back: the document waits for its next try.
    assert act.pk not in engine.due_documents(now=when - dt.timedelta(seconds=1))
    assert engine.document_advance(act.pk, now=when - dt.timedelta(seconds=1)) == State.CREATION
    assert s2low_server.requests == []
    # The sweep picks it up when due, and nobody acts.
    assert engine.due_documents(now=when) == [act.pk]
    assert engine.document_advance(act.pk, now=when) == State.SEND_TDT
    act.refresh_from_db()
    assert act.tries == 0 and act.last_message == "" and act.next_try_at == when + policy.poll_every
    assert not act.log.filter(action=Action.REPRISE).exists()
    assert list(act.log.values_list("action", flat=True)) == [
        Action.CREATION,
        Action.NOUVEL_ESSAI,
        Action.NOUVEL_ESSAI,
        Action.NOUVEL_ESSAI,
        Action.SEND_TDT,
    ]
    s2low_server.acknowledge(int(act.transmission_remote_id))
    assert engine.document_advance(act.pk, now=act.next_try_at) == State.TERMINE
    assert creates(s2low_server) == 1 and len(s2low_server.acts()) == 1


def test_a_signature_service_down_while_the_folder_waits_is_polled_again_on_the_same_folder(world, iparapheur_server):
    make_member(world)
    connect_iparapheur(world, iparapheur_server)
    act = upload_act(world, steps=["signature"])
    policy = engine.policy_for("iparapheur")
    when = timezone.now()
    assert engine.document_advance(act.pk, now=when) == State.SEND_IPARAPHEUR
    act.refresh_from_db()
    folder = act.signature_remote_id
    iparapheur_server.sign(folder)

    iparapheur_server.outage(status=502)
    when = act.next_try_at
    for tries in (1, 2):
        assert engine.document_advance(act.pk, now=when) == State.SEND_IPARAPHEUR
        act.refresh_from_db()
        assert act.tries == tries and "HTTP 502" in act.last_message
        assert act.next_try_at - when == policy.delay(tries)
        when = act.next_try_at
    assert set(act.log.filter(action=Action.NOUVEL_ESSAI).values_list("remote_id", flat=True)) == {folder}

    iparapheur_server.restore()
    assert engine.document_advance(act.pk, now=when) == State.TERMINE
    act.refresh_from_db()
    assert act.log.filter(action=Action.RECU_IPARAPHEUR, remote_id=folder).count() == 1
    assert list(iparapheur_server.folders) == [folder]


def test_a_service_slower_than_the_connectors_timeout_is_retried_like_a_500_and_creates_one_act(
    world, s2low_server, s2low_certificates
):
    make_member(world)
    connect_s2low(world, s2low_server, s2low_certificates, **{TIMEOUT_SECONDS: "1"})
    act = upload_act(world, steps=["transmission"])
    policy = engine.policy_for("s2low")

    # Every call answers after 2.5 s: the first one (the lookup by number) times out.
    s2low_server.outage(status=None, delay=2.5)
    when = timezone.now()
    assert engine.document_advance(act.pk, now=when) == State.CREATION
    act.refresh_from_db()
    assert act.tries == 1 and act.last_message == "S²low n'a pas répondu dans les 1 s."
    assert act.next_try_at - when == policy.delay(1)

    # Then only the creation is slow: S²low creates the act, but its answer comes after the client
    # gave up. The next try must find that act instead of posting a second one.
    s2low_server.outage(status=None, delay=2.5, paths=(CREATE,))
    when = act.next_try_at
    assert engine.document_advance(act.pk, now=when) == State.CREATION
    act.refresh_from_db()
    assert act.tries == 2 and "n'a pas répondu dans les 1 s" in act.last_message
    assert act.next_try_at - when == policy.delay(2)
    for _wait in range(50):  # the server finishes the call the client gave up on
        if s2low_server.acts():
            break
        time.sleep(0.1)
    created = s2low_server.acts()
    assert len(created) == 1

    s2low_server.restore()
    assert engine.document_advance(act.pk, now=act.next_try_at) == State.SEND_TDT
    act.refresh_from_db()
    assert act.transmission_remote_id == str(created[0].id)
    assert creates(s2low_server) == 1 and len(s2low_server.acts()) == 1


def test_the_timeout_setting_reaches_the_adapter_and_is_checked(world, s2low_server, s2low_certificates):
    make_member(world)
    instance = connect_s2low(world, s2low_server, s2low_certificates)
    act = upload_act(world, steps=["transmission"])
    adapter, _kind = engine.connector_for(act, Port.TRANSMISSION)
    assert adapter.timeout == DEFAULT_TIMEOUT == 30
    services.connector_save(
        actor=world.staff,
        member=world.member_a,
        kind="s2low",
        label="S²low",
        values={"url": s2low_server.url, TIMEOUT_SECONDS: "7"},
        instance=instance,
    )
    adapter, _kind = engine.connector_for(act, Port.TRANSMISSION)
    assert adapter.timeout == 7
    for wrong in ("0", "601", "2.5", "vite"):
        with pytest.raises(ValidationError) as error:
            services.connector_save(
                actor=world.staff,
                member=world.member_a,
                kind="s2low",
                label="S²low",
                values={"url": s2low_server.url, TIMEOUT_SECONDS: wrong},
                instance=instance,
            )
        assert error.value.message_dict == {
            TIMEOUT_SECONDS: ["le délai de réponse est un nombre de secondes entre 1 et 600"]
        }


def test_a_person_can_take_the_local_s2low_down_and_back_from_a_browser(s2low_certificates):
    from mutualis.flows.adapters.s2low import S2lowTransmission
    from mutualis.flows.localservers.s2low import serve
    from mutualis.flows.ports import RecoverableError

    server, thread, url = serve(auto_after=None)
    try:
        adapter = S2lowTransmission.from_config(
            {
                "url": url,
                "certificate": s2low_certificates.client_cert_pem,
                "private_key": s2low_certificates.client_key_pem,
            },
            timeout=1,
        )
        import requests

        assert requests.get(f"{url}/_local/outage?status=503", timeout=5).text == "OK\n503\n"
        with pytest.raises(RecoverableError, match="HTTP 503"):
            adapter.check()
        requests.get(f"{url}/_local/outage?status=slow&delay=3", timeout=5)
        with pytest.raises(RecoverableError, match="n'a pas répondu dans les 1 s"):
            adapter.check()
        assert requests.get(f"{url}/_local/restore", timeout=5).text == "OK\n"
        assert adapter.check().startswith("Connexion à S²low réussie")
        assert server.outage_calls == 2
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
