"""Document flows: signature, transmission to the State, secure mail and archiving, for every member."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FlowsConfig(AppConfig):
    name = "mutualis.flows"
    label = "flows"
    verbose_name = _("Flux documentaires")
