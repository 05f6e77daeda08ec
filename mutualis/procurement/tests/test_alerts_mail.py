"""The renewal and end alert is a two-part mail from the one mail path: the contract's object,
typed by a user, is escaped in the HTML part, and each contract is linked on MUTUALIS_BASE_URL."""

import datetime as dt

import pytest
from django.core import mail

from mutualis.procurement import services

pytestmark = pytest.mark.django_db


def test_it_links_each_contract_on_the_base_url_and_escapes_its_object(
    world, make_contract, settings, django_capture_on_commit_callbacks
):
    settings.PROCUREMENT_NOTIFY_TO = ["marches@example.test"]
    settings.MUTUALIS_BASE_URL = "https://mutualis.example.fr"
    make_contract(
        code="2024-07",
        object='Hébergement <img src=x onerror="alert(1)"> **urgent**',
        starts_on=dt.date(2024, 3, 16),
        renewals_allowed=0,
    )

    with django_capture_on_commit_callbacks(execute=True):
        services.contract_alerts_send(today=dt.date(2025, 3, 1))

    (message,) = mail.outbox
    link = "https://mutualis.example.fr/marches/2024-07/"
    assert link in message.body
    ((html, mime),) = message.alternatives
    assert mime == "text/html"
    assert f'href="{link}"' in html
    assert "<img" not in html and "&lt;img src=x onerror=" in html
