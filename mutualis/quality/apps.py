from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.utils.translation import gettext_lazy as _


class QualityConfig(AppConfig):
    name = "mutualis.quality"
    label = "quality"
    verbose_name = _("Qualité de service")

    def ready(self) -> None:
        from mutualis.quality import panels, schedule
        from mutualis.quality.sqlite_functions import register

        connection_created.connect(register, dispatch_uid="quality-sqlite-percentile")
        schedule.register()
        # Its part of the home page for operator admins, member IT directors and elected officials.
        panels.register()
