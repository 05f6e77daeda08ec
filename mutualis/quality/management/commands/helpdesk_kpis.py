"""Print the helpdesk indicators for a range of months, grouped as asked, as JSON or CSV."""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from mutualis.lib.tabular import PEOPLE, to_csv
from mutualis.members.models import Organisation
from mutualis.quality.kpis import KEYS, MEASURES, Month, compute


class Command(BaseCommand):
    help = "Indicateurs de l'assistance par mois, collectivité, application, type, priorité."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="first", required=True, help="premier mois, AAAA-MM")
        parser.add_argument("--to", dest="last", required=True, help="dernier mois, AAAA-MM")
        parser.add_argument("--collectivity", help="identifiant (slug) d'une collectivité")
        parser.add_argument("--by", default="month", help=f"regroupements parmi {','.join(KEYS)} (défaut : month)")
        parser.add_argument("--format", choices=["json", "csv"], default="json")

    def handle(self, *args: Any, **options: Any) -> None:
        by = [part.strip() for part in options["by"].split(",") if part.strip()]
        try:
            first, last = Month.parse(options["first"]), Month.parse(options["last"])
            collectivity_id = None
            if options["collectivity"]:
                organisation = Organisation.objects.filter(slug=options["collectivity"]).first()
                if organisation is None:
                    raise ValueError(f"collectivité inconnue : {options['collectivity']!r}")
                collectivity_id = organisation.pk
            rows = compute(first=first, last=last, by=by, collectivity_id=collectivity_id)
        except ValueError as error:
            raise CommandError(str(error)) from None
        if options["format"] == "json":
            self.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2))
        else:
            header = [*by, *MEASURES]
            self.stdout.write(to_csv(header, [[row[h] for h in header] for row in rows], dialect=PEOPLE), ending="")
