"""Procurement: the contracts register, renewals, delegation thresholds and open data (DECP)."""

from django.apps import AppConfig


class ProcurementConfig(AppConfig):
    name = "mutualis.procurement"
    label = "procurement"
    verbose_name = "Marchés publics"

    def ready(self) -> None:
        # Imported here, not at the top: panels reach models, loaded once apps are ready.
        from mutualis.procurement import panels

        panels.register()
