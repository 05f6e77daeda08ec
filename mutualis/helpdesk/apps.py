from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HelpdeskConfig(AppConfig):
    name = "mutualis.helpdesk"
    label = "helpdesk"
    verbose_name = _("Assistance")

    def ready(self) -> None:
        # Imported here, not at the top: the scheduler reaches core's models, loaded once apps are ready.
        from django.conf import settings

        from mutualis.core.scheduler import Every, job_register

        job_register(
            "helpdesk_sla_escalate",
            command="helpdesk_sla_escalate",
            period=Every(minutes=5),
            description=_("alertes à 50, 75 et 100 % des délais et dépassements des demandes"),
        )
        job_register(
            "helpdesk_poll_imap",
            command="helpdesk_poll_imap",
            period=Every(minutes=2),
            description=_("relève de la boîte IMAP de l'assistance"),
            enabled=lambda: bool(settings.HELPDESK_IMAP),
        )

        from mutualis.core.metrics import collector_register
        from mutualis.helpdesk.metrics import mail_metrics

        collector_register("helpdesk.mail", mail_metrics)

        # Its part of the home page for members and technicians (core.panels).
        from mutualis.helpdesk import panels

        panels.register()
