"""Request middleware: the chosen language, the input guards (NUL characters, body size) and the
security headers of every response (CSP, HSTS, no-store)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.handlers.wsgi import LimitedStream
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from django.utils.translation import gettext as _


class ChosenLanguageMiddleware(LocaleMiddleware):
    """French unless the person chose otherwise: the browser's Accept-Language is not enough.

    Operator staff and member agents use whatever browser their town installed; a public-sector
    tool in France shows French, French dates and numbers, until someone picks English in the
    language switcher (a cookie, set by Django's set_language view)."""

    def process_request(self, request: HttpRequest) -> None:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        supported = {code for code, _name in settings.LANGUAGES}
        language = chosen if chosen in supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()


# --- Input and transport guards ----------------------------------------------------------------
# Every request passes here before a view, a form or the database sees it: a NUL character
# (PostgreSQL refuses it in text, so a query with one was a 500) and an oversized body are the
# client's errors, answered 400 and 413 in the caller's language (JSON under /api/).

API_PREFIX = "/api/"
_CHUNK = 64 * 1024


def is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


def client_error(request: HttpRequest, status: int, detail: str) -> HttpResponse:
    """A refusal in the API's error shape ({"detail": …}) under /api/, plain text elsewhere."""
    if is_api(request):
        return JsonResponse({"detail": detail}, status=status)
    return HttpResponse(detail, status=status, content_type="text/plain; charset=utf-8")


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


def _form_has_nul(data: QueryDict) -> bool:
    return any(_has_nul(key) or _has_nul(values) for key, values in data.lists())


class RequestGuardMiddleware:
    """Refuses, before anything reads them in full, bodies above MAX_REQUEST_BYTES (Content-Length
    or, for a chunked body, the bytes actually sent) with 413, and NUL characters in the path, the
    query string, a form, a file name or a JSON body with 400."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        refusal = self._size_refusal(request) or self._nul_refusal(request)
        return refusal or self.get_response(request)

    def _size_refusal(self, request: HttpRequest) -> HttpResponse | None:
        limit = settings.MAX_REQUEST_BYTES
        too_big = client_error(
            request,
            413,
            _("requête trop volumineuse : %(max)d octets au plus") % {"max": limit},
        )
        raw_length = request.META.get("CONTENT_LENGTH") or ""
        if raw_length.strip():
            try:
                length = int(raw_length)
            except ValueError:
                return client_error(request, 400, _("en-tête Content-Length invalide"))
            return too_big if length > limit else None
        if "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
            # No announced length: read what is sent, up to one byte past the limit, then hand the
            # view an ordinary body of known length.
            stream = request.META.get("wsgi.input")
            if stream is None:
                return None
            body = bytearray()
            while len(body) <= limit:
                chunk = stream.read(min(_CHUNK, limit + 1 - len(body)))
                if not chunk:
                    break
                body += chunk
            if len(body) > limit:
                return too_big
            request.META["CONTENT_LENGTH"] = str(len(body))
            request._stream = LimitedStream(io.BytesIO(bytes(body)), len(body))  # type: ignore[assignment]
            request._read_started = False  # type: ignore[attr-defined]
        return None

    def _nul_refusal(self, request: HttpRequest) -> HttpResponse | None:
        if "\x00" in request.path or _form_has_nul(request.GET):
            return client_error(request, 400, _("caractère nul (\\x00) refusé dans l'adresse"))
        if request.method in {"GET", "HEAD", "OPTIONS"}:
            return None
        content_type = request.META.get("CONTENT_TYPE", "")
        try:
            if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
                found = _form_has_nul(request.POST) or any(
                    "\x00" in (upload.name or "") for _key, uploads in request.FILES.lists() for upload in uploads
                )
            elif content_type.startswith("application/json"):
                try:
                    found = _has_nul(json.loads(request.body or b"null"))
                except ValueError:
                    return None  # not JSON: the view's parser answers it
            else:
                return None
        except RequestDataTooBig:
            return client_error(
                request,
                413,
                _("requête trop volumineuse : %(max)d octets au plus") % {"max": settings.DATA_UPLOAD_MAX_MEMORY_SIZE},
            )
        if found:
            return client_error(request, 400, _("caractère nul (\\x00) refusé dans les données envoyées"))
        return None


# --- Security headers --------------------------------------------------------------------------
# Scripts come from our own static files only (no inline <script>, no on*= attribute): an injected
# script tag in a ticket or a form answer cannot run. Styles may stay inline (the SVG charts carry
# their own <style>); images may be data: URIs (Swagger UI's icons).
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def content_security_policy(sso_issuer: str = "") -> str:
    """The policy; with single sign-on, logging out is a form whose answer redirects to the
    provider's end-session endpoint, which `form-action` must then allow (Chromium enforces it on
    redirects)."""
    if not sso_issuer:
        return CONTENT_SECURITY_POLICY
    parts = urlsplit(sso_issuer)
    return CONTENT_SECURITY_POLICY.replace("form-action 'self'", f"form-action 'self' {parts.scheme}://{parts.netloc}")


class SecurityHeadersMiddleware:
    """CSP on every response; HSTS when the cookies are Secure (sent whatever the scheme the proxy
    forwarded, browsers ignore it over plain HTTP); `Cache-Control: no-store` on what a signed-in
    account reads, the API, every download and every error answer, so a shared town-hall computer
    keeps no copy. Outermost in MIDDLEWARE, so the guard's refusals carry them too."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        issuer = getattr(settings, "OIDC_ISSUER", "") if getattr(settings, "OIDC_ENABLED", False) else ""
        response.headers.setdefault("Content-Security-Policy", content_security_policy(issuer))
        if settings.SECURE_HSTS_SECONDS and settings.SESSION_COOKIE_SECURE:
            response.headers.setdefault("Strict-Transport-Security", f"max-age={settings.SECURE_HSTS_SECONDS}")
        user = getattr(request, "user", None)
        private = bool(user is not None and user.is_authenticated) or is_api(request)
        download = "attachment" in response.headers.get("Content-Disposition", "")
        # An error answer (a refused body, an unknown page) describes one request, not a resource.
        if private or download or response.status_code >= 400:
            response.headers["Cache-Control"] = "no-store"
        return response
