"""Idempotency-Key on API ticket creation: a call sent again with the same key answers with the
first call's ticket instead of creating a second, even when both arrive at once (PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from typing import Any
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from mutualis.accounts.services import api_token_create
from mutualis.core.models import AuditEntry, IdempotencyKey
from mutualis.helpdesk import services
from mutualis.helpdesk.models import Ticket

URL = "/api/v1/tickets/"
BODY = {"ticket_type": "incident", "title": "Bordereau refusé", "description": "Le parapheur refuse le bordereau."}


def _post(client: Any, secret: str, body: dict[str, Any], key: str | None = None) -> Any:
    extra = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    if key is not None:
        extra["HTTP_IDEMPOTENCY_KEY"] = key
    return client.post(URL, json.dumps(body), content_type="application/json", **extra)


@pytest.fixture
def secret(world) -> str:
    return api_token_create(actor=world.agent_a, name="client")[1]


def test_the_same_key_again_answers_the_first_ticket_and_creates_nothing(client, world, secret):
    first = _post(client, secret, BODY, key="3f0c-reprise-1")
    audits = AuditEntry.objects.count()
    again = _post(client, secret, BODY, key="3f0c-reprise-1")

    assert first.status_code == again.status_code == 201
    assert again.json()["reference"] == first.json()["reference"]
    assert Ticket.objects.filter(title="Bordereau refusé").count() == 1
    assert AuditEntry.objects.count() == audits  # nothing written by the replay


def test_without_a_key_or_with_another_key_each_call_creates(client, world, secret):
    references = {
        _post(client, secret, BODY).json()["reference"],
        _post(client, secret, BODY).json()["reference"],
        _post(client, secret, BODY, key="a").json()["reference"],
        _post(client, secret, BODY, key="b").json()["reference"],
    }
    assert len(references) == 4


def test_a_key_belongs_to_its_account(client, world, secret):
    other = api_token_create(actor=world.manager_a, name="autre client")[1]
    one = _post(client, secret, BODY, key="partagee").json()["reference"]
    two = _post(client, other, BODY, key="partagee").json()["reference"]
    assert one != two


def test_the_same_key_with_another_body_is_refused_with_why(client, world, secret):
    _post(client, secret, BODY, key="k-1")
    refused = _post(client, secret, {**BODY, "title": "Autre chose"}, key="k-1")

    assert refused.status_code == 422
    assert "autre requête" in refused.json()["errors"]["Idempotency-Key"][0]
    assert not Ticket.objects.filter(title="Autre chose").exists()


@pytest.mark.parametrize("key", ["", "avec espace", "é", "x" * 201])
def test_a_malformed_key_is_refused_before_anything_is_written(client, world, secret, key):
    refused = _post(client, secret, BODY, key=key)
    assert refused.status_code == 422, refused.content
    assert "Idempotency-Key" in refused.json()["errors"]
    assert not Ticket.objects.exists()


def test_a_refused_creation_leaves_no_key_behind(client, world, secret):
    refused = _post(client, secret, {**BODY, "ticket_type": "inconnu"}, key="k-2")
    assert refused.status_code == 422
    assert not IdempotencyKey.objects.exists()
    assert _post(client, secret, BODY, key="k-2").status_code == 201  # the corrected call goes through


def test_a_key_is_forgotten_after_a_day(client, world, secret):
    first = _post(client, secret, BODY, key="k-3").json()["reference"]
    IdempotencyKey.objects.update(created_at=timezone.now() - dt.timedelta(hours=25))
    assert _post(client, secret, BODY, key="k-3").json()["reference"] != first

    IdempotencyKey.objects.update(created_at=timezone.now() - dt.timedelta(hours=25))
    call_command("idempotency_keys_purge")
    assert not IdempotencyKey.objects.exists()


def test_the_openapi_document_declares_the_header(client):
    operation = client.get("/api/v1/openapi.json").json()["paths"][URL]["post"]
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in operation["parameters"])


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (concurrent transactions)")
@pytest.mark.django_db(transaction=True)
def test_two_calls_with_one_key_at_once_make_one_ticket(world, secret):
    real = services.ticket_create
    both_in = threading.Barrier(2)

    def slow_create(**kwargs: Any) -> Ticket:
        ticket = real(**kwargs)
        time.sleep(0.3)  # both calls hold an uncommitted ticket when the keys are inserted
        return ticket

    answers: list[Any] = []

    def call() -> None:
        both_in.wait()
        try:
            answers.append(_post(Client(), secret, BODY, key="en-meme-temps"))
        finally:
            connection.close()

    with mock.patch.object(services, "ticket_create", side_effect=slow_create):
        threads = [threading.Thread(target=call) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)

    assert [a.status_code for a in answers] == [201, 201]
    assert answers[0].json()["reference"] == answers[1].json()["reference"]
    assert Ticket.objects.filter(title="Bordereau refusé").count() == 1
