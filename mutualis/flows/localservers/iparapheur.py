"""A local i-Parapheur v5 speaking its standard REST API on loopback, for the adapter's tests and the demo.

What it answers, as i-Parapheur 5 does (shapes read from Libriciel's published client and Pastell's):
- `POST /auth/realms/{realm}/protocol/openid-connect/token` (Keycloak): password or client_credentials
  grant, a bearer token in JSON; bad credentials give 401 `invalid_grant`/`invalid_client`;
- `GET /api/standard/v1/tenant`, `…/tenant/{t}/desk`: pages of `{id, name}`;
- `POST /api/standard/v1/tenant/{t}/desk/{d}/folder`: multipart `folder` (PREMIS v3 XML, type, subtype,
  main-document flags in significantProperties) + `documents` files, `auto_start` (default true);
- `GET …/desk/{d}/{state}` (DRAFT, RETRIEVABLE, PENDING, FINISHED, REJECTED): a page of folders with
  their metadata, which is how a client finds the folder it created before;
- `GET …/folder/{f}` (its steps), `PUT …/folder/{f}/task/{task}/start` (a draft sent on its way);
- `GET …/folder/{f}/premis`: the folder's PREMIS summary, its events last (START, VISA, SIGNATURE,
  then ARCHIVE when finished, or REJECT with the signatory's annotation);
- `GET …/folder/{f}/zip`: signed documents, annexes, the bordereau and the PREMIS file;
- `DELETE …/folder/{f}`: drafts, rejected and finished folders only, as the standard API allows.

The signatory acts by `sign(folder_id)` / `refuse(folder_id, annotation)`, or by itself after
`auto_after` PREMIS polls (the demo), refusing the folders whose name contains « REFUS ».
"""

from __future__ import annotations

import io
import itertools
import zipfile
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from mutualis.flows.localservers.loopback import LoopbackHandler, LoopbackServer, main, route, start

PREMIS_NS = "http://www.loc.gov/premis/v3"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
XSI_TYPE = f"{{{XSI_NS}}}type"
RESERVED = "i_Parapheur_reserved_"
API = r"/api/standard/v1/tenant/(?P<tenant>[^/]+)/desk/(?P<desk>[^/]+)"
STATES = ("DRAFT", "RETRIEVABLE", "PENDING", "FINISHED", "REJECTED")
# A fixed instant keeps every answer byte-for-byte deterministic (events are ordered by their sequence).
EVENT_TIME = "2026-01-05T10:00:00.000+01:00"
# The local server's accounts: known to the demo's connector instances, worthless anywhere else.
DEMO_USERNAME = "mutualis"
DEMO_PASSWORD = "secret"  # noqa: S105
DEMO_CLIENT_ID = "ipcore-web"
DEMO_CLIENT_SECRET = "client-secret"  # noqa: S105


def tiny_pdf(lines: list[str]) -> bytes:
    """A valid one-page PDF showing `lines` (Helvetica, Latin-1): the bordereau the server hands back."""
    text = "BT /F1 11 Tf 50 800 Td 14 TL " + " ".join(
        "({}) '".format(line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")) for line in lines
    )
    stream = text.encode("latin-1", "replace") + b" ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def signed(content: bytes, folder_id: str) -> bytes:
    """The document as the signatory returns it: an incremental update noting the signature (PAdES-like)."""
    return content + f"\n% i-Parapheur local : signe, dossier {folder_id}\n%%EOF\n".encode("ascii")


@dataclass
class Document:
    id: str
    name: str
    content: bytes
    main: bool


@dataclass
class Folder:
    id: str
    tenant: str
    desk: str
    name: str
    type_: str
    subtype: str
    metadata: dict[str, str]
    documents: list[Document]
    state: str = "DRAFT"  # DRAFT → RETRIEVABLE (on its way) → FINISHED | REJECTED
    events: list[tuple[str, str, str]] = field(default_factory=list)  # (type, agent, annotation)
    polls: int = 0
    start_task: str = ""


class IparapheurServer(LoopbackServer):
    def __init__(
        self,
        port: int = 0,
        *,
        auto_after: int | None = None,
        realm: str = "api",
        username: str = DEMO_USERNAME,
        password: str = DEMO_PASSWORD,
        client_id: str = DEMO_CLIENT_ID,
        client_secret: str = DEMO_CLIENT_SECRET,
        tenants: dict[str, tuple[str, ...]] | None = None,
    ) -> None:
        super().__init__(IparapheurHandler, port)
        self.auto_after = auto_after
        self.realm = realm
        self.username = username
        self.password = password
        self.client_id = client_id
        self.client_secret = client_secret
        self.tenants = tenants or {"tenant-1": ("desk-1",)}
        self.folders: dict[str, Folder] = {}
        self.tokens: set[str] = set()
        self._ids = itertools.count(1)

    def next_id(self, prefix: str) -> str:
        return f"{prefix}-{next(self._ids):04d}"

    def sign(self, folder_id: str) -> None:
        with self.lock:
            folder = self.folders[folder_id]
            folder.events += [("SIGNATURE", "Maire", ""), ("ARCHIVE", "i-Parapheur", "")]
            folder.state = "FINISHED"
            for document in folder.documents:
                if document.main:
                    document.content = signed(document.content, folder.id)

    def refuse(self, folder_id: str, annotation: str = "Refusé par le signataire") -> None:
        with self.lock:
            folder = self.folders[folder_id]
            folder.events.append(("REJECT", "Maire", annotation))
            folder.state = "REJECTED"

    def expire_tokens(self) -> None:
        """Every token handed out so far stops working, as when Keycloak's access tokens expire."""
        with self.lock:
            self.tokens.clear()


class IparapheurHandler(LoopbackHandler):
    server: IparapheurServer
    routes = (
        route("POST", r"/auth/realms/(?P<realm>[^/]+)/protocol/openid-connect/token", "token"),
        route("GET", r"/api/standard/v1/tenant", "tenant_list"),
        route("GET", r"/api/standard/v1/tenant/(?P<tenant>[^/]+)/desk", "desk_list"),
        route("POST", API + r"/folder", "folder_create"),
        route("GET", API + r"/folder/(?P<folder>[^/]+)", "folder_get"),
        route("PUT", API + r"/folder/(?P<folder>[^/]+)/task/(?P<task>[^/]+)/start", "folder_start"),
        route("GET", API + r"/folder/(?P<folder>[^/]+)/premis", "folder_premis"),
        route("GET", API + r"/folder/(?P<folder>[^/]+)/zip", "folder_zip"),
        route("DELETE", API + r"/folder/(?P<folder>[^/]+)", "folder_delete"),
        route("GET", API + r"/(?P<state>DRAFT|RETRIEVABLE|PENDING|FINISHED|REJECTED|LATE|DELEGATED)", "folder_list"),
    )

    def authorized(self) -> bool:
        if self.path.startswith("/auth/"):
            return True
        header = self.headers.get("Authorization", "")
        with self.server.lock:
            ok = header.startswith("Bearer ") and header[7:] in self.server.tokens
        if not ok:
            self.send_json({"error": "unauthorized", "message": "Jeton absent, invalide ou expiré"}, status=401)
        return ok

    # Keycloak

    def token(self, realm: str) -> None:
        server = self.server
        data = self.form()
        grant = data.get("grant_type", "")
        if realm != server.realm:
            self.send_json({"error": "Realm does not exist"}, status=404)
            return
        if grant == "password":
            ok = (
                data.get("client_id") == server.client_id
                and data.get("username") == server.username
                and data.get("password") == server.password
            )
            error = ("invalid_grant", "Invalid user credentials")
        elif grant == "client_credentials":
            ok = data.get("client_id") == server.client_id and data.get("client_secret") == server.client_secret
            error = ("invalid_client", "Invalid client or Invalid client credentials")
        else:
            self.send_json({"error": "unsupported_grant_type"}, status=400)
            return
        if not ok:
            self.send_json({"error": error[0], "error_description": error[1]}, status=401)
            return
        with server.lock:
            token = server.next_id("token")
            server.tokens.add(token)
        self.send_json(
            {
                "access_token": token,
                "expires_in": 300,
                "token_type": "Bearer",
                "not-before-policy": 0,
                "scope": "profile",
            }
        )

    # Tenants and desks

    def page(self, content: list[dict[str, Any]]) -> None:
        page, size = int(self.query.get("page", 0)), int(self.query.get("size", 10))
        chunk = content[page * size : (page + 1) * size]
        self.send_json(
            {
                "content": chunk,
                "totalElements": len(content),
                "totalPages": (len(content) + size - 1) // size,
                "number": page,
                "size": size,
                "numberOfElements": len(chunk),
                "first": page == 0,
                "last": (page + 1) * size >= len(content),
                "empty": not chunk,
            }
        )

    def tenant_list(self) -> None:
        self.page([{"id": t, "name": f"Entité {t}"} for t in sorted(self.server.tenants)])

    def desk_list(self, tenant: str) -> None:
        if tenant not in self.server.tenants:
            self.send_json({"message": "Entité inconnue"}, status=404)
            return
        self.page([{"id": d, "name": f"Bureau {d}"} for d in self.server.tenants[tenant]])

    # Folders

    def _desk_ok(self, tenant: str, desk: str) -> bool:
        if desk in self.server.tenants.get(tenant, ()):
            return True
        self.send_json({"message": "Entité ou bureau inconnu"}, status=404)
        return False

    def _folder(self, tenant: str, desk: str, folder_id: str) -> Folder | None:
        folder = self.server.folders.get(folder_id)
        if folder is None or folder.tenant != tenant or folder.desk != desk:
            self.send_json({"message": "Dossier introuvable"}, status=404)
            return None
        return folder

    def folder_create(self, tenant: str, desk: str) -> None:
        if not self._desk_ok(tenant, desk):
            return
        parts = self.multipart()
        premis_parts = [p for p in parts if p.name == "folder"]
        files = [p for p in parts if p.name == "documents"]
        if len(premis_parts) != 1 or not files:
            self.send_json({"message": "Le fichier PREMIS « folder » et au moins un document sont requis"}, status=400)
            return
        try:
            description = parse_creation_premis(premis_parts[0].content)
        except ValueError as exc:
            self.send_json({"message": str(exc)}, status=400)
            return
        main_names = description["main"]
        names = [f.filename for f in files]
        missing = [name for name in main_names if name not in names]
        if missing or not main_names:
            self.send_json({"message": f"Document principal absent des fichiers envoyés : {missing}"}, status=400)
            return
        auto_start = self.query.get("auto_start", _part_text(parts, "auto_start", "true")).lower() != "false"
        server = self.server
        with server.lock:
            folder = Folder(
                id=server.next_id("folder"),
                tenant=tenant,
                desk=desk,
                name=description["name"],
                type_=description["type"],
                subtype=description["subtype"],
                metadata=description["metadata"],
                documents=[
                    Document(
                        id=server.next_id("doc"), name=f.filename, content=f.content, main=f.filename in main_names
                    )
                    for f in files
                ],
                start_task=server.next_id("task"),
            )
            folder.events.append(("CREATE", "mutualis", ""))
            if auto_start:
                _start(folder)
            server.folders[folder.id] = folder
        self.send_json(_representation(folder), status=201)

    def folder_list(self, tenant: str, desk: str, state: str) -> None:
        if not self._desk_ok(tenant, desk):
            return
        with self.server.lock:
            folders = [
                f
                for f in self.server.folders.values()
                if f.tenant == tenant and f.desk == desk and f.state == state
                if self.query.get("typeId", f.type_) == f.type_ and self.query.get("subtypeId", f.subtype) == f.subtype
            ]
            self.page([_representation(f) for f in folders])

    def folder_get(self, tenant: str, desk: str, folder: str) -> None:
        with self.server.lock:
            found = self._folder(tenant, desk, folder)
            if found is None:
                return
            data = _representation(found)
            data["stepList"] = [
                {
                    "id": found.start_task,
                    "action": "START",
                    "state": "CURRENT" if found.state == "DRAFT" else "VALIDATED",
                },
                {"id": f"{found.id}-sign", "action": "SIGNATURE", "state": _sign_state(found)},
            ]
            data["documentList"] = [{"id": d.id, "name": d.name, "isMainDocument": d.main} for d in found.documents]
        self.send_json(data)

    def folder_start(self, tenant: str, desk: str, folder: str, task: str) -> None:
        with self.server.lock:
            found = self._folder(tenant, desk, folder)
            if found is None:
                return
            if task != found.start_task or found.state != "DRAFT":
                self.send_json({"message": "Cette tâche n'est pas à réaliser"}, status=409)
                return
            _start(found)
        self.send_empty()

    def folder_premis(self, tenant: str, desk: str, folder: str) -> None:
        server = self.server
        with server.lock:
            found = self._folder(tenant, desk, folder)
            if found is None:
                return
            if found.state == "RETRIEVABLE":
                found.polls += 1
                if server.auto_after and found.polls >= server.auto_after:
                    if "REFUS" in found.name.upper():
                        server.refuse(found.id, "Refusé : pièce manquante")
                    else:
                        server.sign(found.id)
            content = premis_summary(found)
        self.send_bytes(content, content_type="application/xml")

    def folder_zip(self, tenant: str, desk: str, folder: str) -> None:
        with self.server.lock:
            found = self._folder(tenant, desk, folder)
            if found is None:
                return
            if found.state != "FINISHED":
                self.send_json({"message": "Le dossier n'est pas terminé"}, status=409)
                return
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w") as archive:
                for document in found.documents:
                    folder_name = "Documents principaux" if document.main else "Annexes"
                    _write(archive, f"{folder_name}/{document.name}", document.content)
                _write(archive, f"{found.name}_bordereau.pdf", bordereau(found))
                _write(archive, "i_Parapheur_internal_premis.xml", premis_summary(found))
        self.send_bytes(buffer.getvalue(), content_type="application/octet-stream")

    def folder_delete(self, tenant: str, desk: str, folder: str) -> None:
        with self.server.lock:
            found = self._folder(tenant, desk, folder)
            if found is None:
                return
            if found.state not in ("DRAFT", "FINISHED", "REJECTED"):
                self.send_json(
                    {"message": "Un dossier en cours ne peut être supprimé que par un administrateur"}, status=403
                )
                return
            del self.server.folders[found.id]
        self.send_empty()


def _part_text(parts: list[Any], name: str, default: str) -> str:
    for part in parts:
        if part.name == name:
            return str(part.content.decode("utf-8"))
    return default


def _start(folder: Folder) -> None:
    folder.state = "RETRIEVABLE"
    folder.events += [("START", "mutualis", ""), ("VISA", "Directeur général des services", "")]


def _sign_state(folder: Folder) -> str:
    return {"FINISHED": "VALIDATED", "REJECTED": "REJECTED", "RETRIEVABLE": "CURRENT"}.get(folder.state, "UPCOMING")


def _representation(folder: Folder) -> dict[str, Any]:
    return {
        "id": folder.id,
        "name": folder.name,
        "dueDate": None,
        "metadata": dict(folder.metadata),
        "typeId": folder.type_,
        "subtypeId": folder.subtype,
        "state": folder.state,
    }


def _write(archive: zipfile.ZipFile, name: str, content: bytes) -> None:
    # A fixed date keeps the ZIP identical from one call to the next.
    archive.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 5, 10, 0, 0)), content)


def bordereau(folder: Folder) -> bytes:
    lines = [f"Bordereau de signature - dossier {folder.name}", f"Identifiant : {folder.id}"]
    lines += [f"{kind} - {agent} {annotation}".strip() for kind, agent, annotation in folder.events]
    return tiny_pdf(lines)


def _sub(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, f"{{{PREMIS_NS}}}{tag}")
    if text is not None:
        element.text = text
    return element


def _property(parent: etree._Element, kind: str, value: str) -> None:
    prop = _sub(parent, "significantProperties")
    _sub(prop, "significantPropertiesType", kind)
    _sub(prop, "significantPropertiesValue", value)


def premis_summary(folder: Folder) -> bytes:
    """The folder as i-Parapheur describes it: the entity, its files, then its events in order."""
    root = etree.Element(f"{{{PREMIS_NS}}}premis", nsmap={None: PREMIS_NS, "xsi": XSI_NS}, version="3.0")
    entity = _sub(root, "object")
    entity.set(XSI_TYPE, "intellectualEntity")
    identifier = _sub(entity, "objectIdentifier")
    _sub(identifier, "objectIdentifierType", "UUID")
    _sub(identifier, "objectIdentifierValue", folder.id)
    _property(entity, RESERVED + "type", folder.type_)
    _property(entity, RESERVED + "subtype", folder.subtype)
    for key, value in sorted(folder.metadata.items()):
        _property(entity, key, value)
    _sub(entity, "originalName", folder.name)
    for document in folder.documents:
        obj = _sub(root, "object")
        obj.set(XSI_TYPE, "file")
        identifier = _sub(obj, "objectIdentifier")
        _sub(identifier, "objectIdentifierType", "UUID")
        _sub(identifier, "objectIdentifierValue", document.id)
        level = _sub(obj, "preservationLevel")
        _sub(level, "preservationLevelValue", "mainDocument" if document.main else "annex")
        _sub(obj, "originalName", document.name)
    for number, (kind, agent, annotation) in enumerate(folder.events, start=1):
        event = _sub(root, "event")
        identifier = _sub(event, "eventIdentifier")
        _sub(identifier, "eventIdentifierType", "UUID")
        _sub(identifier, "eventIdentifierValue", f"{folder.id}-event-{number}")
        _sub(event, "eventType", kind)
        _sub(event, "eventDateTime", EVENT_TIME)
        if annotation:
            detail = _sub(event, "eventDetailInformation")
            _sub(detail, "eventDetail", annotation)
        outcome = _sub(event, "eventOutcomeInformation")
        _sub(outcome, "eventOutcome", "REJECTED" if kind == "REJECT" else "VALIDATED")
        agent_id = _sub(event, "linkingAgentIdentifier")
        _sub(agent_id, "linkingAgentIdentifierType", "name")
        _sub(agent_id, "linkingAgentIdentifierValue", agent)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def parse_creation_premis(content: bytes) -> dict[str, Any]:
    """Name, type, subtype, other metadata and main documents' names from a creation PREMIS; ValueError if wrong."""
    try:
        root = etree.fromstring(content, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        raise ValueError(f"PREMIS illisible : {exc}") from exc
    ns = {"p": PREMIS_NS}
    if root.tag != f"{{{PREMIS_NS}}}premis":
        raise ValueError("La racine doit être premis (PREMIS v3)")
    entities = root.xpath("p:object[@xsi:type='intellectualEntity']", namespaces={**ns, "xsi": XSI_NS})
    if len(entities) != 1:
        raise ValueError("Un et un seul objet intellectualEntity est attendu")
    entity = entities[0]
    props = {
        str(p.findtext("p:significantPropertiesType", namespaces=ns)): str(
            p.findtext("p:significantPropertiesValue", namespaces=ns) or ""
        )
        for p in entity.findall("p:significantProperties", namespaces=ns)
    }
    name = (entity.findtext("p:originalName", namespaces=ns) or "").strip()
    type_, subtype = props.pop(RESERVED + "type", ""), props.pop(RESERVED + "subtype", "")
    if not name or not type_ or not subtype:
        raise ValueError("Nom, type et sous-type du dossier sont requis")
    main = []
    for obj in root.xpath("p:object[@xsi:type='file']", namespaces={**ns, "xsi": XSI_NS}):
        flags = {
            p.findtext("p:significantPropertiesType", namespaces=ns): p.findtext(
                "p:significantPropertiesValue", namespaces=ns
            )
            for p in obj.findall("p:significantProperties", namespaces=ns)
        }
        if flags.get(RESERVED + "mainDocument") == "true":
            main.append((obj.findtext("p:originalName", namespaces=ns) or "").strip())
    metadata = {key: value for key, value in props.items() if not key.startswith(RESERVED)}
    return {"name": name, "type": type_, "subtype": subtype, "metadata": metadata, "main": main}


def serve(port: int = 0, *, auto_after: int | None = None, **options: Any) -> tuple[IparapheurServer, Any, str]:
    """A running local i-Parapheur: (server, thread, base URL)."""
    server = IparapheurServer(port, auto_after=auto_after, **options)
    thread, url = start(server)
    return server, thread, url


if __name__ == "__main__":
    main(
        "i-Parapheur v5 local (royaume « api », utilisateur mutualis / secret, entité tenant-1, bureau desk-1)",
        lambda args: IparapheurServer(args.port, auto_after=args.auto_after or None),
    )
