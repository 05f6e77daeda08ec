"""The Mutualis side of the sample's mapping (sample/glpi.toml), built with the factories: the
members, operator services, applications, categories and accounts the demo data has under the
same slugs and usernames — so the sample's users match as the mapping says (by login, by mail,
through [users]) and « jmartin » matches nothing."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mutualis.accounts.models import Role, User
from mutualis.glpi.mapping import Mapping, load_mapping
from mutualis.helpdesk.models import Category
from mutualis.members.models import OrganisationKind
from mutualis.testing.factories import (
    ApplicationFactory,
    OperatorFactory,
    OperatorServiceFactory,
    OrganisationFactory,
    UserFactory,
)

MAPPING_PATH = Path(__file__).resolve().parents[1] / "sample" / "glpi.toml"


@dataclass
class World:
    mapping: Mapping
    support: User
    admin: User


def build_world() -> World:
    mapping = load_mapping(MAPPING_PATH)
    operator = OperatorFactory(slug=mapping.entities[0], name="SITIV")
    members = {
        slug: OrganisationFactory(slug=slug, name=slug.replace("-", " ").title(), kind=OrganisationKind.COMMUNE)
        for glpi_id, slug in mapping.entities.items()
        if glpi_id != 0
    }
    for slug in mapping.groups.values():
        OperatorServiceFactory(slug=slug, name=slug, organisation=operator)
    for target in mapping.categories.values():
        if target.application:
            ApplicationFactory(slug=target.application, name=target.application)
        if target.category:
            Category.objects.get_or_create(slug=target.category, defaults={"name": target.category})
    support = UserFactory(username="support", role=Role.OPERATOR_STAFF, organisation=operator)
    admin = UserFactory(username="admin", role=Role.OPERATOR_ADMIN, organisation=operator, is_superuser=True)
    UserFactory(username="dsi-venissieux", role=Role.MEMBER_MANAGER, organisation=members["venissieux"])
    UserFactory(username="dsi-vaulx-en-velin", role=Role.MEMBER_MANAGER, organisation=members["vaulx-en-velin"])
    UserFactory(
        username="dsi-givors",
        email="dsi-givors@demo.mutualis.test",
        role=Role.MEMBER_MANAGER,
        organisation=members["givors"],
    )
    return World(mapping=mapping, support=support, admin=admin)
