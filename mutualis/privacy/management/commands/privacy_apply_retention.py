"""Apply the personal-data retention rules (nightly): anonymise or delete what is older than each
rule's duration; --dry-run counts what each rule would change."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from mutualis.core.commands import BatchCommand
from mutualis.privacy.models import RetentionKind
from mutualis.privacy.retention import retention_apply


class Command(BatchCommand):
    help = (
        "Applique les règles de conservation des données personnelles : anonymise les demandes closes "
        "et les agents sortis depuis plus longtemps que la durée fixée, efface les adresses IP anciennes "
        "du journal et les sessions expirées."
    )

    limit_help = "au plus N enregistrements traités par règle et par passage (le reste au passage suivant)"

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--dry-run", action="store_true", help="compter, règle par règle, ce qui serait traité, sans rien changer"
        )
        parser.add_argument(
            "--rule",
            action="append",
            default=None,
            metavar="RÈGLE",
            help=f"n'appliquer que cette règle (répétable) : {', '.join(RetentionKind.values)}",
        )

    def check_options(self, **options: Any) -> None:
        unknown = set(options.get("rule") or []) - set(RetentionKind.values)
        if unknown:
            raise CommandError(
                f"règle inconnue : {', '.join(sorted(unknown))} (possibles : {', '.join(RetentionKind.values)})"
            )

    def run(self, **options: Any) -> str:
        dry_run = options["dry_run"]
        outcomes = retention_apply(
            dry_run=dry_run, limit=options["limit"], kinds=options["rule"], progress=self.progress
        )
        for outcome in outcomes:
            verb = "à traiter" if dry_run else "traités"
            self.stdout.write(
                f"  {outcome.rule.kind} ({outcome.rule.months} mois, avant le {outcome.cutoff:%d/%m/%Y}) : "
                f"{outcome.count} {verb}"
            )
        total = sum(outcome.count for outcome in outcomes)
        if dry_run:
            return (
                f"conservation (essai, rien n'a changé) : {total} enregistrement(s) à traiter, {len(outcomes)} règle(s)"
            )
        return f"conservation : {total} enregistrement(s) traité(s), {len(outcomes)} règle(s)"
