from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "mutualis.catalog"
    label = "catalog"
    verbose_name = _("Catalogue de services")

    def ready(self) -> None:
        # Connects the signals that keep the per-process applications current (every process
        # that may save an application must drop the shared version token).
        from mutualis.catalog import cache  # noqa: F401
