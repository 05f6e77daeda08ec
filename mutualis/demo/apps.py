from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """Demo data and generators only: no model, and no production app imports it."""

    name = "mutualis.demo"
    label = "demo"
    verbose_name = _("Démonstration")
