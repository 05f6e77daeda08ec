"""Publication of acts (décret 2021-1311): every member's acts online, versioned, with a chained log."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PublicationConfig(AppConfig):
    name = "mutualis.publication"
    label = "publication"
    verbose_name = _("Publication des actes")

    def ready(self) -> None:
        # flows runs the step and knows nothing of this app: it is told which adapter serves the port.
        from mutualis.flows.engine import register_internal
        from mutualis.flows.enums import Port
        from mutualis.publication.adapter import PublicationAdapter

        register_internal(Port.PUBLICATION, PublicationAdapter)
