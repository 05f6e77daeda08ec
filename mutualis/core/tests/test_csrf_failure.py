"""A failed CSRF check: a French page in the site's layout (never Django's English page that talks
about DEBUG), the API's error shape under /api/."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_it_shows_a_french_page_in_the_sites_layout_on_a_failed_csrf_check(world):
    client = Client(enforce_csrf_checks=True)

    response = client.post("/comptes/connexion/", {"username": "staff", "password": "x"})

    page = response.content.decode()
    assert response.status_code == 403
    assert "Formulaire expiré" in page and 'id="contenu"' in page
    assert "DEBUG" not in page and "CSRF verification failed" not in page
    assert "Content-Security-Policy" in response


def test_it_answers_a_failed_csrf_check_under_the_api_in_the_error_shape(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.staff)

    response = client.post("/api/v1/tickets/", "{}", content_type="application/json")

    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/json")
    assert "CSRF" in response.json()["detail"]
    assert response.json()["errors"]["csrf"]
