"""i-Parapheur v5 (REST, standard API) as the SignaturePort: a folder to sign, then its signed documents.

A bearer token comes from i-Parapheur's Keycloak (password grant for a user account, or client
credentials for a service client); the folder is created on the member's desk as PREMIS v3 metadata
plus the files, started at once, then polled through its PREMIS summary: ARCHIVE means signed and
finished (the ZIP gives the signed documents and the bordereau: proofs `signe_<name>` and
`bordereau.pdf`), REJECT/DELETE means refused (the signatory's annotation is the reason). The
idempotency key travels in the folder's metadata, and the desk's folders are searched for it before
creating, so a job run twice never creates two folders.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from typing import Any, Self
from urllib.parse import quote

import requests
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from lxml import etree

from mutualis.flows.adapters.base import Setting, http, register, required
from mutualis.flows.ports import FileToSend, Outcome, RemoteState, UnrecoverableError

PREMIS_NS = "http://www.loc.gov/premis/v3"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
RESERVED = "i_Parapheur_reserved_"
# The folder's metadata key holding the engine's idempotency key (a metadata i-Parapheur keeps as is).
KEY_METADATA = "mutualis_idempotency_key"
# Where a folder we created may be, seen from the emitting desk.
LOOKUP_STATES = ("RETRIEVABLE", "DRAFT", "PENDING", "FINISHED", "REJECTED")
DONE_EVENTS = {"ARCHIVE"}
REJECTED_EVENTS = {"REJECT", "DELETE"}
PAGE_SIZE = 50
SERVICE = "i-Parapheur"


def creation_premis(
    *, title: str, type_: str, subtype: str, main: FileToSend, attachments: tuple[FileToSend, ...], key: str
) -> bytes:
    """The `folder` part of a creation: PREMIS v3, the type, subtype and key on the entity, the main file flagged."""
    nsmap = {None: PREMIS_NS, "xsi": XSI_NS}
    root = etree.Element(f"{{{PREMIS_NS}}}premis", nsmap=nsmap, version="3.0")

    def add(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
        element = etree.SubElement(parent, f"{{{PREMIS_NS}}}{tag}")
        element.text = text
        return element

    def prop(parent: etree._Element, kind: str, value: str) -> None:
        element = add(parent, "significantProperties")
        add(element, "significantPropertiesType", kind)
        add(element, "significantPropertiesValue", value)

    entity = add(root, "object")
    entity.set(f"{{{XSI_NS}}}type", "intellectualEntity")
    prop(entity, RESERVED + "type", type_)
    prop(entity, RESERVED + "subtype", subtype)
    prop(entity, KEY_METADATA, key)
    add(entity, "originalName", title)
    for file, is_main in [(main, True), *((a, False) for a in attachments)]:
        obj = add(root, "object")
        obj.set(f"{{{XSI_NS}}}type", "file")
        prop(obj, RESERVED + "mainDocument", "true" if is_main else "false")
        add(obj, "originalName", file.name)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def last_event(premis: bytes) -> tuple[str, str]:
    """The type and annotation of the folder's last event in its PREMIS summary."""
    try:
        root = etree.fromstring(premis, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        raise UnrecoverableError(_("i-Parapheur a renvoyé un résumé PREMIS illisible."), detail=str(exc)) from exc
    ns = {"p": PREMIS_NS}
    events = root.findall("p:event", namespaces=ns)
    if not events:
        raise UnrecoverableError(_("Le résumé PREMIS d'i-Parapheur ne contient aucun événement."))
    event = events[-1]
    kind = (event.findtext("p:eventType", namespaces=ns) or "").strip()
    annotation = " ".join(
        (text or "").strip() for text in event.xpath("p:eventDetailInformation/p:eventDetail/text()", namespaces=ns)
    )
    return kind, annotation.strip()


@register
class IparapheurSignature:
    """SignaturePort on i-Parapheur 5's standard REST API."""

    kind = "iparapheur"
    port = "signature"
    label = gettext_lazy("i-Parapheur 5 (signature)")
    settings = (
        Setting(
            "url", gettext_lazy("Adresse d'i-Parapheur"), help=gettext_lazy("Par exemple https://parapheur.exemple.fr")
        ),
        Setting("realm", gettext_lazy("Royaume Keycloak"), required=False, help=gettext_lazy("« api » si vide")),
        Setting("client_id", gettext_lazy("Client Keycloak")),
        Setting("client_secret", gettext_lazy("Secret du client"), secret=True, required=False),
        Setting("username", gettext_lazy("Identifiant"), required=False),
        Setting(
            "password",
            gettext_lazy("Mot de passe"),
            secret=True,
            required=False,
            help=gettext_lazy("Avec un identifiant : compte utilisateur ; sans : le secret du client est utilisé."),
        ),
        Setting("tenant_id", gettext_lazy("Identifiant de l'entité (tenant)")),
        Setting("desk_id", gettext_lazy("Identifiant du bureau émetteur")),
        Setting(
            "type",
            gettext_lazy("Type de dossier par défaut"),
            required=False,
            help=gettext_lazy("Utilisé quand le document ne précise pas le sien."),
        ),
        Setting("subtype", gettext_lazy("Sous-type de dossier par défaut"), required=False),
    )

    def __init__(self, values: Mapping[str, str], *, timeout: float) -> None:
        self.url = values["url"].rstrip("/")
        self.realm = values.get("realm") or "api"
        self.client_id = values["client_id"]
        self.client_secret = values.get("client_secret", "")
        self.username = values.get("username", "")
        self.password = values.get("password", "")
        self.tenant = values["tenant_id"]
        self.desk = values["desk_id"]
        self.default_type = values.get("type", "")
        self.default_subtype = values.get("subtype", "")
        self.timeout = timeout
        self.session = requests.Session()
        self._token = ""

    @classmethod
    def from_config(cls, config: Mapping[str, str], *, timeout: float = 30) -> Self:
        values = required(config, cls.settings)
        if not values["username"] and not values["client_secret"]:
            raise UnrecoverableError(_("Indiquez un identifiant et son mot de passe, ou le secret du client."))
        return cls(values, timeout=timeout)

    # Authentication

    def _fetch_token(self) -> str:
        form = {"client_id": self.client_id}
        if self.username:
            form.update(grant_type="password", username=self.username, password=self.password)
            if self.client_secret:
                form["client_secret"] = self.client_secret
        else:
            form.update(grant_type="client_credentials", client_secret=self.client_secret)
        response = http(
            "POST",
            f"{self.url}/auth/realms/{quote(self.realm)}/protocol/openid-connect/token",
            service=SERVICE,
            timeout=self.timeout,
            session=self.session,
            data=form,
        )
        token = _json(response).get("access_token")
        if not isinstance(token, str) or not token:
            raise UnrecoverableError(_("Le serveur d'authentification d'i-Parapheur n'a pas donné de jeton."))
        return token

    def _call(self, method: str, path: str, *, accept: str = "application/json", **kwargs: Any) -> requests.Response:
        """An API call with the bearer token; a token refused once (expired) is fetched again, once."""
        statuses: list[int] = []

        def record(response: requests.Response, *args: Any, **kwargs: Any) -> None:
            statuses.append(response.status_code)

        for attempt in (1, 2):
            if not self._token:
                self._token = self._fetch_token()
            try:
                return http(
                    method,
                    f"{self.url}/api/standard/v1{path}",
                    service=SERVICE,
                    timeout=self.timeout,
                    session=self.session,
                    headers={"Authorization": f"Bearer {self._token}", "Accept": accept},
                    hooks={"response": record},
                    **kwargs,
                )
            except UnrecoverableError:
                if attempt == 1 and statuses and statuses[-1] == 401:
                    self._token = ""
                    continue
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    @property
    def _desk_path(self) -> str:
        return f"/tenant/{quote(self.tenant)}/desk/{quote(self.desk)}"

    # The port

    def check(self) -> str:
        """Authenticates, then checks that the tenant and the desk are visible to this account."""
        desks = _json(self._call("GET", f"/tenant/{quote(self.tenant)}/desk", params={"size": 100}))
        names = {d.get("id"): d.get("name", "") for d in desks.get("content", []) if isinstance(d, dict)}
        if self.desk not in names:
            raise UnrecoverableError(
                _("Connexion réussie, mais le bureau %(desk)s n'est pas visible dans l'entité %(tenant)s.")
                % {"desk": self.desk, "tenant": self.tenant}
            )
        return _("Connexion réussie à i-Parapheur : bureau « %(name)s ».") % {"name": names[self.desk]}

    def find(self, idempotency_key: str) -> tuple[str, str] | None:
        """The (folder id, state) already created on the desk with this key, if any."""
        for state in LOOKUP_STATES:
            page = 0
            while True:
                data = _json(self._call("GET", f"{self._desk_path}/{state}", params={"page": page, "size": PAGE_SIZE}))
                for folder in data.get("content", []):
                    metadata = folder.get("metadata") or {}
                    if metadata.get(KEY_METADATA) == idempotency_key:
                        return str(folder["id"]), state
                if data.get("last", True):
                    break
                page += 1
        return None

    def submit(
        self,
        *,
        title: str,
        main: FileToSend,
        attachments: tuple[FileToSend, ...],
        type_: str,
        subtype: str,
        idempotency_key: str,
    ) -> str:
        type_, subtype = type_ or self.default_type, subtype or self.default_subtype
        if not type_ or not subtype:
            raise UnrecoverableError(
                _("Ni le document ni le connecteur i-Parapheur n'indiquent le type et le sous-type du dossier.")
            )
        found = self.find(idempotency_key)
        if found is not None:
            folder_id, state = found
            if state == "DRAFT":
                self._start(folder_id)
            return folder_id
        premis = creation_premis(
            title=title, type_=type_, subtype=subtype, main=main, attachments=attachments, key=idempotency_key
        )
        files: list[tuple[str, tuple[str, bytes, str]]] = [("folder", ("premis.xml", premis, "application/xml"))]
        files += [("documents", (f.name, f.content, f.mime)) for f in (main, *attachments)]
        response = self._call("POST", f"{self._desk_path}/folder", params={"auto_start": "true"}, files=files)
        created = _json(response).get("id")
        if not created:
            raise UnrecoverableError(_("i-Parapheur n'a pas donné l'identifiant du dossier créé."))
        return str(created)

    def _start(self, folder_id: str) -> None:
        """A draft left by an interrupted creation is sent on its way through its START task."""
        folder = _json(self._call("GET", f"{self._desk_path}/folder/{quote(folder_id)}"))
        tasks = [s for s in folder.get("stepList", []) if s.get("action") == "START" and s.get("state") == "CURRENT"]
        if tasks:
            self._call("PUT", f"{self._desk_path}/folder/{quote(folder_id)}/task/{quote(str(tasks[0]['id']))}/start")

    def poll(self, remote_id: str) -> Outcome:
        folder = f"{self._desk_path}/folder/{quote(remote_id)}"
        premis = self._call("GET", f"{folder}/premis", accept="application/xml").content
        kind, annotation = last_event(premis)
        if kind in REJECTED_EVENTS:
            return Outcome(
                RemoteState.REJECTED,
                message=annotation or _("Dossier refusé dans i-Parapheur."),
                remote_status=kind,
            )
        if kind not in DONE_EVENTS:
            return Outcome(RemoteState.PENDING, message=_("En cours dans i-Parapheur (%s).") % kind, remote_status=kind)
        archive = self._call("GET", f"{folder}/zip", accept="application/octet-stream").content
        return Outcome(
            RemoteState.DONE,
            message=_("Dossier signé dans i-Parapheur."),
            remote_status=kind,
            proofs=signed_proofs(archive),
        )

    def cancel(self, remote_id: str) -> None:
        self._call("DELETE", f"{self._desk_path}/folder/{quote(remote_id)}")


def signed_proofs(archive: bytes) -> dict[str, bytes]:
    """From the folder's ZIP: `signe_<name>` per main document and `bordereau.pdf`.

    The annexes come back as they were sent and the PREMIS summary repeats what the bordereau shows:
    neither is a proof of this step.
    """
    proofs: dict[str, bytes] = {}
    try:
        with zipfile.ZipFile(io.BytesIO(archive)) as opened:
            for name in opened.namelist():
                directory, _sep, base = name.rpartition("/")
                if directory == "Documents principaux":
                    proofs[f"signe_{base}"] = opened.read(name)
                elif not directory and base.endswith("_bordereau.pdf"):
                    proofs["bordereau.pdf"] = opened.read(name)
    except zipfile.BadZipFile as exc:
        raise UnrecoverableError(_("L'archive ZIP renvoyée par i-Parapheur est illisible."), detail=str(exc)) from exc
    if not any(key.startswith("signe_") for key in proofs) or "bordereau.pdf" not in proofs:
        raise UnrecoverableError(_("L'archive d'i-Parapheur ne contient pas le document signé et le bordereau."))
    return proofs


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError as exc:
        raise UnrecoverableError(
            _("i-Parapheur a renvoyé une réponse illisible."), detail=response.text[:4000]
        ) from exc
    if not isinstance(data, dict):
        raise UnrecoverableError(_("i-Parapheur a renvoyé une réponse inattendue."), detail=response.text[:4000])
    return data
