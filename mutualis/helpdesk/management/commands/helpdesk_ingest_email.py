"""Handle one mail read from standard input: a ticket, a followup, or a refusal (exit code 1)."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from mutualis.helpdesk.inbound import ingest_message, outcome_label


class Command(BaseCommand):
    help = (
        "Lit un courriel (RFC 822) sur l'entrée standard : ouvre une demande pour un expéditeur connu, "
        "ou ajoute un suivi quand l'objet porte une référence [AAAA-NNNNNN]. "
        "Usage : mutualis helpdesk_ingest_email < message.eml"
    )
    # call_command(..., stdin=BytesIO(...)) in tests; the console reads sys.stdin.
    stealth_options = ("stdin",)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--file", default=None, help="lire ce fichier .eml plutôt que l'entrée standard")

    def handle(self, *args: Any, **options: Any) -> None:
        raw: bytes | str
        if options["file"]:
            with open(options["file"], "rb") as handle:
                raw = handle.read()
        else:
            stream = options.get("stdin") or sys.stdin
            raw = getattr(stream, "buffer", stream).read()
        if isinstance(raw, str):
            raw = raw.encode("utf-8", errors="surrogateescape")
        if not raw.strip():
            raise CommandError(
                "aucun message sur l'entrée standard (usage : mutualis helpdesk_ingest_email < message.eml)"
            )
        outcome = ingest_message(raw)
        if not outcome.ok:
            raise CommandError(f"courriel refusé : {outcome.message}")
        for note in outcome.dropped:
            self.stderr.write(f"pièce jointe écartée : {note}")
        self.stdout.write(f"courriel {outcome_label(outcome.kind)} : {outcome.message}")
