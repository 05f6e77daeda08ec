"""Switching from GLPI: the helpdesk history read from GLPI's own MariaDB/MySQL database."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GlpiConfig(AppConfig):
    name = "mutualis.glpi"
    label = "glpi"
    verbose_name = _("Reprise de GLPI")

    def ready(self) -> None:
        # Imported here, not at the top: the panel reaches models, loaded once apps are ready.
        from mutualis.glpi import panels

        panels.register()
