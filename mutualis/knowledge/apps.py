"""Knowledge base: articles per application and category that answer before a ticket is filed."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KnowledgeConfig(AppConfig):
    name = "mutualis.knowledge"
    label = "knowledge"
    verbose_name = _("Base de connaissances")

    def ready(self) -> None:
        # Imported here, not at the top: panels reach models, loaded once apps are ready.
        from mutualis.knowledge import panels

        panels.register()
