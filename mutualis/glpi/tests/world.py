"""The Mutualis side of the sample's mapping (sample/glpi.toml), built with the factories: the
members, operator services, applications, categories and accounts the demo data has under the
same slugs and usernames — so the sample's users match as the mapping says (by login, by mail,
through [users]) and « jmartin » matches nothing."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mutualis.accounts.models import Role, User
from mutualis.glpi.importer import Options
from mutualis.glpi.mapping import Mapping, load_mapping
from mutualis.glpi.sample import history
from mutualis.glpi.services import Outcome, glpi_import
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
_counter = itertools.count(1)


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


@dataclass
class Sample:
    """A generated GLPI history in a MariaDB database of its own."""

    url: str
    facts: history.SampleFacts
    documents_dir: Path


@contextmanager
def sample_database(server: str, folder: Path, *, tickets: int = 200, timezones: bool = False) -> Iterator[Sample]:
    """A database holding the sample history, dropped afterwards (module-wide for the tests that
    only read GLPI: the import never writes there)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"glpi_i{os.getpid()}_{worker}_{next(_counter)}"
    url = history.create_database(server, name, replace=True)
    try:
        history.load_schema(url)
        facts = history.generate(url, tickets=tickets, timezones=timezones, documents_dir=folder)
        yield Sample(url=url, facts=facts, documents_dir=folder)
    finally:
        history.drop_database(server, name)


def run_import(sample: Sample, world: World, **options: Any) -> Outcome:
    options.setdefault("documents_dir", sample.documents_dir)
    return glpi_import(url=sample.url, mapping=world.mapping, options=Options(**options))


def glpi_rows(url: str, sql: str, params: tuple[Any, ...] = (), *, utc: bool = False) -> list[tuple[Any, ...]]:
    connection = history.connect(url, utc=utc)
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return list(cursor.fetchall())
    finally:
        connection.close()


def glpi_write(url: str, sql: str, params: tuple[Any, ...] = ()) -> None:
    """A change made in GLPI meanwhile (by GLPI's users, not by the import)."""
    connection = history.connect(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
        connection.commit()
    finally:
        connection.close()
