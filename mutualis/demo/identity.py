"""Demo directory: a few units and agents per member, and the member IT directors' accounts
(dsi-<slug>) tied to their directory entry, loaded idempotently by `load_demo`."""

from __future__ import annotations

from mutualis.accounts.models import User
from mutualis.catalog.models import Application, SsoProtocol
from mutualis.identity.models import Agent, AttributeRelease, Civility, DirectoryAttribute, OrganisationUnit
from mutualis.members.models import Organisation

UNITS = [("DG", "Direction générale", ""), ("DSI", "Systèmes d'information", "DG"), ("RH", "Ressources humaines", "DG")]
AGENTS = [
    # hr id, civility, first name, last name, function, unit, manager
    ("DSI-001", Civility.MONSIEUR, "Directeur", "SI", "Directeur des systèmes d'information", "DSI", ""),
    ("RH-001", Civility.MADAME, "Claire", "Martin", "Responsable des ressources humaines", "RH", ""),
    ("RH-002", Civility.MONSIEUR, "Karim", "Benali", "Gestionnaire paie", "RH", "RH-001"),
    ("DG-001", Civility.MADAME, "Sophie", "Lambert", "Directrice générale des services", "DG", ""),
    ("DSI-002", Civility.MADAME, "Inès", "Moreau", "Technicienne de proximité", "DSI", "DSI-001"),
]
RELEASES = [
    (DirectoryAttribute.LOGIN, "identifier l'agent dans l'application"),
    (DirectoryAttribute.MAIL, "envoyer les notifications de l'application"),
    (DirectoryAttribute.FAMILY_NAME, "afficher l'auteur des actions"),
    (DirectoryAttribute.GIVEN_NAME, "afficher l'auteur des actions"),
]


def load_identity(orgs: dict[str, Organisation]) -> None:
    """Runs inside load_demo's transaction; a second run changes nothing."""
    for org in Organisation.objects.members():
        units: dict[str, OrganisationUnit] = {}
        for code, name, parent in UNITS:
            units[code], _created = OrganisationUnit.objects.update_or_create(
                collectivity=org, code=code, defaults={"name": name, "parent": units.get(parent)}
            )
        agents: dict[str, Agent] = {}
        for hr_id, civility, first, last, function, unit, manager in AGENTS:
            if hr_id == "DSI-001":
                first, last = "DSI", org.label
            login = f"dsi-{org.slug}" if hr_id == "DSI-001" else ""
            domain = f"{org.slug}.demo.mutualis.test"
            mail = f"dsi-{org.slug}@demo.mutualis.test" if login else f"{first[0]}.{last}@{domain}".lower()
            agents[hr_id], _created = Agent.objects.update_or_create(
                collectivity=org,
                hr_id=hr_id,
                defaults={
                    "civility": civility,
                    "first_name": first,
                    "last_name": last,
                    "mail": mail,
                    "login": login,
                    "function": function,
                    "department": units[unit],
                    "manager": agents.get(manager),
                },
            )
        User.objects.filter(username=f"dsi-{org.slug}", agent__isnull=True).update(agent=agents["DSI-001"])
    # the register: what the citizen portal receives, as an example
    apps = list(Application.objects.filter(sso_protocol=SsoProtocol.OIDC)[:5]) or list(Application.objects.all()[:3])
    for app in apps:
        for attribute, purpose in RELEASES:
            AttributeRelease.objects.get_or_create(application=app, attribute=attribute, defaults={"purpose": purpose})
