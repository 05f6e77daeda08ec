from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "mutualis.core"
    label = "core"
    verbose_name = _("Socle")

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from mutualis.core.sqlite_statistics import on_connection_created

        connection_created.connect(on_connection_created, dispatch_uid="core-sqlite-statistics")
