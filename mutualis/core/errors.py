"""Error pages that keep the caller's language: JSON in the API's error shape under /api/ (a client
reading JSON must not get an HTML page for a URL no route matches, or for a crash), Django's
templates elsewhere."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views import defaults

from mutualis.core.middleware import is_api
from mutualis.core.unavailable import current_exception_is_database_unavailable, database_unavailable


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api(request):
        return JsonResponse({"detail": "requête invalide"}, status=400)
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api(request):
        return JsonResponse({"detail": str(exception) or "action non autorisée"}, status=403)
    return defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api(request):
        return JsonResponse({"detail": "introuvable"}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    # The database away while a middleware read or wrote the session, outside any view.
    if current_exception_is_database_unavailable():
        return database_unavailable(request)
    if is_api(request):
        return JsonResponse({"detail": "erreur interne du serveur"}, status=500)
    return defaults.server_error(request)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: a French page in the site's layout instead of Django's English one (which
    talks about DEBUG); under /api/ the error shape. `reason` is for the logs, not the reader."""
    if is_api(request):
        message = csrf_message()
        return JsonResponse({"detail": message, "errors": {"csrf": [message]}}, status=403)
    return render(request, "403_csrf.html", status=403)


def csrf_message() -> str:
    """Shared with the API's handler, which meets the same refusal in ninja's session auth."""
    return _("vérification CSRF échouée : envoyez le jeton CSRF de la session, ou un jeton d'API")
