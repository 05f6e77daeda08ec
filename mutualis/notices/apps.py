"""Notices: planned maintenance and major incidents per application, to the members affected."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NoticesConfig(AppConfig):
    name = "mutualis.notices"
    label = "notices"
    verbose_name = _("Avis et incidents majeurs")

    def ready(self) -> None:
        # Its part of the home page and of the staff ticket page (core.panels).
        from mutualis.notices import panels

        panels.register()
