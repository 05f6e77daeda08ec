"""i-Parapheur 4 (SOAP 1.1 web service) as the SignaturePort: a folder to sign, then its signed documents.

Many members still run i-Parapheur 4, whose web service (`…/ws-iparapheur`, namespace
http://www.adullact.org/spring-ws/iparapheur/1.0) takes HTTP basic authentication and/or a client
certificate. The envelopes are built and read here with lxml, in the shapes of its WSDL: the request
element is `<Operation>Request`, the answer `<Operation>Response` with a `MessageRetour` (codeRetour
OK/KO, message, severite); GetHistoDossier, GetDossier, GetListeSousTypes, ExercerDroitRemordDossier
and EffacerDossierRejete take the folder id or the type as the request element's text. SOAPAction is
`""`, as the WSDL declares it (PHP's and Axis's generated clients send that); the service dispatches
on the body's element.

- `submit` → CreerDossier. The client names the folder (DossierID): it is derived from the engine's
  idempotency key, so a job run again after a lost answer asks GetHistoDossier first and finds the same
  folder instead of creating a second one. An unknown folder is a GetHistoDossier answer without any
  LogDossier (i-Parapheur answers KO then, not a fault).
- `poll` → GetHistoDossier: the last LogDossier's status. `Archive` means signed and at the end of its
  circuit: GetDossier gives the signed document, its detached signature when there is one and, as the
  last DocAnnexe, the bordereau i-Parapheur appends. `Rejet…` (RejetVisa, RejetSignataire, RejetCachet,
  and the later RejetMailSecPastell, RejetTransmissionTdT) is a refusal with the annotation as reason.
  Anything else is pending. The folder is left in the emitter's « à archiver » list: calling
  ArchiverDossier in the poll, before the engine has committed the proofs, could lose them.
- `cancel`: a refused folder is erased (EffacerDossierRejete); a folder on its way is taken back with
  the emitter's right of remorse (ExercerDroitRemordDossier, refused by i-Parapheur once the first
  actor has read it) and then erased (ArchiverDossier with EFFACER), as Pastell does; a signed folder
  cannot be withdrawn.
- `check` → GetListeTypes and GetListeSousTypes: the account sees the connector's type and subtype.

A SOAP fault (HTTP 500 with a Fault body) or a KO is an UnrecoverableError with i-Parapheur's message;
a timeout, a refused connection or any other 5xx a RecoverableError (base.http).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Self

import requests
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from lxml import etree

from mutualis.flows.adapters.base import DETAIL_EXCERPT, MESSAGE_EXCERPT, Setting, http, pem_files, register, required
from mutualis.flows.engine import RetryPolicy
from mutualis.flows.formats.xml import parser
from mutualis.flows.ports import FileToSend, Outcome, RecoverableError, RemoteState, UnrecoverableError

NS = "http://www.adullact.org/spring-ws/iparapheur/1.0"
SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
XMIME_NS = "http://www.w3.org/2005/05/xmlmime"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
SERVICE = "i-Parapheur 4"
VISIBILITIES = ("PUBLIC", "SERVICE", "CONFIDENTIEL")
DEFAULT_VISIBILITY = "SERVICE"
DEFAULT_PREFIX = "mutualis"
DONE_STATUS = "Archive"
REJECTED_PREFIX = "Rejet"
# Alfresco, under i-Parapheur 4, names the folder after its DossierID: keep to characters it accepts.
UNSAFE_ID = re.compile(r"[^A-Za-z0-9_-]")
PREFIX_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,30}$")
# The detached signature's extension by the content type i-Parapheur gives it.
SIGNATURE_EXTENSIONS = {"application/pkcs7-signature": ".p7s", "application/xml": ".xml", "text/xml": ".xml"}


def dossier_id(idempotency_key: str, prefix: str = DEFAULT_PREFIX) -> str:
    """The folder's DossierID for an idempotency key: readable, stable, and distinct for distinct keys.

    `12:signature` gives `mutualis-12-signature-<8 hex>`: the digest keeps two keys apart when the
    characters i-Parapheur refuses are replaced.
    """
    digest = hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:8]
    return f"{prefix}-{UNSAFE_ID.sub('-', idempotency_key)}-{digest}"


def _sub(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, f"{{{NS}}}{tag}")
    if text is not None:
        element.text = text
    return element


def _nil(parent: etree._Element, tag: str) -> None:
    """A WSDL element that is required but nillable, sent empty as `xsi:nil` (what i-Parapheur expects)."""
    _sub(parent, tag).set(f"{{{XSI_NS}}}nil", "true")


def _document(parent: etree._Element, tag: str, file: FileToSend) -> None:
    """A TypeDoc: the content in base64, its type in `xmime:contentType`."""
    element = _sub(parent, tag, base64.b64encode(file.content).decode("ascii"))
    element.set(f"{{{XMIME_NS}}}contentType", file.mime)


def request_element(operation: str, text: str | None = None) -> etree._Element:
    element = etree.Element(f"{{{NS}}}{operation}Request", nsmap={"ns": NS})
    element.text = text
    return element


def creer_dossier_request(
    *,
    type_: str,
    subtype: str,
    folder_id: str,
    title: str,
    main: FileToSend,
    attachments: tuple[FileToSend, ...],
    visibility: str,
    email: str = "",
) -> etree._Element:
    """CreerDossierRequest, its elements in the WSDL's order; the nillable ones left out are sent as nil."""
    root = etree.Element(f"{{{NS}}}CreerDossierRequest", nsmap={"ns": NS, "xm": XMIME_NS, "xsi": XSI_NS})
    _sub(root, "TypeTechnique", type_)
    _sub(root, "SousType", subtype)
    if email:
        _sub(root, "EmailEmetteur", email)
    _sub(root, "DossierID", folder_id)
    _sub(root, "DossierTitre", title)
    _document(root, "DocumentPrincipal", main)
    _sub(root, "NomDocPrincipal", main.name)
    _nil(root, "VisuelPDF")
    if attachments:
        annexes = _sub(root, "DocumentsAnnexes")
        for file in attachments:
            annexe = _sub(annexes, "DocAnnexe")
            _sub(annexe, "nom", file.name)
            _document(annexe, "fichier", file)
            _sub(annexe, "mimetype", file.mime)
            _sub(annexe, "encoding", "UTF-8")
    for tag in ("XPathPourSignatureXML", "MetaDataTdtACTES", "AnnotationPublique", "AnnotationPrivee"):
        _nil(root, tag)
    _sub(root, "Visibilite", visibility)
    _nil(root, "DateLimite")
    return root


def envelope(payload: etree._Element) -> bytes:
    root = etree.Element(f"{{{SOAP_NS}}}Envelope", nsmap={"soapenv": SOAP_NS})
    etree.SubElement(root, f"{{{SOAP_NS}}}Header")
    body = etree.SubElement(root, f"{{{SOAP_NS}}}Body")
    body.append(payload)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def _parse(content: bytes) -> etree._Element | None:
    try:
        # Documents travel inline in base64: a signed act of 20 MB is a text node beyond libxml2's default cap.
        return etree.fromstring(content, parser(huge=True))
    except etree.XMLSyntaxError:
        return None


def fault_of(content: bytes) -> str | None:
    """The faultstring of a SOAP 1.1 Fault answer, or None when `content` is not one."""
    root = _parse(content)
    if root is None or root.tag != f"{{{SOAP_NS}}}Envelope":
        return None
    fault = root.find(f"{{{SOAP_NS}}}Body/{{{SOAP_NS}}}Fault")
    if fault is None:
        return None
    return (fault.findtext("faultstring") or fault.findtext("faultcode") or "").strip() or "SOAP Fault"


def response_body(content: bytes, operation: str) -> etree._Element:
    """The `<operation>Response` element of a SOAP answer; anything else is an UnrecoverableError."""
    root = _parse(content)
    expected = f"{{{NS}}}{operation}Response"
    if root is None or root.tag != f"{{{SOAP_NS}}}Envelope":
        raise UnrecoverableError(
            _("%(service)s a renvoyé une réponse qui n'est pas une enveloppe SOAP (%(operation)s).")
            % {"service": SERVICE, "operation": operation},
            detail=content[:DETAIL_EXCERPT].decode("utf-8", "replace"),
        )
    body = root.find(f"{{{SOAP_NS}}}Body")
    answer = body[0] if body is not None and len(body) else None
    if answer is None or answer.tag != expected:
        raise UnrecoverableError(
            _("%(service)s a renvoyé une réponse inattendue à %(operation)s.")
            % {"service": SERVICE, "operation": operation},
            detail=content[:DETAIL_EXCERPT].decode("utf-8", "replace"),
        )
    return answer


@dataclass(frozen=True)
class MessageRetour:
    code: str
    message: str
    severity: str

    @classmethod
    def of(cls, answer: etree._Element) -> MessageRetour | None:
        element = answer.find(f"{{{NS}}}MessageRetour")
        if element is None:
            return None
        return cls(
            code=(element.findtext(f"{{{NS}}}codeRetour") or "").strip(),
            message=(element.findtext(f"{{{NS}}}message") or "").strip(),
            severity=(element.findtext(f"{{{NS}}}severite") or "").strip(),
        )


@dataclass(frozen=True)
class LogDossier:
    timestamp: str
    name: str
    status: str
    annotation: str


def history_of(answer: etree._Element) -> list[LogDossier]:
    """A GetHistoDossierResponse's LogDossier entries, in the order i-Parapheur gives them (oldest first)."""
    return [
        LogDossier(
            timestamp=(log.findtext(f"{{{NS}}}timestamp") or "").strip(),
            name=(log.findtext(f"{{{NS}}}nom") or "").strip(),
            status=(log.findtext(f"{{{NS}}}status") or "").strip(),
            annotation=(log.findtext(f"{{{NS}}}annotation") or "").strip(),
        )
        for log in answer.findall(f"{{{NS}}}LogDossier")
    ]


def _decoded(element: etree._Element | None, what: str) -> bytes:
    if element is None:
        return b""
    try:
        return base64.b64decode("".join((element.text or "").split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise UnrecoverableError(
            _("%(service)s a renvoyé %(what)s illisible (base64).") % {"service": SERVICE, "what": what}
        ) from exc


def signed_proofs(answer: etree._Element) -> dict[str, bytes]:
    """From a GetDossierResponse: the detached signature (if any), the signed document, the bordereau.

    In that order on purpose: the engine files every non-bordereau proof of the signature step as a
    signed document and later sends the last one on (to the prefecture, to the archive), which must be
    the document, not its detached signature. The bordereau is the last DocAnnexe, which i-Parapheur
    appends after the annexes it was sent.
    """
    name = (answer.findtext(f"{{{NS}}}NomDocPrincipal") or "").strip() or "document.pdf"
    name = name.rsplit("/", 1)[-1]
    document = _decoded(answer.find(f"{{{NS}}}DocPrincipal"), _("le document signé"))
    if not document:
        raise UnrecoverableError(
            _("%(service)s n'a pas renvoyé le document du dossier signé (DocPrincipal).") % {"service": SERVICE}
        )
    proofs: dict[str, bytes] = {}
    signature_element = answer.find(f"{{{NS}}}SignatureDocPrincipal")
    signature = _decoded(signature_element, _("la signature"))
    if signature and signature_element is not None:
        kind = (signature_element.get(f"{{{XMIME_NS}}}contentType") or "").split(";")[0].strip().lower()
        stem = name.rsplit(".", 1)[0]
        proofs[f"signature_{stem}{SIGNATURE_EXTENSIONS.get(kind, '.sig')}"] = signature
    proofs[f"signe_{name}"] = document
    annexes = answer.findall(f"{{{NS}}}DocumentsAnnexes/{{{NS}}}DocAnnexe")
    if annexes:
        last = annexes[-1]
        content = _decoded(last.find(f"{{{NS}}}fichier"), _("le bordereau"))
        mimetype = (last.findtext(f"{{{NS}}}mimetype") or "").strip().lower()
        if content.startswith(b"%PDF") or mimetype == "application/pdf":
            proofs["bordereau.pdf"] = content
    return proofs


@dataclass(frozen=True)
class _Call:
    """What every request of one operation carries: the client certificate, the trusted authority, the login."""

    cert: tuple[str, str] | None
    verify: str | bool
    auth: tuple[str, str] | None


@register
class Iparapheur4Signature:
    """SignaturePort on i-Parapheur 4's SOAP web service."""

    kind = "iparapheur4"
    port = "signature"
    label = gettext_lazy("i-Parapheur 4 (signature, service web SOAP)")
    settings = (
        Setting(
            "url",
            gettext_lazy("Adresse du service web"),
            help=gettext_lazy("Par exemple https://parapheur.exemple.fr/ws-iparapheur"),
        ),
        Setting("login", gettext_lazy("Identifiant"), required=False),
        Setting("password", gettext_lazy("Mot de passe"), secret=True, required=False),
        Setting(
            "certificate",
            gettext_lazy("Certificat client (PEM)"),
            secret=True,
            required=False,
            help=gettext_lazy("Quand i-Parapheur demande un certificat : identifiant et mot de passe, ou les deux."),
        ),
        Setting(
            "private_key", gettext_lazy("Clé privée du certificat (PEM, non chiffrée)"), secret=True, required=False
        ),
        Setting(
            "server_ca",
            gettext_lazy("Autorité du serveur (PEM)"),
            required=False,
            help=gettext_lazy("Vide : les autorités de confiance du système."),
        ),
        Setting("type", gettext_lazy("Type technique (TypeTechnique)")),
        Setting(
            "subtype",
            gettext_lazy("Sous-type (SousType)"),
            help=gettext_lazy("Le type et le sous-type d'un document, quand il les précise, passent avant."),
        ),
        Setting("email", gettext_lazy("Adresse électronique de l'émetteur (EmailEmetteur)"), required=False),
        Setting(
            "visibility",
            gettext_lazy("Visibilité des dossiers"),
            required=False,
            help=gettext_lazy("PUBLIC, SERVICE ou CONFIDENTIEL ; SERVICE si vide."),
        ),
        Setting(
            "id_prefix",
            gettext_lazy("Préfixe des identifiants de dossier"),
            required=False,
            help=gettext_lazy(
                "« mutualis » si vide ; à changer si deux installations de Mutualis déposent dans le même i-Parapheur."
            ),
        ),
    )
    # A signatory takes days: the same pace as i-Parapheur 5.
    retry_policy = RetryPolicy(max_tries=6, poll_every=dt.timedelta(minutes=15))

    def __init__(self, values: Mapping[str, str], *, timeout: float) -> None:
        url = values["url"]
        if url.lower().endswith("?wsdl"):  # the address operators are given is often the WSDL's
            url = url[: -len("?wsdl")]
        self.url = url
        self.login = values.get("login", "")
        self.password = values.get("password", "")
        self.certificate = values.get("certificate", "")
        self.private_key = values.get("private_key", "")
        self.server_ca = values.get("server_ca", "")
        self.type = values["type"]
        self.subtype = values["subtype"]
        self.email = values.get("email", "")
        self.visibility = values.get("visibility") or DEFAULT_VISIBILITY
        self.prefix = values.get("id_prefix") or DEFAULT_PREFIX
        self.timeout = timeout

    @classmethod
    def from_config(cls, config: Mapping[str, str], *, timeout: float = 30) -> Self:
        values = required(config, cls.settings)
        if not values["url"].startswith(("https://", "http://")):
            raise UnrecoverableError(_("L'adresse d'i-Parapheur doit commencer par https://."))
        if not (values["login"] and values["password"]) and not values["certificate"]:
            raise UnrecoverableError(
                _("Indiquez un identifiant et son mot de passe, ou un certificat client et sa clé privée.")
            )
        if bool(values["certificate"]) != bool(values["private_key"]):
            raise UnrecoverableError(_("Le certificat client et sa clé privée vont ensemble : indiquez les deux."))
        visibility = values["visibility"].upper()
        if visibility and visibility not in VISIBILITIES:
            raise UnrecoverableError(
                _("La visibilité doit être PUBLIC, SERVICE ou CONFIDENTIEL (et non « %(value)s »).")
                % {"value": values["visibility"]}
            )
        values["visibility"] = visibility
        if values["id_prefix"] and not PREFIX_PATTERN.match(values["id_prefix"]):
            raise UnrecoverableError(
                _("Le préfixe des identifiants de dossier : lettres, chiffres, - et _, 30 caractères au plus.")
            )
        return cls(values, timeout=timeout)

    # --- plumbing ---------------------------------------------------------------------------

    @contextmanager
    def _connection(self) -> Iterator[_Call]:
        with pem_files(self.certificate, self.private_key, self.server_ca) as (cert, key, ca):
            yield _Call(
                cert=(cert, key) if cert and key else None,
                verify=ca or True,
                auth=(self.login, self.password) if self.login else None,
            )

    def _call(self, call: _Call, payload: etree._Element) -> etree._Element:
        """One SOAP request; the answer's `<Operation>Response` element. A Fault is an UnrecoverableError."""
        operation = etree.QName(payload).localname.removesuffix("Request")
        answers: list[requests.Response] = []

        def keep(response: requests.Response, *args: Any, **kwargs: Any) -> None:
            answers.append(response)

        try:
            # verify is passed on each call: a session's verify loses to REQUESTS_CA_BUNDLE in requests.
            response = http(
                "POST",
                self.url,
                service=SERVICE,
                timeout=self.timeout,
                data=envelope(payload),
                headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'},
                cert=call.cert,
                verify=call.verify,
                auth=call.auth,
                hooks={"response": keep},
            )
        except RecoverableError:
            # SOAP 1.1 answers a Fault with HTTP 500: that one says the request is wrong, not the server down.
            fault = fault_of(answers[-1].content) if answers else None
            if fault is None:
                raise
            raise UnrecoverableError(
                _("%(service)s a refusé %(operation)s : %(message)s")
                % {"service": SERVICE, "operation": operation, "message": fault[:MESSAGE_EXCERPT]},
                detail=answers[-1].content[:DETAIL_EXCERPT].decode("utf-8", "replace"),
            ) from None
        return response_body(response.content, operation)

    def _ok(self, answer: etree._Element, *, doing: str) -> MessageRetour:
        """The answer's MessageRetour when OK; KO (or none) raises with i-Parapheur's message."""
        retour = MessageRetour.of(answer)
        if retour is not None and retour.code == "OK":
            return retour
        message = (retour.message if retour else "") or _("(sans message)")
        severity = f"[{retour.severity}] " if retour and retour.severity else ""
        raise UnrecoverableError(
            _("%(service)s a refusé %(doing)s : %(severity)s%(message)s")
            % {"service": SERVICE, "doing": doing, "severity": severity, "message": message[:MESSAGE_EXCERPT]},
            detail=etree.tostring(answer, encoding="unicode")[:DETAIL_EXCERPT],
        )

    def _history(self, call: _Call, folder_id: str) -> tuple[list[LogDossier], MessageRetour | None]:
        answer = self._call(call, request_element("GetHistoDossier", folder_id))
        return history_of(answer), MessageRetour.of(answer)

    def _known_history(self, call: _Call, folder_id: str) -> list[LogDossier]:
        logs, retour = self._history(call, folder_id)
        if not logs:
            reason = retour.message if retour and retour.message else _("aucun historique")
            raise UnrecoverableError(
                _("%(service)s ne connaît pas le dossier %(id)s : %(reason)s")
                % {"service": SERVICE, "id": folder_id, "reason": reason}
            )
        return logs

    # --- the port ---------------------------------------------------------------------------

    def check(self) -> str:
        """Lists the types, then the subtypes of the connector's type: both must be there."""
        with self._connection() as call:
            types = _texts(self._call(call, request_element("GetListeTypes")), "TypeTechnique")
            if self.type not in types:
                raise UnrecoverableError(
                    _("Connexion réussie, mais le type « %(type)s » n'existe pas dans i-Parapheur (types : %(types)s).")
                    % {"type": self.type, "types": ", ".join(types) or _("aucun")}
                )
            subtypes = _texts(self._call(call, request_element("GetListeSousTypes", self.type)), "SousType")
            if self.subtype not in subtypes:
                raise UnrecoverableError(
                    _(
                        "Connexion réussie, mais le sous-type « %(subtype)s » n'existe pas pour le type "
                        "« %(type)s » (sous-types : %(subtypes)s)."
                    )
                    % {"subtype": self.subtype, "type": self.type, "subtypes": ", ".join(subtypes) or _("aucun")}
                )
        return _("Connexion réussie à i-Parapheur 4 : type « %(type)s », sous-type « %(subtype)s ».") % {
            "type": self.type,
            "subtype": self.subtype,
        }

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
        folder_id = dossier_id(idempotency_key, self.prefix)
        with self._connection() as call:
            logs, _retour = self._history(call, folder_id)
            if logs:  # created by an earlier run whose answer was lost
                return folder_id
            payload = creer_dossier_request(
                type_=type_ or self.type,
                subtype=subtype or self.subtype,
                folder_id=folder_id,
                title=title,
                main=main,
                attachments=attachments,
                visibility=self.visibility,
                email=self.email,
            )
            self._ok(self._call(call, payload), doing=_("le dossier %(id)s") % {"id": folder_id})
        return folder_id

    def poll(self, remote_id: str) -> Outcome:
        with self._connection() as call:
            last = self._known_history(call, remote_id)[-1]
            if last.status.startswith(REJECTED_PREFIX):
                return Outcome(
                    RemoteState.REJECTED,
                    message=last.annotation or _("Dossier refusé dans i-Parapheur."),
                    remote_status=last.status,
                )
            if last.status != DONE_STATUS:
                return Outcome(
                    RemoteState.PENDING,
                    message=_("En cours dans i-Parapheur (%s).") % last.status,
                    remote_status=last.status,
                )
            answer = self._call(call, request_element("GetDossier", remote_id))
            self._ok(answer, doing=_("la lecture du dossier %(id)s") % {"id": remote_id})
        return Outcome(
            RemoteState.DONE,
            message=_("Dossier signé dans i-Parapheur."),
            remote_status=last.status,
            proofs=signed_proofs(answer),
        )

    def cancel(self, remote_id: str) -> None:
        with self._connection() as call:
            status = self._known_history(call, remote_id)[-1].status
            if status.startswith(REJECTED_PREFIX):
                answer = self._call(call, request_element("EffacerDossierRejete", remote_id))
                self._ok(answer, doing=_("l'effacement du dossier %(id)s") % {"id": remote_id})
                return
            if status == DONE_STATUS:
                raise UnrecoverableError(
                    _("Le dossier %(id)s a fini son circuit dans i-Parapheur : il ne peut plus être retiré.")
                    % {"id": remote_id}
                )
            answer = self._call(call, request_element("ExercerDroitRemordDossier", remote_id))
            self._ok(answer, doing=_("le droit de remords sur le dossier %(id)s") % {"id": remote_id})
            erase = request_element("ArchiverDossier")
            _sub(erase, "DossierID", remote_id)
            _sub(erase, "ArchivageAction", "EFFACER")
            self._ok(self._call(call, erase), doing=_("l'effacement du dossier %(id)s") % {"id": remote_id})


def _texts(answer: etree._Element, tag: str) -> list[str]:
    return [(element.text or "").strip() for element in answer.findall(f"{{{NS}}}{tag}")]
