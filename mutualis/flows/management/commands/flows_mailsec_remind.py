"""`mutualis flows_mailsec_remind`: remind the secure mails not fetched; « non reçu » after the last reminder."""

from __future__ import annotations

from typing import Any

from mutualis.core.commands import BatchCommand
from mutualis.flows.mailsec import secure_mail_remind


class Command(BatchCommand):
    help = (
        "Relance les courriers sécurisés non téléchargés après le délai de leur connecteur, et clôt comme "
        "« non reçu » ceux dont la dernière relance est restée sans téléchargement."
    )

    limit_help = "au plus N courriers examinés par passage"

    def run(self, **options: Any) -> str:
        result = secure_mail_remind(limit=options["limit"] or 5000)
        return (
            f"courriers sécurisés : {result.reminded} relance(s), {result.not_received} non reçu(s), "
            f"{result.failed} relance(s) en échec"
        )
