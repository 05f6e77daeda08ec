from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MembersConfig(AppConfig):
    name = "mutualis.members"
    label = "members"
    verbose_name = _("Adhérents")

    def ready(self) -> None:
        # Imported here, not at the top: panels reach models and forms, loaded once apps are ready.
        from mutualis.members import panels

        panels.register()
