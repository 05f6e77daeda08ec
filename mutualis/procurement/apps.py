"""Procurement: the contracts register, renewals, delegation thresholds and open data (DECP)."""

from django.apps import AppConfig


class ProcurementConfig(AppConfig):
    name = "mutualis.procurement"
    label = "procurement"
    verbose_name = "Marchés publics"

    def ready(self) -> None:
        # Imported here, not at the top: panels reach models, loaded once apps are ready.
        from django.utils.translation import gettext_lazy as _

        from mutualis.core.scheduler import Daily, job_register
        from mutualis.procurement import panels

        panels.register()
        # idempotent (what was sent is recorded): a missed day is covered by the next run
        job_register(
            "procurement_notify",
            command="procurement_notify",
            period=Daily(7, 0),
            description=_("alertes de reconduction et de fin des marchés (90, 60 et 30 jours)"),
        )
