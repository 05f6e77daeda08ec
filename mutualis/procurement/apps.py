"""Procurement: the contracts register, renewals, delegation thresholds and open data (DECP)."""

from django.apps import AppConfig


class ProcurementConfig(AppConfig):
    name = "mutualis.procurement"
    label = "procurement"
    verbose_name = "Marchés publics"
