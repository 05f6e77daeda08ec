"""The API's error answers: one body shape (ErrorOut), the statuses each endpoint declares in the
OpenAPI document, and the handlers that turn every client mistake into one of them, never a 500.

Validation by ninja (a page that is not a number, a missing field), Django's ValidationError, a
value the database refuses (DataError: out of range, bad encoding) and a body too large all land
here; `RequestGuardMiddleware` answers NUL characters and oversized bodies before the API runs.

In core, not in the api app, because every app that mounts a router (helpdesk, questionnaires)
declares these statuses: the api app sits on top of them (issue #12, layers)."""

from __future__ import annotations

from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.urls import URLPattern, URLResolver
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from mutualis.core.errors import csrf_message


# Every refusal's body: a sentence, and the messages by field when there are some.
class ErrorOut(Schema):
    detail: str
    errors: dict[str, list[str]] | None = None


# Declared on every endpoint (with its success status): 400 bad input (NUL character, value the
# database refuses), 401 no credentials, 403 refused, 404 unknown object or page, 413 body too
# large, 422 invalid data; 400 also for a body that is not JSON, 405 for a method the path does not
# take (a DELETE on a list).
ERRORS: dict[int, Any] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    405: ErrorOut,
    413: ErrorOut,
    422: ErrorOut,
}

# pydantic's words for the usual mistakes, in French for the API's users
_MESSAGES = {
    "int_parsing": "nombre entier attendu",
    "int_from_float": "nombre entier attendu",
    "bool_parsing": "booléen attendu (true ou false)",
    "date_from_datetime_parsing": "date attendue (AAAA-MM-JJ)",
    "date_parsing": "date attendue (AAAA-MM-JJ)",
    "datetime_parsing": "date et heure attendues (ISO 8601)",
    "missing": "champ obligatoire",
    "string_type": "texte attendu",
    "int_type": "nombre entier attendu",
    "greater_than_equal": "valeur trop petite",
    "less_than_equal": "valeur trop grande",
    "json_invalid": "JSON invalide",
    "model_attributes_type": "objet JSON attendu",
    "dict_type": "objet JSON attendu",
    "list_type": "liste attendue",
}


def _shape(request: HttpRequest, api: NinjaAPI, status: int, detail: str, errors: Any = None) -> HttpResponse:
    body: dict[str, Any] = {"detail": detail}
    if errors:
        body["errors"] = errors
    return api.create_response(request, body, status=status)


def _ninja_invalid(api: NinjaAPI) -> Any:
    def handler(request: HttpRequest, error: NinjaValidationError) -> HttpResponse:
        errors: dict[str, list[str]] = {}
        for item in error.errors:
            location = [str(part) for part in item.get("loc", ())]
            # ("query", "page") → "page"; ("body", "payload", "title") → "title"
            key = ".".join(location[2:] if location[:1] == ["body"] else location[1:]) or "__all__"
            message = _MESSAGES.get(item.get("type", "")) or str(item.get("msg") or "valeur invalide")
            errors.setdefault(key, []).append(message)
        detail = "; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items())
        return _shape(request, api, 422, detail, errors)

    return handler


def _django_invalid(api: NinjaAPI) -> Any:
    def handler(request: HttpRequest, error: DjangoValidationError) -> HttpResponse:
        errors = error.message_dict if hasattr(error, "error_dict") else {"__all__": error.messages}
        detail = "; ".join(f"{k}: {' '.join(v)}" if k != "__all__" else " ".join(v) for k, v in errors.items())
        return _shape(request, api, 422, detail, errors)

    return handler


def _http_error(api: NinjaAPI) -> Any:
    """ninja's own refusals (a body it cannot parse, a session without its CSRF token, throttling)
    carry English text: French here."""

    def handler(request: HttpRequest, error: HttpError) -> HttpResponse:
        if error.status_code == 400:
            message = _("corps de requête illisible : JSON attendu (Content-Type: application/json)")
            return _shape(request, api, 400, message, {"body": [message]})
        if error.status_code == 403 and "CSRF" in error.message:
            message = csrf_message()
            return _shape(request, api, 403, message, {"csrf": [message]})
        if error.status_code == 429:
            return _shape(request, api, 429, _("trop de requêtes : réessayez plus tard"))
        return _shape(request, api, error.status_code, _("requête refusée"))

    return handler


def method_not_allowed(response: HttpResponseNotAllowed) -> JsonResponse:
    """ninja's 405 (an empty text/html page) in the error shape, the Allow header kept."""
    allowed = ", ".join(sorted(method.strip() for method in response["Allow"].split(",") if method.strip()))
    message = _("méthode non autorisée sur cette adresse (autorisées : %(allowed)s)") % {"allowed": allowed}
    answer = JsonResponse({"detail": message, "errors": {"method": [message]}}, status=405)
    answer["Allow"] = response["Allow"]
    return answer


def _json_405(view: Any) -> Any:
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        return method_not_allowed(response) if isinstance(response, HttpResponseNotAllowed) else response

    return wrapped


def api_urls(api: NinjaAPI) -> tuple[list[URLPattern | URLResolver], str, str]:
    """`api.urls` with every view answering a wrong method in the error shape: ninja builds that
    405 in its path view, past every exception handler."""
    patterns, app_name, namespace = api.urls
    for pattern in patterns:
        if isinstance(pattern, URLPattern):
            pattern.callback = _json_405(pattern.callback)
    return patterns, app_name, namespace


def install(api: NinjaAPI) -> None:
    """Every refusal in ErrorOut's shape, with a French message."""
    api.add_exception_handler(NinjaValidationError, _ninja_invalid(api))
    api.add_exception_handler(HttpError, _http_error(api))
    api.add_exception_handler(DjangoValidationError, _django_invalid(api))
    api.add_exception_handler(Http404, lambda request, error: _shape(request, api, 404, str(error) or "introuvable"))
    api.add_exception_handler(
        PermissionDenied, lambda request, error: _shape(request, api, 403, str(error) or "action non autorisée")
    )
    api.add_exception_handler(
        AuthenticationError,
        lambda request, error: _shape(request, api, 401, "authentification requise (jeton ou session)"),
    )
    # A value the database cannot store or compare (PostgreSQL: out of range, invalid text) is the
    # client's mistake that slipped past validation: 400, and the connection stays usable.
    api.add_exception_handler(
        DataError, lambda request, error: _shape(request, api, 400, "valeur refusée par la base de données")
    )
    api.add_exception_handler(
        RequestDataTooBig, lambda request, error: _shape(request, api, 413, "requête trop volumineuse")
    )
