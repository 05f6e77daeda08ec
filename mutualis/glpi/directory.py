"""Who and what GLPI's ids are in Mutualis, resolved once per run: entities → members, groups →
operator services, categories → applications/categories (the mapping file), GLPI users →
accounts by login or mail, directly or through the directory agent behind the account. Nobody
is invented: an unmatched person is listed and kept by name."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from mutualis.accounts.models import OPERATOR_ROLES, User
from mutualis.catalog.models import Application
from mutualis.glpi.mapping import Mapping
from mutualis.glpi.source import Source
from mutualis.helpdesk.models import Category
from mutualis.identity.models import Agent
from mutualis.members.models import OperatorService, Organisation


@dataclass(frozen=True)
class Account:
    id: int
    username: str
    organisation_id: int | None
    is_operator: bool


@dataclass(frozen=True)
class GlpiUser:
    id: int
    login: str
    name: str  # "Prénom Nom (login)", what a reader recognises
    emails: tuple[str, ...]
    account: Account | None
    how: str  # "mapping", "login", "agent login", "mail", "agent mail", "" (unmatched)
    # Unmatched but known to the directory: an agent with no account (the ticket cannot name it).
    agent_without_account: str = ""


@dataclass
class Directory:
    """Everything the import looks up, loaded in a few queries at the start of a run."""

    mapping: Mapping
    organisations: dict[int, Organisation] = field(default_factory=dict)  # GLPI entity id → member
    services: dict[int, int] = field(default_factory=dict)  # GLPI group id → OperatorService id
    applications: dict[int, int] = field(default_factory=dict)  # GLPI category id → Application id
    categories: dict[int, int] = field(default_factory=dict)  # GLPI category id → Category id
    users: dict[int, GlpiUser] = field(default_factory=dict)
    # mapping entries naming a slug Mutualis does not have
    broken: list[str] = field(default_factory=list)
    entity_names: dict[int, str] = field(default_factory=dict)
    group_names: dict[int, str] = field(default_factory=dict)
    category_names: dict[int, str] = field(default_factory=dict)

    def user(self, glpi_id: int | None) -> GlpiUser | None:
        return self.users.get(glpi_id or 0)

    def account_id(self, glpi_id: int | None) -> int | None:
        found = self.users.get(glpi_id or 0)
        return found.account.id if found and found.account else None


def _accounts() -> tuple[dict[str, Account], dict[str, list[Account]], dict[int, Account]]:
    by_username: dict[str, Account] = {}
    by_mail: dict[str, list[Account]] = defaultdict(list)
    by_agent: dict[int, Account] = {}
    rows = User.objects.filter(is_active=True).values_list(
        "id", "username", "email", "organisation_id", "role", "is_superuser", "agent_id"
    )

    for pk, username, email, organisation_id, role, superuser, agent_id in rows:
        account = Account(pk, username, organisation_id, bool(superuser) or role in OPERATOR_ROLES)
        by_username[username.casefold()] = account
        if email:
            by_mail[email.strip().casefold()].append(account)
        if agent_id:
            by_agent[agent_id] = account
    return by_username, by_mail, by_agent


def load_directory(source: Source, mapping: Mapping) -> Directory:
    directory = Directory(mapping=mapping)
    orgs = {o.slug: o for o in Organisation.objects.filter(slug__in=set(mapping.entities.values()))}
    for glpi_id, slug in mapping.entities.items():
        if slug in orgs:
            directory.organisations[glpi_id] = orgs[slug]
        else:
            directory.broken.append(f"[entities] {glpi_id} = « {slug} » : aucune collectivité de ce nom")
    services = dict(OperatorService.objects.filter(slug__in=set(mapping.groups.values())).values_list("slug", "id"))
    for glpi_id, slug in mapping.groups.items():
        if slug in services:
            directory.services[glpi_id] = services[slug]
        else:
            directory.broken.append(f"[groups] {glpi_id} = « {slug} » : aucun service de l'opérateur de ce nom")
    targets = mapping.categories.values()
    apps = dict(Application.objects.filter(slug__in={t.application for t in targets}).values_list("slug", "id"))
    cats = dict(Category.objects.filter(slug__in={t.category for t in targets}).values_list("slug", "id"))
    for glpi_id, target in mapping.categories.items():
        if target.application:
            if target.application in apps:
                directory.applications[glpi_id] = apps[target.application]
            else:
                directory.broken.append(
                    f"[categories] {glpi_id} application = « {target.application} » : aucune application de ce nom"
                )
        if target.category:
            if target.category in cats:
                directory.categories[glpi_id] = cats[target.category]
            else:
                directory.broken.append(
                    f"[categories] {glpi_id} category = « {target.category} » : aucune catégorie de ce nom"
                )
    directory.entity_names = {
        r["id"]: r["completename"] or r["name"] for r in source.rows("SELECT id, name, completename FROM glpi_entities")
    }
    directory.group_names = {
        r["id"]: r["completename"] or r["name"] for r in source.rows("SELECT id, name, completename FROM glpi_groups")
    }
    directory.category_names = {
        r["id"]: r["completename"] or r["name"]
        for r in source.rows("SELECT id, name, completename FROM glpi_itilcategories")
    }
    _match_users(source, mapping, directory)
    return directory


def _match_users(source: Source, mapping: Mapping, directory: Directory) -> None:
    """Login first (the mapping's [users] renames, the account's username, the directory agent's
    login), then mail (the account's, the agent's): a mail shared by several accounts matches none."""
    by_username, by_mail, by_agent = _accounts()
    agent_login: dict[str, list[Account]] = defaultdict(list)
    agent_mail: dict[str, list[Account]] = defaultdict(list)
    lone_agents: dict[str, str] = {}  # login or mail → "Prénom Nom (collectivité)" of agents without account
    rows = Agent.objects.values_list("id", "login", "mail", "first_name", "last_name", "collectivity__slug")
    for agent_id, login, mail, first_name, last_name, collectivity in rows:
        account = by_agent.get(agent_id)
        if account is None:
            for key in (login, mail):
                if key:
                    lone_agents[key.strip().casefold()] = f"{first_name} {last_name} ({collectivity})"
            continue
        if login:
            agent_login[login.casefold()].append(account)
        if mail:
            agent_mail[mail.strip().casefold()].append(account)
    emails: dict[int, list[str]] = defaultdict(list)
    for row in source.rows("SELECT users_id, email FROM glpi_useremails ORDER BY is_default DESC, id"):
        if row["email"]:
            emails[row["users_id"]].append(str(row["email"]).strip())
    for row in source.rows("SELECT id, name, realname, firstname FROM glpi_users"):
        login = str(row["name"] or "")
        full = " ".join(part for part in (row["firstname"], row["realname"]) if part) or login
        name = f"{full} ({login})" if login and full != login else full
        account, how = None, ""
        key = login.casefold()
        if login in mapping.users and mapping.users[login].casefold() in by_username:
            account, how = by_username[mapping.users[login].casefold()], "mapping"
        elif key and key in by_username:
            account, how = by_username[key], "login"
        elif key and len(agent_login.get(key, [])) == 1:
            account, how = agent_login[key][0], "agent login"
        else:
            for mail in emails.get(row["id"], []):
                found = by_mail.get(mail.casefold(), [])
                if len(found) == 1:
                    account, how = found[0], "mail"
                    break
                found = agent_mail.get(mail.casefold(), [])
                if len(found) == 1:
                    account, how = found[0], "agent mail"
                    break
        lone = ""
        if account is None:
            keys = [key, *(mail.casefold() for mail in emails.get(row["id"], []))]
            lone = next((lone_agents[k] for k in keys if k and k in lone_agents), "")
        mails = tuple(emails.get(row["id"], []))
        directory.users[row["id"]] = GlpiUser(row["id"], login, name, mails, account, how, lone)


def match_counts(directory: Directory) -> Counter[str]:
    return Counter(user.how or "unmatched" for user in directory.users.values())
