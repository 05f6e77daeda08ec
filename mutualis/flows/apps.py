"""Document flows: signature, transmission to the State, secure mail and archiving, for every member."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FlowsConfig(AppConfig):
    name = "mutualis.flows"
    label = "flows"
    verbose_name = _("Flux documentaires")

    def ready(self) -> None:
        # Imported here, not at the top: the scheduler reaches core's models, loaded once apps are ready.
        from mutualis.core.scheduler import Every, job_register

        job_register(
            "flows_run",
            command="flows_run",
            period=Every(minutes=1),
            description=_("envois, relevés d'état et nouveaux essais des documents des flux"),
        )
        from mutualis.core.scheduler import Daily

        # The secure mail's reminders, then « non reçu » (flows/mailsec.py), once a day at a civil hour.
        job_register(
            "flows_mailsec_remind",
            command="flows_mailsec_remind",
            period=Daily(9, 0),
            description=_("relances des courriers sécurisés non téléchargés, puis « non reçu »"),
        )
