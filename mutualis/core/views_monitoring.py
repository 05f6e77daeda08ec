"""The platform's state for machines: `/sante/` for load balancers and monitoring, `/metriques/`
for Prometheus. No login (a load balancer has none), no tenant data, no page layout."""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_safe

from mutualis.core.health import health_report
from mutualis.core.metrics import exposition

_YES = {"1", "true", "oui"}


@require_safe
def health(request: HttpRequest) -> HttpResponse:
    """200 `ok` or `degraded`, 503 `down` (the database does not answer); `?complet=1` adds the
    queue's states, the cache backend and which server answered (docs/monitoring.md)."""
    full = request.GET.get("complet", "").lower() in _YES
    code, report = health_report(full=full)
    response = JsonResponse(report, status=code)
    response["Cache-Control"] = "no-store"
    return response


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode()).digest()


@require_safe
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus' text format for whoever sends `Authorization: Bearer <MUTUALIS_METRICS_TOKEN>`;
    401 otherwise; 404 while no token is set, as if the endpoint did not exist."""
    token = settings.METRICS_TOKEN
    if not token:
        raise Http404
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    # Digests of equal length compared in constant time: neither the token nor its length leaks.
    if scheme.lower() != "bearer" or not hmac.compare_digest(_digest(given.strip()), _digest(token)):
        response = HttpResponse("Unauthorized\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="mutualis-metrics"'
        return response
    body, content_type = exposition()
    response = HttpResponse(body, content_type=content_type)
    response["Cache-Control"] = "no-store"
    return response
