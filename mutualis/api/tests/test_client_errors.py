"""Client mistakes are client errors: a NUL character, a page that is not a number or past the
end, an id that is not one, a bad JSON body answer 400/404/422 in the API's error shape (never a
500, never an HTML page under /api/), and the OpenAPI document declares every status the API
answers."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from mutualis.api.api import api


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    schema = api.get_openapi_schema()
    return [
        (path, method.upper(), operation)
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    ]


LISTS = sorted(path for path, method, _op in _operations() if method == "GET" and "{" not in path)
BAD_QUERIES = ["page=999999999999", "page=abc", "page=0", "page=99999999999999999999999", "q=a%00b", "x%00=1"]


def _assert_client_error(response: Any, *statuses: int) -> None:
    assert response.status_code in statuses, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json")
    assert isinstance(response.json()["detail"], str)


@pytest.fixture
def staff_client(client, world):
    client.raise_request_exception = False  # a crash must show as the 500 a user would get
    client.force_login(world.staff)
    return client


def test_it_covers_every_list_endpoint():
    assert {"/api/v1/collectivities/", "/api/v1/applications/", "/api/v1/subscriptions/", "/api/v1/tickets/"} <= set(
        LISTS
    )


@pytest.mark.parametrize("query", BAD_QUERIES)
@pytest.mark.parametrize("path", LISTS)
def test_it_answers_a_bad_query_on_a_list_with_a_client_error(staff_client, path, query):
    response = staff_client.get(f"{path}?{query}")

    if path == "/api/v1/forms/" and query.startswith("page="):  # not paginated: the page is ignored
        assert response.status_code == 200
        return
    _assert_client_error(response, 400, 404, 422)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/collectivities/?kind=%00",
        "/api/v1/subscriptions/?status=%00",
        "/api/v1/subscriptions/?collectivity=%00",
        "/api/v1/tickets/?collectivity=%00",
        "/api/v1/tickets/?q=%00",
        "/api/v1/applications/?q=%00",
    ],
)
def test_it_refuses_a_nul_character_in_a_filter_with_400(staff_client, path):
    _assert_client_error(staff_client.get(path), 400)


def test_it_answers_a_page_past_the_end_with_404_and_the_last_page_with_200(staff_client):
    count = staff_client.get("/api/v1/collectivities/").json()["count"]

    assert staff_client.get("/api/v1/collectivities/?page=1&page_size=1").status_code == 200
    assert staff_client.get(f"/api/v1/collectivities/?page={count}&page_size=1").status_code == 200
    _assert_client_error(staff_client.get(f"/api/v1/collectivities/?page={count + 1}&page_size=1"), 404)


def test_it_answers_a_page_that_is_not_a_number_in_the_error_shape(staff_client):
    response = staff_client.get("/api/v1/applications/?page=abc")

    assert response.status_code == 422
    assert response.json()["errors"] == {"page": ["nombre entier attendu"]}


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/subscriptions/abc",
        "/api/v1/subscriptions/99999999999999999999",
        "/api/v1/subscriptions/-1",
        "/api/v1/collectivities/inconnue",
        "/api/v1/tickets/abc",
        "/api/v1/forms/abc",
        "/api/v1/nowhere",
    ],
)
def test_it_answers_an_unknown_or_non_numeric_id_with_a_json_404(staff_client, path):
    _assert_client_error(staff_client.get(path), 404)


@pytest.mark.parametrize("path", ["/api/v1/collectivities/a%00b", "/api/v1/tickets/T%00", "/api/v1/forms/%00"])
def test_it_refuses_a_nul_character_in_an_id_with_400(staff_client, path):
    _assert_client_error(staff_client.get(path), 400)


def test_it_refuses_a_nul_character_in_a_json_body_with_400(staff_client, world):
    body = {"ticket_type": "incident", "title": "Imprimante\x00", "description": "x", "collectivity": "alpha"}

    response = staff_client.post("/api/v1/tickets/", json.dumps(body), content_type="application/json")

    _assert_client_error(response, 400)


def test_it_refuses_a_nul_character_in_a_form_with_400(staff_client):
    response = staff_client.post("/assistance/modeles/nouveau/", {"title": "a\x00b"})

    assert response.status_code == 400


@pytest.mark.parametrize(
    "path", ["/assistance/?page=abc", "/assistance/?page=999999999999", "/journal/?page=abc", "/annuaire/?page=999999"]
)
def test_it_answers_a_bad_page_number_on_a_page_with_404(client, world, path):
    client.raise_request_exception = False
    client.force_login(world.admin)

    assert client.get(path).status_code == 404


@pytest.mark.parametrize("path", ["/catalogue/?q=%00", "/assistance/?q=%00", "/adherents/?q=%00"])
def test_it_refuses_a_nul_character_on_a_page_with_400(client, world, path):
    client.raise_request_exception = False
    client.force_login(world.staff)

    assert client.get(path).status_code == 400


# --- the OpenAPI document tells the truth ------------------------------------------------------


def _url(path: str, value: str) -> str:
    return re.sub(r"\{[^}]+\}", value, path)


def _calls(path: str, method: str) -> list[tuple[str, Any]]:
    """The requests a careless or hostile client makes to one operation."""
    calls: list[tuple[str, Any]] = []
    for value in ("inconnu", "abc", "99999999999999999999", "1", "a%00b"):
        url = _url(path, value)
        if method == "GET":
            calls += [(url, None), (f"{url}?page=abc", None), (f"{url}?page=999999999", None), (f"{url}?q=%00", None)]
        else:
            calls += [(url, {}), (url, {"title": "\x00"}), (url, "pas du JSON"), (url, {"status": 12})]
    return calls


def _send(client: Any, method: str, url: str, body: Any) -> Any:
    if method == "GET":
        return client.get(url)
    data = body if isinstance(body, str) else json.dumps(body)
    return client.generic(method, url, data, content_type="application/json")


@pytest.mark.parametrize("path,method", [(p, m) for p, m, _op in _operations()])
def test_it_declares_every_status_an_operation_answers(client, world, path, method):
    operation = {(p, m): op for p, m, op in _operations()}[(path, method)]
    declared = {int(code) for code in operation["responses"]}
    client.raise_request_exception = False
    seen = {_send(client, method, _url(path, "1"), None if method == "GET" else {}).status_code}  # no credentials
    for user in (world.staff, world.agent_a):
        client.force_login(user)
        seen |= {_send(client, method, url, body).status_code for url, body in _calls(path, method)}

    assert 500 not in seen
    assert seen <= declared, f"{method} {path}: answers {sorted(seen - declared)} not in the OpenAPI document"


def test_it_describes_every_error_body_with_the_error_schema():
    schema = api.get_openapi_schema()

    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            for code, response in operation["responses"].items():
                if int(code) >= 400:
                    ref = response["content"]["application/json"]["schema"]["$ref"]
                    assert ref.endswith("/ErrorOut"), (method, path, code)


# --- ninja's own refusals in French and in the error shape ------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type"),
    [("pas du JSON", "application/json"), ('{"title": "x"', "application/json"), ("bonjour", "text/plain")],
)
def test_it_answers_an_unreadable_body_in_french_in_the_error_shape(staff_client, body, content_type):
    response = staff_client.post("/api/v1/tickets/", body, content_type=content_type)

    _assert_client_error(response, 400)
    assert "corps de requête illisible" in response.json()["detail"]
    assert "Cannot" not in response.content.decode()
    assert response.json()["errors"]["body"]


@pytest.mark.parametrize(("method", "path"), [("DELETE", "/api/v1/tickets/"), ("PUT", "/api/v1/tickets/2026-000001")])
def test_it_answers_a_method_the_path_does_not_take_with_a_json_405(staff_client, method, path):
    response = staff_client.generic(method, path, "{}", content_type="application/json")

    _assert_client_error(response, 405)
    assert "méthode non autorisée" in response.json()["detail"]
    assert response.json()["errors"]["method"]
    assert "GET" in response["Allow"]


def test_it_declares_the_405_of_every_operation():
    for _path, _method, operation in _operations():
        assert 405 in {int(code) for code in operation["responses"]}
