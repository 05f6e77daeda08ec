"""Personal data (GDPR): retention rules, a person's data exported and erased by pseudonymisation."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrivacyConfig(AppConfig):
    name = "mutualis.privacy"
    label = "privacy"
    verbose_name = _("Données personnelles")

    def ready(self) -> None:
        # Imported here, not at the top: the scheduler reaches core's models, loaded once apps are ready.
        from mutualis.core.scheduler import Daily, job_register

        # Idempotent (what is anonymised leaves the candidates), so a missed night is caught up
        # by the next one; at night, when few tickets are being changed.
        job_register(
            "privacy_apply_retention",
            command="privacy_apply_retention",
            period=Daily(3, 30),
            description=_("règles de conservation des données personnelles (anonymisation, purge)"),
        )
