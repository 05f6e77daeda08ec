"""Vendor clocks (OLA): the time a vendor takes on a ticket against its maintenance contract's commitments."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OlaConfig(AppConfig):
    name = "mutualis.ola"
    label = "ola"
    verbose_name = _("Délais des fournisseurs")

    def ready(self) -> None:
        # Imported here, not at the top: panels and the hook reach models, loaded once apps are ready.
        from mutualis.helpdesk.hooks import transition_hook_register
        from mutualis.ola import episodes, panels

        panels.register()
        transition_hook_register("ola.vendor_episodes", episodes.on_transition)
