"""A local Pastell speaking the read side of its REST API v2 on loopback, for the supervision adapter and the demo.

What it answers, as Pastell 4 does (shapes from Pastell's API documentation and MegActe, its client):
- HTTP basic authentication with the user's login and password; 401 otherwise;
- `GET /api/v2/version`: the version;
- `GET /api/v2/entite`: the entities the user sees (`id_e`, `denomination`, `siren`, `type`,
  `entite_mere`, `centre_de_gestion`);
- `GET /api/v2/entite/{id_e}/document`: the entity's documents, newest action first, with `type`,
  `lastetat`, `last_state_begin` filters and `offset`/`limit` paging (100 by default) — each row with
  `id_d`, `id_e`, `role`, `last_action`, `last_action_date`, `type`, `creation`, `modification`,
  `titre`, `denomination`, `entite_base`. An entity the user does not see gives 403 with Pastell's
  `{"status": "error", "error-message": …}`.

The data is a fixed, seeded set (two entities, a few acts and Hélios files in various states);
`add_document()` and `act(id_d, action)` change it. For the demo, documents in a waiting action move
on by themselves after `auto_after` listings (verif-iparapheur → recu-iparapheur, verif-tdt →
acquiter-tdt, verif-sae → accepter-sae).
"""

from __future__ import annotations

import base64
import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from mutualis.flows.localservers.loopback import LoopbackHandler, LoopbackServer, main, route, start

DEMO_LOGIN = "admin"
DEMO_PASSWORD = "secret"  # noqa: S105 - the local server's account, worthless anywhere else
VERSION = "4.1.6"
# Actions waiting for a remote service, and where they end when it answers.
NEXT_ACTION = {"verif-iparapheur": "recu-iparapheur", "verif-tdt": "acquiter-tdt", "verif-sae": "accepter-sae"}
# Dates are counted from a fixed instant, one minute per change, so every answer is deterministic.
CLOCK_START = datetime(2026, 1, 5, 9, 0)  # noqa: DTZ001 - Pastell's API gives local wall-clock dates


@dataclass
class Entity:
    id_e: str
    denomination: str
    siren: str
    type: str = "collectivite"
    entite_mere: str = "0"


@dataclass
class Document:
    id_d: str
    id_e: str
    type: str
    titre: str
    last_action: str
    creation: str
    last_action_date: str


SEED_ENTITIES = (
    Entity("1", "Syndicat mixte de démonstration", "200000001", type="centre_de_gestion"),
    Entity("2", "Commune de Villeneuve", "210000002", entite_mere="1"),
    Entity("3", "Commune de Montfort", "210000003", entite_mere="1"),
)
SEED_DOCUMENTS = (
    ("2", "actes-generique", "DEL2026_001 Budget primitif", "termine"),
    ("2", "actes-generique", "DEL2026_002 Tarifs de la cantine", "acquiter-tdt"),
    ("2", "actes-generique", "AR2026_003 Arrêté de voirie", "verif-iparapheur"),
    ("2", "actes-generique", "DEL2026_004 Subvention", "send-tdt-erreur"),
    ("2", "helios-generique", "PES budget principal janvier", "verif-tdt"),
    ("3", "actes-generique", "DEL2026_010 Urbanisme", "rejet-iparapheur"),
    ("3", "document-a-signer", "Convention de mise à disposition", "verif-sae"),
)


class PastellServer(LoopbackServer):
    def __init__(
        self, port: int = 0, *, auto_after: int | None = None, login: str = DEMO_LOGIN, password: str = DEMO_PASSWORD
    ) -> None:
        super().__init__(PastellHandler, port)
        self.auto_after = auto_after
        self.credentials = f"{login}:{password}"
        self.entities = {e.id_e: e for e in SEED_ENTITIES}
        self.documents: dict[str, Document] = {}
        self.listings = 0
        self._ticks = itertools.count(0)
        self._ids = itertools.count(1)
        for id_e, type_, titre, action in SEED_DOCUMENTS:
            self.add_document(id_e, type_, titre, action)

    def _now(self) -> str:
        return (CLOCK_START + timedelta(minutes=next(self._ticks))).isoformat(sep=" ")

    def add_document(self, id_e: str, type_: str, titre: str, last_action: str = "creation") -> str:
        with self.lock:
            id_d = f"D{next(self._ids):06d}"
            now = self._now()
            self.documents[id_d] = Document(id_d, id_e, type_, titre, last_action, now, now)
        return id_d

    def act(self, id_d: str, action: str) -> None:
        """Append `action` to the document's history: it becomes its last action (its state)."""
        with self.lock:
            document = self.documents[id_d]
            document.last_action, document.last_action_date = action, self._now()


class PastellHandler(LoopbackHandler):
    server: PastellServer
    routes = (
        route("GET", r"/api/v2/version", "version"),
        route("GET", r"/api/v2/entite", "entity_list"),
        route("GET", r"/api/v2/entite/(?P<id_e>[^/]+)/document", "document_list"),
    )

    def error(self, message: str, status: int) -> None:
        self.send_json({"status": "error", "error-message": message}, status=status)

    def authorized(self) -> bool:
        expected = "Basic " + base64.b64encode(self.server.credentials.encode("utf-8")).decode("ascii")
        if self.headers.get("Authorization", "") == expected:
            return True
        self.error("Accès interdit", 401)
        return False

    def version(self) -> None:
        self.send_json({"version": VERSION, "revision": "local", "version_complete": f"Version {VERSION} (local)"})

    def entity_list(self) -> None:
        with self.server.lock:
            rows = [vars(entity) | {"centre_de_gestion": "0"} for entity in self.server.entities.values()]
        self.send_json(rows)

    def document_list(self, id_e: str) -> None:
        server = self.server
        try:
            offset, limit = int(self.query.get("offset", 0)), int(self.query.get("limit", 100))
        except ValueError:
            self.error("offset et limit doivent être des entiers", 400)
            return
        with server.lock:
            entity = server.entities.get(id_e)
            if entity is None:
                self.error(f"Acces interdit id_e={id_e}", 403)
                return
            server.listings += 1
            if server.auto_after and server.listings >= server.auto_after:
                for document in server.documents.values():
                    if document.last_action in NEXT_ACTION:
                        server.act(document.id_d, NEXT_ACTION[document.last_action])
            rows = [
                d
                for d in server.documents.values()
                if d.id_e == id_e
                and self.query.get("type", d.type) == d.type
                and self.query.get("lastetat", d.last_action) == d.last_action
                and d.last_action_date >= self.query.get("last_state_begin", "")
            ]
            rows.sort(key=lambda d: (d.last_action_date, d.id_d), reverse=True)
            result = [_row(d, entity) for d in rows[offset : offset + limit]]
        self.send_json(result)


def _row(document: Document, entity: Entity) -> dict[str, Any]:
    return {
        "id_d": document.id_d,
        "id_e": document.id_e,
        "role": "editeur",
        "last_action": document.last_action,
        "last_action_date": document.last_action_date,
        "type": document.type,
        "creation": document.creation,
        "modification": document.last_action_date,
        "titre": document.titre,
        "denomination": entity.denomination,
        "entite_base": entity.denomination,
    }


def serve(port: int = 0, *, auto_after: int | None = None, **options: Any) -> tuple[PastellServer, Any, str]:
    """A running local Pastell: (server, thread, base URL)."""
    server = PastellServer(port, auto_after=auto_after, **options)
    thread, url = start(server)
    return server, thread, url


if __name__ == "__main__":
    main(
        "Pastell local (compte admin / secret)",
        lambda args: PastellServer(args.port, auto_after=args.auto_after or None),
    )
