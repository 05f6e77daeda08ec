"""Pastell (REST API v2) as the SupervisionPort: an existing Pastell's documents and states, read only.

Most operators already run a Pastell; Mutualis shows what it holds without taking it over: the
entities the account sees, and per entity its documents with their last action (a Pastell document's
state is its last action). The account needs read rights only; nothing is ever written to Pastell.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self
from urllib.parse import quote

import requests
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mutualis.flows.adapters.base import Setting, http, register, required
from mutualis.flows.ports import UnrecoverableError

SERVICE = "Pastell"
PAGE_SIZE = 100  # Pastell's own default and the most it is asked for at once
DOCUMENT_FIELDS = (
    "id_d",
    "id_e",
    "type",
    "titre",
    "last_action",
    "last_action_date",
    "creation",
    "modification",
    "denomination",
)
ENTITY_FIELDS = ("id_e", "denomination", "siren", "type", "entite_mere")


@register
class PastellSupervision:
    """SupervisionPort on Pastell's REST API v2 (basic authentication)."""

    kind = "pastell"
    port = "supervision"
    label = gettext_lazy("Pastell (supervision en lecture seule)")
    settings = (
        Setting("url", gettext_lazy("Adresse de Pastell"), help=gettext_lazy("Par exemple https://pastell.exemple.fr")),
        Setting("login", gettext_lazy("Identifiant")),
        Setting("password", gettext_lazy("Mot de passe"), secret=True),
        Setting(
            "entity_id",
            gettext_lazy("Entité de l'adhérent dans Pastell (id_e)"),
            required=False,
            help=gettext_lazy("Le numéro de l'entité, visible dans son adresse sur Pastell (id_e=…)."),
        ),
    )

    def __init__(self, values: Mapping[str, str], *, timeout: float) -> None:
        self.url = values["url"].rstrip("/")
        self.auth = (values["login"], values["password"])
        self.entity_id = values.get("entity_id", "")
        self.timeout = timeout
        self.session = requests.Session()

    @classmethod
    def from_config(cls, config: Mapping[str, str], *, timeout: float = 30) -> Self:
        return cls(required(config, cls.settings), timeout=timeout)

    def _get(self, path: str, params: Mapping[str, str | int] | None = None) -> Any:
        response = http(
            "GET",
            f"{self.url}/api/v2{path}",
            service=SERVICE,
            timeout=self.timeout,
            session=self.session,
            auth=self.auth,
            params=params,
            headers={"Accept": "application/json"},
        )
        try:
            return response.json()
        except ValueError as exc:
            raise UnrecoverableError(
                _("Pastell a renvoyé une réponse illisible : l'adresse est-elle la bonne ?"),
                detail=response.text[:4000],
            ) from exc

    def check(self) -> str:
        version = self._get("/version")
        if not isinstance(version, dict) or not version.get("version"):
            raise UnrecoverableError(
                _("Pastell a répondu, mais sans numéro de version : l'adresse est-elle la bonne ?")
            )
        entities = self.entities()
        message = _("Connexion réussie à Pastell %(version)s : %(count)s entité(s) visible(s).") % {
            "version": version["version"],
            "count": len(entities),
        }
        if not self.entity_id:
            return message
        entity = next((e for e in entities if e["id_e"] == self.entity_id), None)
        if entity is None:
            raise UnrecoverableError(
                _("Ce compte Pastell ne voit pas l'entité %(id_e)s : vérifiez l'identifiant de l'entité.")
                % {"id_e": self.entity_id}
            )
        return message + " " + _("Entité de l'adhérent : %(name)s.") % {"name": entity["denomination"]}

    def entities(self) -> list[Mapping[str, str]]:
        """The entities the account sees."""
        rows = self._get("/entite")
        if not isinstance(rows, list):
            raise UnrecoverableError(_("Pastell a renvoyé une liste d'entités inattendue."))
        return [_strings(row, ENTITY_FIELDS) for row in rows if isinstance(row, dict)]

    def documents(self, entity_id: str, *, since: str = "") -> list[Mapping[str, str]]:
        """The entity's documents whose last action is on or after `since` (ISO date), every page read."""
        result: list[Mapping[str, str]] = []
        offset = 0
        while True:
            params: dict[str, str | int] = {"offset": offset, "limit": PAGE_SIZE}
            if since:
                params["last_state_begin"] = since
            rows = self._get(f"/entite/{quote(entity_id, safe='')}/document", params)
            if not isinstance(rows, list):
                raise UnrecoverableError(_("Pastell a renvoyé une liste de documents inattendue."))
            result += [_strings(row, DOCUMENT_FIELDS) for row in rows if isinstance(row, dict)]
            if len(rows) < PAGE_SIZE:
                return result
            offset += PAGE_SIZE


def _strings(row: Mapping[str, Any], fields: tuple[str, ...]) -> dict[str, str]:
    return {name: "" if row.get(name) is None else str(row[name]) for name in fields}
