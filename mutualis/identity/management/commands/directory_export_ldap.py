"""Push the active agents of the directory to an LDAP server (ldap3), idempotently."""

from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from mutualis.accounts.models import Role, User
from mutualis.identity.exports import ldap_push
from mutualis.identity.selectors import exported_agents
from mutualis.members.models import Organisation


class Command(BaseCommand):
    help = "Pousse l'annuaire (agents actifs) vers un serveur LDAP ; une seconde exécution ne change rien."

    def add_arguments(self, parser: CommandParser) -> None:
        env = os.environ.get
        parser.add_argument("--url", default=env("MUTUALIS_LDAP_URL", "ldap://127.0.0.1:3389"))
        parser.add_argument("--bind-dn", default=env("MUTUALIS_LDAP_BIND_DN", "cn=admin,dc=mutualis,dc=test"))
        parser.add_argument("--password", default=None, help="défaut : $MUTUALIS_LDAP_PASSWORD")
        parser.add_argument("--base-dn", default=env("MUTUALIS_LDAP_BASE_DN", "ou=people,dc=mutualis,dc=test"))
        parser.add_argument("--collectivity", action="append", help="slug ; plusieurs fois possible (défaut : toutes)")
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        from ldap3.core.exceptions import LDAPException

        system = User(username="système", role=Role.OPERATOR_ADMIN, is_superuser=True)  # reads everything
        collectivities = None
        if options["collectivity"]:
            collectivities = list(Organisation.objects.visible_to(system).filter(slug__in=options["collectivity"]))
            missing = set(options["collectivity"]) - {o.slug for o in collectivities}
            if missing:
                raise CommandError(f"collectivité(s) inconnue(s) : {', '.join(sorted(missing))}")
        password = options["password"] or os.environ.get("MUTUALIS_LDAP_PASSWORD", "")
        try:
            result = ldap_push(
                exported_agents(actor=system, collectivities=collectivities),
                url=options["url"],
                bind_dn=options["bind_dn"],
                password=password,
                base_dn=options["base_dn"],
                dry_run=options["dry_run"],
            )
        except LDAPException as error:
            raise CommandError(f"LDAP {options['url']} : {error}") from None
        suffix = " (simulation)" if options["dry_run"] else ""
        self.stdout.write(self.style.SUCCESS(f"LDAP {options['base_dn']} : {result.summary()}{suffix}"))
