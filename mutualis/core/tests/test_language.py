import pytest
from django.urls import reverse


@pytest.fixture
def staff_client(client, world):
    client.force_login(world.staff)
    return client


def test_it_shows_french_whatever_the_browser_asks(staff_client):
    response = staff_client.get(reverse("core:home"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert '<html lang="fr">' in response.content.decode()


def test_it_shows_english_once_chosen(staff_client):
    staff_client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    response = staff_client.get(reverse("core:home"))
    assert '<html lang="en">' in response.content.decode()


def test_it_ignores_an_unknown_language_cookie(staff_client, settings):
    staff_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"
    response = staff_client.get(reverse("core:home"))
    assert '<html lang="fr">' in response.content.decode()
