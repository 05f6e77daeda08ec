"""French unless the person chose otherwise: the browser's Accept-Language is not enough.

Operator staff and member agents use whatever browser their town installed; a public-sector
tool in France shows French, French dates and numbers, until someone picks English in the
language switcher (a cookie, set by Django's set_language view)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.middleware.locale import LocaleMiddleware
from django.utils import translation


class ChosenLanguageMiddleware(LocaleMiddleware):
    def process_request(self, request: HttpRequest) -> None:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        supported = {code for code, _name in settings.LANGUAGES}
        language = chosen if chosen in supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
