"""Poll the helpdesk's IMAP mailbox (MUTUALIS_HELPDESK_IMAP_URL): each unseen message is handled
like `helpdesk_ingest_email`, then flagged seen; idempotent by Message-ID."""

from __future__ import annotations

import imaplib
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from mutualis.helpdesk.inbound import poll_imap


class Command(BaseCommand):
    help = "Relève la boîte IMAP de l'assistance (MUTUALIS_HELPDESK_IMAP_URL) et traite les messages non lus."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, default=None, help="au plus N messages par relève")

    def handle(self, *args: Any, **options: Any) -> None:
        config = settings.HELPDESK_IMAP
        if not config:
            raise CommandError(
                "MUTUALIS_HELPDESK_IMAP_URL n'est pas défini (imaps://utilisateur:mot-de-passe@hôte:993/INBOX)"
            )
        try:
            summary = poll_imap(config, limit=options["limit"])
        except (imaplib.IMAP4.error, OSError) as error:  # OSError covers timeouts and refused connections
            raise CommandError(f"relève IMAP impossible sur {config['host']}:{config['port']} : {error}") from error
        self.stdout.write(summary.line())
