"""Vendor clocks (OLA): the time a vendor takes on a ticket against its maintenance contract's commitments."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OlaConfig(AppConfig):
    name = "mutualis.ola"
    label = "ola"
    verbose_name = _("Délais des fournisseurs")
