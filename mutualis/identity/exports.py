"""The directory as LemonLDAP::NG sees it: LDAP entries (LDIF, or pushed with ldap3) and the
per-relying-party configuration fragment of the attribute release register."""

from __future__ import annotations

import base64
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from mutualis.identity.models import LDAP_ATTRIBUTE, Agent, AttributeRelease

# Entries Mutualis writes carry this employeeType: the push only ever modifies or removes those.
MARKER = "mutualis"


def ldap_entry(agent: Agent) -> dict[str, list[str]]:
    attributes = {
        "objectClass": ["inetOrgPerson"],
        "uid": [agent.uid],
        "cn": [agent.full_name],
        "sn": [agent.last_name],
        "givenName": [agent.first_name],
        "mail": [agent.mail] if agent.mail else [],
        "title": [agent.function] if agent.function else [],
        "departmentNumber": [agent.department.name] if agent.department_id and agent.department else [],
        "o": [agent.collectivity.name],
        "employeeNumber": [agent.hr_id],
        "employeeType": [MARKER],
    }
    return {k: v for k, v in attributes.items() if v}


def ldap_dn(agent: Agent, base_dn: str) -> str:
    from ldap3.utils.dn import escape_rdn

    return f"uid={escape_rdn(agent.uid)},{base_dn}"


def _ldif_line(name: str, value: str) -> str:
    safe = value.isascii() and value.isprintable() and not value.startswith((" ", ":", "<")) and not value.endswith(" ")
    if safe:
        return f"{name}: {value}"
    return f"{name}:: {base64.b64encode(value.encode()).decode()}"


def directory_ldif(agents: Iterable[Agent], *, base_dn: str) -> str:
    """Active agents as LDIF entries under `base_dn` (no passwords: the provider's LDAP has them)."""
    blocks = []
    for agent in agents:
        lines = [_ldif_line("dn", ldap_dn(agent, base_dn))]
        for name, values in ldap_entry(agent).items():
            lines += [_ldif_line(name, v) for v in values]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + ("\n" if blocks else "")


def lemonldap_fragment(releases: Iterable[AttributeRelease]) -> dict[str, Any]:
    """`oidcRPMetaDataExportedVars` per relying party (the application's slug): claim → LDAP
    attribute. Merge it with `lemonldap-ng-cli merge`."""
    exported: dict[str, dict[str, str]] = defaultdict(dict)
    for release in releases:
        exported[release.application.slug][release.attribute] = LDAP_ATTRIBUTE[release.attribute]  # type: ignore[index]
    return {"oidcRPMetaDataExportedVars": {slug: dict(sorted(v.items())) for slug, v in sorted(exported.items())}}


@dataclass
class PushResult:
    added: int = 0
    modified: int = 0
    removed: int = 0
    unchanged: int = 0

    def summary(self) -> str:
        return (
            f"{self.added} ajouté(s), {self.modified} modifié(s), {self.removed} retiré(s), "
            f"{self.unchanged} inchangé(s)"
        )


def ldap_push(
    agents: Iterable[Agent], *, url: str, bind_dn: str, password: str, base_dn: str, dry_run: bool = False
) -> PushResult:
    """Make the entries under `base_dn` match the active agents: add the missing, replace changed
    attributes, remove the entries Mutualis made whose agent left. Passwords are never touched.
    Running it twice changes nothing the second time."""
    from ldap3 import BASE, LEVEL, MODIFY_DELETE, MODIFY_REPLACE, Connection, Server
    from ldap3.core.exceptions import LDAPNoSuchObjectResult

    wanted = {ldap_dn(a, base_dn).lower(): (ldap_dn(a, base_dn), ldap_entry(a)) for a in agents}
    names = sorted({n for _dn, entry in wanted.values() for n in entry} | {"mail", "title", "departmentNumber"})
    result = PushResult()
    connection = Connection(
        Server(url, connect_timeout=5), user=bind_dn, password=password, auto_bind=True, raise_exceptions=True
    )
    try:
        present: dict[str, Any] = {}
        try:
            connection.search(base_dn, "(objectClass=*)", search_scope=BASE)
        except LDAPNoSuchObjectResult:
            rdn = base_dn.split(",", 1)[0]
            kind, value = rdn.split("=", 1)
            if kind.lower() != "ou":
                raise
            if not dry_run:
                connection.add(base_dn, ["organizationalUnit"], {"ou": value})
        else:
            connection.search(
                base_dn, "(objectClass=inetOrgPerson)", search_scope=LEVEL, attributes=[*names, "employeeType"]
            )
            present = {entry.entry_dn.lower(): entry for entry in connection.entries}
        for key, (dn, attributes) in wanted.items():
            entry = present.get(key)
            if entry is None:
                result.added += 1
                if not dry_run:
                    connection.add(dn, attributes=attributes)
                continue
            current = entry.entry_attributes_as_dict
            changes: dict[str, Any] = {}
            for name in names:
                if name == "objectClass":
                    continue
                want = attributes.get(name, [])
                have = [str(v) for v in current.get(name, [])]
                if sorted(want) != sorted(have):
                    changes[name] = [(MODIFY_REPLACE, want)] if want else [(MODIFY_DELETE, [])]
            if changes:
                result.modified += 1
                if not dry_run:
                    connection.modify(dn, changes)
            else:
                result.unchanged += 1
        for key, entry in present.items():
            if key not in wanted and MARKER in [str(v) for v in entry.entry_attributes_as_dict.get("employeeType", [])]:
                result.removed += 1
                if not dry_run:
                    connection.delete(entry.entry_dn)
    finally:
        connection.unbind()
    return result
