"""The mapping file (TOML): what only a person can decide — which GLPI entity is which member,
which group is which operator service, which category is which application or category."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class MappingError(Exception):
    """The file cannot be used; the message names the key."""


@dataclass(frozen=True)
class CategoryTarget:
    application: str = ""
    category: str = ""


@dataclass(frozen=True)
class Mapping:
    timezone: str = "Europe/Paris"
    entities: dict[int, str] = field(default_factory=dict)
    groups: dict[int, str] = field(default_factory=dict)
    categories: dict[int, CategoryTarget] = field(default_factory=dict)
    users: dict[str, str] = field(default_factory=dict)


def _ids(section: object, name: str) -> dict[int, object]:
    if not isinstance(section, dict):
        raise MappingError(f"[{name}] : une table est attendue")
    out: dict[int, object] = {}
    for key, value in section.items():
        try:
            out[int(key)] = value
        except ValueError:
            raise MappingError(f"[{name}] {key} : un identifiant GLPI (nombre) est attendu") from None
    return out


def _slug(value: object, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise MappingError(f"{where} : un identifiant (texte) est attendu")
    return value


def parse_mapping(text: str) -> Mapping:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise MappingError(f"fichier illisible : {error}") from None
    unknown = set(data) - {"glpi", "entities", "groups", "categories", "users"}
    if unknown:
        raise MappingError(f"section(s) inconnue(s) : {', '.join(sorted(unknown))}")
    zone = data.get("glpi", {}).get("timezone", "Europe/Paris")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise MappingError(f"[glpi] timezone : fuseau inconnu « {zone} »") from None
    entities = {k: _slug(v, f"[entities] {k}") for k, v in _ids(data.get("entities", {}), "entities").items()}
    groups = {k: _slug(v, f"[groups] {k}") for k, v in _ids(data.get("groups", {}), "groups").items()}
    categories: dict[int, CategoryTarget] = {}
    for key, value in _ids(data.get("categories", {}), "categories").items():
        where = f"[categories] {key}"
        if isinstance(value, str):
            value = {"application": value}
        if not isinstance(value, dict) or not value or set(value) - {"application", "category"}:
            raise MappingError(f'{where} : {{ application = "…" }} et/ou {{ category = "…" }} attendu')
        categories[key] = CategoryTarget(
            application=_slug(value["application"], where) if "application" in value else "",
            category=_slug(value["category"], where) if "category" in value else "",
        )
    users_section = data.get("users", {})
    if not isinstance(users_section, dict):
        raise MappingError("[users] : une table est attendue")
    users = {str(k): _slug(v, f"[users] {k}") for k, v in users_section.items()}
    return Mapping(timezone=zone, entities=entities, groups=groups, categories=categories, users=users)


def load_mapping(path: Path) -> Mapping:
    try:
        return parse_mapping(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise MappingError(f"{path} : lecture impossible ({error.strerror})") from None
