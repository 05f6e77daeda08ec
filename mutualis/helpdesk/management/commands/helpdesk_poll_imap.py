"""Poll the helpdesk's IMAP mailbox (MUTUALIS_HELPDESK_IMAP_URL): each unseen message is handled
like `helpdesk_ingest_email`, then flagged seen; idempotent by Message-ID."""

from __future__ import annotations

import imaplib
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError

from mutualis.core.commands import BatchCommand
from mutualis.helpdesk.inbound import poll_imap

NOT_CONFIGURED = "MUTUALIS_HELPDESK_IMAP_URL n'est pas défini (imaps://utilisateur:mot-de-passe@hôte:993/INBOX)"


class Command(BatchCommand):
    help = "Relève la boîte IMAP de l'assistance (MUTUALIS_HELPDESK_IMAP_URL) et traite les messages non lus."

    limit_help = "au plus N messages par relève"

    def check_options(self, **options: Any) -> None:
        if not settings.HELPDESK_IMAP:
            raise CommandError(NOT_CONFIGURED)

    def run(self, **options: Any) -> str:
        config = settings.HELPDESK_IMAP
        if config is None:  # check_options has already refused; this narrows the type for run alone
            raise CommandError(NOT_CONFIGURED)
        try:
            summary = poll_imap(config, limit=options["limit"])
        except (imaplib.IMAP4.error, OSError) as error:  # OSError covers timeouts and refused connections
            raise CommandError(f"relève IMAP impossible sur {config['host']}:{config['port']} : {error}") from error
        return summary.line()
