from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GovernanceConfig(AppConfig):
    name = "mutualis.governance"
    label = "governance"
    verbose_name = _("Gouvernance")

    def ready(self) -> None:
        # Imported here, not at the top: panels reach models, loaded once apps are ready.
        from mutualis.governance import panels

        panels.register()
