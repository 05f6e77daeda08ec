"""A local i-Parapheur 4 speaking its SOAP 1.1 web service on loopback, for the adapter's tests and the demo.

One endpoint, `POST /ws-iparapheur`, HTTP basic authentication (`mutualis` / `secret`), the namespace
http://www.adullact.org/spring-ws/iparapheur/1.0. What it checks before answering, as a strict
i-Parapheur 4 would: `Content-Type: text/xml`, a SOAPAction header (`""`, as the WSDL declares it, or
the operation's name), a SOAP 1.1 Envelope whose Body holds one `<Operation>Request` of a known
operation; for CreerDossier the WSDL's elements only, each once, the required ones present (the
nillable ones may be `xsi:nil`), a known Visibilite, documents in base64 with their
`xmime:contentType`, DocAnnexe's children in order. A malformed request gets a SOAP Fault (HTTP 500);
a business refusal (unknown type or subtype, a DossierID already taken, an unknown folder) a
MessageRetour KO, as i-Parapheur does. Response shapes follow parapheur-v5's recorded i-Parapheur
answers (GetDossierResponse, GetHistoDossierResponse, GetListe…Response).

Operations: GetListeTypes, GetListeSousTypes, CreerDossier, GetHistoDossier, GetDossier,
ExercerDroitRemordDossier, ArchiverDossier, EffacerDossierRejete.

A folder's history: NonLu at its creation, Lu once the signatory opened it, then Signe and Archive
when signed, or RejetSignataire (RejetVisa…) with the annotation. The signatory acts by
`read(dossier_id)`, `sign(dossier_id)` / `reject(dossier_id, annotation)`, or by itself (the demo,
`auto_after`): it opens the folder at the first GetHistoDossier and signs at the `auto_after`-th,
refusing folders whose title contains « REFUS ». Without `auto_after`, asking for the history changes
nothing (the emitter reading its folder's history does not read the folder for the signatory).
`fault_next(n, message)` makes the next requests answer a SOAP Fault. GetDossier returns the
document signed (the original with a line appended, as a PAdES signature appends) and the bordereau,
a one-page PDF, as the last DocAnnexe; with `detached=True` the document comes back as sent beside a
detached SignatureDocPrincipal, as for a CMS signature. With `tls` (S²low's local TLS material) it serves
HTTPS and asks for a client certificate; with `login=""` the certificate alone authenticates.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import ssl
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lxml import etree

from mutualis.flows.localservers.iparapheur import signed, tiny_pdf
from mutualis.flows.localservers.loopback import LoopbackHandler, LoopbackServer, main, route, start

if TYPE_CHECKING:
    from mutualis.flows.localservers.s2low import Certificates

NS = "http://www.adullact.org/spring-ws/iparapheur/1.0"
SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
XMIME_NS = "http://www.w3.org/2005/05/xmlmime"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
PATH = "/ws-iparapheur"
OPERATIONS = (
    "GetListeTypes",
    "GetListeSousTypes",
    "CreerDossier",
    "GetHistoDossier",
    "GetDossier",
    "ExercerDroitRemordDossier",
    "ArchiverDossier",
    "EffacerDossierRejete",
)
# CreerDossierRequest is an xsd:all: any order, each element at most once.
CREER_REQUIRED = ("TypeTechnique", "SousType", "DossierID", "DocumentPrincipal", "Visibilite")
CREER_NILLABLE = (
    "VisuelPDF",
    "XPathPourSignatureXML",
    "MetaDataTdtACTES",
    "AnnotationPublique",
    "AnnotationPrivee",
    "DateLimite",
)
CREER_OPTIONAL = (
    "EmailEmetteur",
    "DossierTitre",
    "NomDocPrincipal",
    "SignatureDocPrincipal",
    "DocumentsAnnexes",
    "MetaData",
    "CircuitObligatoire",
)
DOC_ANNEXE = ("nom", "fichier", "mimetype", "encoding", "signature")
VISIBILITIES = ("PUBLIC", "SERVICE", "CONFIDENTIEL")
DEMO_LOGIN = "mutualis"
DEMO_PASSWORD = "secret"  # noqa: S105 - the local server's account, worthless anywhere else
DEMO_TYPES = {"ACTES": ("Délibération", "Arrêté"), "CONTRATS": ("Convention", "Marché")}
# A fixed first instant keeps the answers deterministic; each log entry is one minute after the previous.
FIRST_TIME = dt.datetime(2026, 1, 5, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))


class Fault(Exception):
    """A request i-Parapheur would not even read: answered with a SOAP Fault."""

    def __init__(self, message: str, code: str = "Client") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass
class Annexe:
    name: str
    content: bytes
    mimetype: str


@dataclass
class Dossier:
    id: str
    type_: str
    subtype: str
    title: str
    email: str
    visibility: str
    main_name: str
    main_content: bytes
    main_type: str
    annexes: list[Annexe]
    logs: list[tuple[str, str, str]] = field(default_factory=list)  # (status, who, annotation)
    polls: int = 0
    signed_content: bytes | None = None
    withdrawn: bool = False

    @property
    def status(self) -> str:
        return self.logs[-1][0]


class Iparapheur4Server(LoopbackServer):
    def __init__(
        self,
        port: int = 0,
        *,
        auto_after: int | None = None,
        login: str = DEMO_LOGIN,
        password: str = DEMO_PASSWORD,
        types: dict[str, tuple[str, ...]] | None = None,
        detached: bool = False,
        tls: Certificates | None = None,
    ) -> None:
        super().__init__(Iparapheur4Handler, port)
        self.auto_after = auto_after
        self.login = login
        self.password = password
        self.types = types or dict(DEMO_TYPES)
        self.detached = detached
        self.dossiers: dict[str, Dossier] = {}
        # Folders taken out of i-Parapheur: DossierID → "EFFACER", "ARCHIVER" or "EffacerDossierRejete".
        self.erased: dict[str, str] = {}
        # Every SOAP operation received, in order (beside `seen`, which has the HTTP requests).
        self.operations: list[str] = []
        self._faults: list[str] = []
        # With `tls` (s2low.make_certificates' material) it serves HTTPS and asks for a client certificate.
        self.tls_context: ssl.SSLContext | None = None
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.minimum_version = ssl.TLSVersion.TLSv1_2
            context.load_cert_chain(str(tls.server_cert), str(tls.server_key))
            context.load_verify_locations(str(tls.ca_file))
            context.verify_mode = ssl.CERT_REQUIRED
            self.tls_context = context

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"{'https' if self.tls_context else 'http'}://{host!s}:{port}"

    def finish_request(self, request: Any, client_address: Any) -> None:
        # The handshake runs in the request's own thread, so a slow client blocks no other.
        if self.tls_context is not None:
            try:
                request = self.tls_context.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                return  # no or untrusted client certificate: the client sees the handshake fail
        super().finish_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hung up (timeouts in tests) is not the server's error

    @property
    def endpoint(self) -> str:
        return self.url + PATH

    def fault_next(self, n: int = 1, message: str = "Erreur interne d'i-Parapheur") -> None:
        """The next `n` SOAP requests are answered with a Fault carrying `message`."""
        with self.lock:
            self._faults.extend([message] * n)

    def take_soap_fault(self, operation: str) -> str | None:
        with self.lock:
            self.operations.append(operation)
            return self._faults.pop(0) if self._faults else None

    def read(self, dossier_id: str) -> None:
        """The signatory opens the folder (Lu): the emitter's right of remorse is gone."""
        with self.lock:
            _read(self.dossiers[dossier_id])

    def sign(self, dossier_id: str) -> None:
        """The signatory signs: the folder reaches the end of its circuit (Archive)."""
        with self.lock:
            dossier = self.dossiers[dossier_id]
            _read(dossier)
            dossier.logs += [("Signe", "Maire", "Signé"), ("Archive", "Mutualis", "Circuit terminé")]
            if not self.detached:
                dossier.signed_content = signed(dossier.main_content, dossier.id)

    def reject(self, dossier_id: str, annotation: str = "Refusé", status: str = "RejetSignataire") -> None:
        """The signatory (or a visa, `RejetVisa`) refuses, with `annotation` as the reason."""
        with self.lock:
            dossier = self.dossiers[dossier_id]
            _read(dossier)
            dossier.logs.append((status, "Maire", annotation))


def _read(dossier: Dossier) -> None:
    if not any(status == "Lu" for status, _who, _annotation in dossier.logs):
        dossier.logs.append(("Lu", "Maire", ""))


def _element(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, f"{{{NS}}}{tag}")
    if text is not None:
        element.text = text
    return element


def _doc(parent: etree._Element, tag: str, content: bytes, content_type: str) -> None:
    element = _element(parent, tag, base64.b64encode(content).decode("ascii"))
    element.set(f"{{{XMIME_NS}}}contentType", content_type)


def _message_retour(parent: etree._Element, code: str, message: str, severity: str = "INFO") -> None:
    retour = _element(parent, "MessageRetour")
    _element(retour, "codeRetour", code)
    _element(retour, "message", message)
    _element(retour, "severite", severity)


def _response(operation: str) -> etree._Element:
    return etree.Element(f"{{{NS}}}{operation}Response", nsmap={None: NS, "xmime": XMIME_NS})


def _ko(operation: str, message: str) -> etree._Element:
    answer = _response(operation)
    _message_retour(answer, "KO", message, "ERROR")
    return answer


def soap_envelope(payload: etree._Element) -> bytes:
    root = etree.Element(f"{{{SOAP_NS}}}Envelope", nsmap={"S": SOAP_NS})
    etree.SubElement(root, f"{{{SOAP_NS}}}Header")
    etree.SubElement(root, f"{{{SOAP_NS}}}Body").append(payload)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def fault_envelope(code: str, message: str) -> bytes:
    root = etree.Element(f"{{{SOAP_NS}}}Envelope", nsmap={"SOAP-ENV": SOAP_NS})
    etree.SubElement(root, f"{{{SOAP_NS}}}Header")
    fault = etree.SubElement(etree.SubElement(root, f"{{{SOAP_NS}}}Body"), f"{{{SOAP_NS}}}Fault")
    etree.SubElement(fault, "faultcode").text = f"SOAP-ENV:{code}"
    faultstring = etree.SubElement(fault, "faultstring")
    faultstring.text = message
    faultstring.set("{http://www.w3.org/XML/1998/namespace}lang", "fr")
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def _local(element: etree._Element) -> str:
    if element.tag is etree.Comment or not isinstance(element.tag, str):
        return ""
    qname = etree.QName(element)
    if qname.namespace != NS:
        raise Fault(f"Validation error: élément {{{qname.namespace}}}{qname.localname} hors de l'espace de noms")
    return qname.localname


def _is_nil(element: etree._Element) -> bool:
    return element.get(f"{{{XSI_NS}}}nil") in ("true", "1")


def _base64(element: etree._Element, what: str) -> tuple[bytes, str]:
    """A TypeDoc's content and its xmime:contentType; a Fault when either is wrong."""
    content_type = element.get(f"{{{XMIME_NS}}}contentType", "")
    if not content_type:
        raise Fault(f"Validation error: {what} sans attribut xmime:contentType")
    try:
        content = base64.b64decode("".join((element.text or "").split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise Fault(f"Validation error: {what} n'est pas en base64 ({exc})") from exc
    return content, content_type


def _children(request: etree._Element) -> dict[str, etree._Element]:
    """The request's child elements by name; an unknown or repeated one is a Fault (xsd:all)."""
    allowed = {*CREER_REQUIRED, *CREER_NILLABLE, *CREER_OPTIONAL}
    found: dict[str, etree._Element] = {}
    for child in request:
        name = _local(child)
        if not name:
            continue
        if name not in allowed:
            raise Fault(f"Validation error: élément inattendu {name} dans CreerDossierRequest")
        if name in found:
            raise Fault(f"Validation error: élément {name} répété dans CreerDossierRequest")
        found[name] = child
    missing = [name for name in (*CREER_REQUIRED, *CREER_NILLABLE) if name not in found]
    if missing:
        raise Fault(f"Validation error: élément(s) requis absent(s) de CreerDossierRequest : {', '.join(missing)}")
    for name in CREER_NILLABLE:
        element = found[name]
        if _is_nil(element) and ((element.text or "").strip() or len(element)):
            raise Fault(f"Validation error: {name} est xsi:nil mais a un contenu")
    return found


def _annexes(element: etree._Element | None) -> list[Annexe]:
    if element is None:
        return []
    result = []
    for annexe in element:
        if _local(annexe) != "DocAnnexe":
            raise Fault("Validation error: DocumentsAnnexes ne contient que des DocAnnexe")
        names = [_local(child) for child in annexe if _local(child)]
        if names[:4] != list(DOC_ANNEXE[:4]) or any(name not in DOC_ANNEXE for name in names[4:]):
            raise Fault(
                f"Validation error: DocAnnexe attend nom, fichier, mimetype, encoding ; reçu {', '.join(names)}"
            )
        children = {_local(child): child for child in annexe}
        content, _content_type = _base64(children["fichier"], "DocAnnexe/fichier")
        result.append(
            Annexe(
                name=(children["nom"].text or "").strip(),
                content=content,
                mimetype=(children["mimetype"].text or "").strip(),
            )
        )
    return result


class Iparapheur4Handler(LoopbackHandler):
    server: Iparapheur4Server
    routes = (route("POST", PATH, "soap"),)

    def authorized(self) -> bool:
        if not self.server.login:  # the client certificate alone authenticates
            return True
        expected = f"{self.server.login}:{self.server.password}".encode()
        if self.headers.get("Authorization", "") == "Basic " + base64.b64encode(expected).decode("ascii"):
            return True
        body = b"<html><body><h1>HTTP Status 401 - Bad credentials</h1></body></html>"
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="iparapheur"')
        self.send_header("Content-Type", "text/html;charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        return False

    def soap(self) -> None:
        try:
            operation, request = self._request()
            message = self.server.take_soap_fault(operation)
            if message is not None:
                raise Fault(message, code="Server")
            with self.server.lock:
                answer = getattr(self, f"op_{operation}")(request)
        except Fault as fault:
            self.send_bytes(
                fault_envelope(fault.code, fault.message), content_type="text/xml; charset=utf-8", status=500
            )
            return
        self.send_bytes(soap_envelope(answer), content_type="text/xml; charset=utf-8")

    def _request(self) -> tuple[str, etree._Element]:
        """The operation and its request element, once the HTTP and SOAP envelopes are right."""
        content_type = self.headers.get("Content-Type", "")
        if not content_type.startswith("text/xml"):
            raise Fault(f"Content-Type {content_type or '(absent)'} : SOAP 1.1 attend text/xml")
        action = self.headers.get("SOAPAction")
        if action is None:
            raise Fault("En-tête SOAPAction absent")
        try:
            root = etree.fromstring(
                self.body, etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)
            )
        except etree.XMLSyntaxError as exc:
            raise Fault(f"XML mal formé : {exc}") from exc
        if etree.QName(root).localname != "Envelope":
            raise Fault("La racine doit être une Envelope SOAP")
        if etree.QName(root).namespace != SOAP_NS:
            raise Fault("Espace de noms de l'Envelope : SOAP 1.1 attendu", code="VersionMismatch")
        bodies = [child for child in root if child.tag == f"{{{SOAP_NS}}}Body"]
        if len(bodies) != 1:
            raise Fault("L'Envelope doit contenir un Body")
        payload = [child for child in bodies[0] if isinstance(child.tag, str)]
        if len(payload) != 1:
            raise Fault("Le Body doit contenir un seul élément")
        request = payload[0]
        qname = etree.QName(request)
        operation = qname.localname.removesuffix("Request")
        if qname.namespace != NS or not qname.localname.endswith("Request") or operation not in OPERATIONS:
            raise Fault(f"No endpoint mapping found for {{{qname.namespace}}}{qname.localname}")
        if action.strip().strip('"') not in ("", operation):
            raise Fault(f"SOAPAction « {action} » ne correspond pas à {qname.localname}")
        return operation, request

    # --- operations (under the server's lock) ---------------------------------------------------

    def op_GetListeTypes(self, request: etree._Element) -> etree._Element:  # noqa: N802 - the operation's name
        answer = _response("GetListeTypes")
        for name in sorted(self.server.types):
            _element(answer, "TypeTechnique", name)
        return answer

    def op_GetListeSousTypes(self, request: etree._Element) -> etree._Element:  # noqa: N802
        answer = _response("GetListeSousTypes")
        for name in sorted(self.server.types.get((request.text or "").strip(), ())):
            _element(answer, "SousType", name)
        return answer

    def op_CreerDossier(self, request: etree._Element) -> etree._Element:  # noqa: N802
        found = _children(request)

        def text(name: str) -> str:
            element = found.get(name)
            return (element.text or "").strip() if element is not None and not _is_nil(element) else ""

        visibility = text("Visibilite")
        if visibility not in VISIBILITIES:
            raise Fault(f"Validation error: Visibilite « {visibility} » hors de PUBLIC, SERVICE, CONFIDENTIEL")
        content, content_type = _base64(found["DocumentPrincipal"], "DocumentPrincipal")
        annexes = _annexes(found.get("DocumentsAnnexes"))
        type_, subtype, dossier_id = text("TypeTechnique"), text("SousType"), text("DossierID")
        server = self.server
        if type_ not in server.types:
            return _ko("CreerDossier", f"Type technique inconnu : {type_}")
        if subtype not in server.types[type_]:
            return _ko("CreerDossier", f"Sous-type inconnu pour le type {type_} : {subtype}")
        if not dossier_id:
            return _ko("CreerDossier", "Le DossierID est obligatoire")
        if dossier_id in server.dossiers or dossier_id in server.erased:
            return _ko("CreerDossier", f"Le dossier {dossier_id} existe déjà")
        if content_type == "application/pdf" and not content.startswith(b"%PDF"):
            return _ko("CreerDossier", "Le document principal n'est pas un PDF")
        title = text("DossierTitre") or dossier_id
        server.dossiers[dossier_id] = Dossier(
            id=dossier_id,
            type_=type_,
            subtype=subtype,
            title=title,
            email=text("EmailEmetteur"),
            visibility=visibility,
            main_name=text("NomDocPrincipal") or "document.pdf",
            main_content=content,
            main_type=content_type,
            annexes=annexes,
            logs=[("NonLu", "Mutualis", "Création de dossier")],
        )
        answer = _response("CreerDossier")
        _message_retour(answer, "OK", f"Dossier {title} soumis dans le circuit")
        return answer

    def _dossier(self, operation: str, request: etree._Element) -> Dossier | etree._Element:
        dossier_id = (request.text or "").strip()
        dossier = self.server.dossiers.get(dossier_id)
        return dossier if dossier is not None else _ko(operation, f"Dossier {dossier_id} inconnu")

    def op_GetHistoDossier(self, request: etree._Element) -> etree._Element:  # noqa: N802
        dossier = self._dossier("GetHistoDossier", request)
        if not isinstance(dossier, Dossier):
            return dossier
        server = self.server
        in_circuit = not dossier.withdrawn and dossier.status != "Archive" and not dossier.status.startswith("Rejet")
        if in_circuit and server.auto_after:
            # The demo's signatory opens the folder at the first poll and decides at the auto_after-th.
            dossier.polls += 1
            if dossier.polls >= server.auto_after:
                if "REFUS" in dossier.title.upper():
                    server.reject(dossier.id, "Refusé : pièce manquante")
                else:
                    server.sign(dossier.id)
            else:
                _read(dossier)
        answer = _response("GetHistoDossier")
        for number, (status, who, annotation) in enumerate(dossier.logs):
            log = _element(answer, "LogDossier")
            _element(log, "timestamp", (FIRST_TIME + dt.timedelta(minutes=number)).isoformat())
            _element(log, "nom", who)
            _element(log, "status", status)
            _element(log, "annotation", annotation)
            _element(log, "accessible", "OK")
        _message_retour(answer, "OK", "")
        return answer

    def op_GetDossier(self, request: etree._Element) -> etree._Element:  # noqa: N802
        dossier = self._dossier("GetDossier", request)
        if not isinstance(dossier, Dossier):
            return dossier
        answer = _response("GetDossier")
        _element(answer, "TypeTechnique", dossier.type_)
        _element(answer, "SousType", dossier.subtype)
        if dossier.email:
            _element(answer, "EmailEmetteur", dossier.email)
        _element(answer, "DossierID", dossier.id)
        _element(answer, "Visibilite", dossier.visibility)
        _element(answer, "DateLimite").set(f"{{{XSI_NS}}}nil", "true")
        _doc(answer, "DocPrincipal", dossier.signed_content or dossier.main_content, dossier.main_type)
        _element(answer, "NomDocPrincipal", dossier.main_name)
        finished = dossier.status == "Archive"
        if finished and self.server.detached:
            signature = b"local CMS signature " + hashlib.sha256(dossier.main_content).hexdigest().encode("ascii")
            _doc(answer, "SignatureDocPrincipal", signature, "application/pkcs7-signature")
        annexes = _element(answer, "DocumentsAnnexes")
        documents = [*dossier.annexes]
        if finished:
            documents.append(Annexe(f"{dossier.id}-bordereau.pdf", bordereau(dossier), "application/pdf"))
        for annexe in documents:
            element = _element(annexes, "DocAnnexe")
            _element(element, "nom", annexe.name)
            _doc(element, "fichier", annexe.content, annexe.mimetype)
            _element(element, "mimetype", annexe.mimetype)
            _element(element, "encoding", "UTF-8")
        _message_retour(answer, "OK", "")
        return answer

    def op_ExercerDroitRemordDossier(self, request: etree._Element) -> etree._Element:  # noqa: N802
        dossier = self._dossier("ExercerDroitRemordDossier", request)
        if not isinstance(dossier, Dossier):
            return dossier
        if dossier.withdrawn or dossier.status != "NonLu":
            return _ko("ExercerDroitRemordDossier", "Droit de remords impossible : le dossier a déjà été lu")
        dossier.withdrawn = True
        dossier.logs.append(("NonLu", "Mutualis", "Droit de remords exercé"))
        answer = _response("ExercerDroitRemordDossier")
        _message_retour(answer, "OK", f"Droit de remords exercé sur le dossier {dossier.id}")
        return answer

    def op_ArchiverDossier(self, request: etree._Element) -> etree._Element:  # noqa: N802
        children = {_local(child): child for child in request if _local(child)}
        if set(children) - {"DossierID", "ArchivageAction"} or "DossierID" not in children:
            raise Fault("Validation error: ArchiverDossierRequest attend DossierID et ArchivageAction")
        action = (children["ArchivageAction"].text or "").strip() if "ArchivageAction" in children else "ARCHIVER"
        if action not in ("ARCHIVER", "EFFACER"):
            raise Fault(f"Validation error: ArchivageAction « {action} » hors de ARCHIVER, EFFACER")
        dossier_id = (children["DossierID"].text or "").strip()
        dossier = self.server.dossiers.get(dossier_id)
        if dossier is None:
            return _ko("ArchiverDossier", f"Dossier {dossier_id} inconnu")
        if not dossier.withdrawn and dossier.status != "Archive":
            return _ko("ArchiverDossier", f"Le dossier {dossier_id} n'est pas en fin de circuit")
        del self.server.dossiers[dossier_id]
        self.server.erased[dossier_id] = action
        answer = _response("ArchiverDossier")
        _message_retour(answer, "OK", f"Dossier {dossier_id} {'effacé' if action == 'EFFACER' else 'archivé'}")
        return answer

    def op_EffacerDossierRejete(self, request: etree._Element) -> etree._Element:  # noqa: N802
        dossier = self._dossier("EffacerDossierRejete", request)
        if not isinstance(dossier, Dossier):
            return dossier
        if not dossier.status.startswith("Rejet"):
            return _ko("EffacerDossierRejete", f"Le dossier {dossier.id} n'est pas rejeté")
        del self.server.dossiers[dossier.id]
        self.server.erased[dossier.id] = "EffacerDossierRejete"
        answer = _response("EffacerDossierRejete")
        _message_retour(answer, "OK", f"Dossier {dossier.id} effacé")
        return answer


def bordereau(dossier: Dossier) -> bytes:
    lines = [f"Bordereau de signature - {dossier.title}", f"Dossier : {dossier.id}"]
    lines += [f"{status} - {who} {annotation}".strip() for status, who, annotation in dossier.logs]
    return tiny_pdf(lines)


def serve(port: int = 0, *, auto_after: int | None = None, **options: Any) -> tuple[Iparapheur4Server, Any, str]:
    """A running local i-Parapheur 4: (server, thread, base URL); the web service is at `server.endpoint`."""
    server = Iparapheur4Server(port, auto_after=auto_after, **options)
    thread, url = start(server)
    return server, thread, url


if __name__ == "__main__":
    main(
        "i-Parapheur 4 local (service web SOAP sur /ws-iparapheur, mutualis / secret, types ACTES et CONTRATS)",
        lambda args: Iparapheur4Server(args.port, auto_after=args.auto_after or None),
    )
