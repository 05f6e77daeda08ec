from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "mutualis.catalog"
    label = "catalog"
    verbose_name = _("Catalogue de services")

    def ready(self) -> None:
        # Its parts of the home page, of a member's page and of the members list (core.panels).
        from mutualis.catalog import panels

        panels.register()
