"""A local S²low: the actes and Hélios API of Libriciel's transmission service, over HTTP(S) on loopback.

It speaks the request and answer shapes of the real service (S²low's `modules/actes/*.php` and
`modules/helios/api/*.php`, called with `api=1`): `OK\\n<id>` or `KO\\n<message>` in ISO-8859-1, the
status codes -1…21, the ARActe after status 4, the AnomalieActe of a refusal, JSON lists, the Hélios
XML answers and the PES_ACQUIT. With `tls=` it asks for a client certificate signed by its authority,
as S²low does (RGS certificates there, a local authority here: `make_certificates`); optional
login/password (HTTP basic) like an S²low account whose certificate is shared.

State is in memory and deterministic (transaction ids count from 1). Knobs for tests: `fail_next`,
`delay_next`, `outage` and `restore` (failing or too slow until told otherwise), `acknowledge`,
`refuse`, `error`, `helios_accept`, `helios_refuse`; for the demo,
`auto_after=k` makes the prefecture (or the Treasury) answer after k status polls, and a few
`/_local/…` URLs let a person act as the prefecture from a browser or curl.

Run: `python -m mutualis.flows.localservers.s2low --port 8311` (see docs/flows-local-servers.md).
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import email.parser
import email.policy
import hashlib
import ipaddress
import json
import re
import ssl
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from lxml import etree

from mutualis.flows.formats.actes import ActData, build_act_xml, build_anomalie_acte, build_aracte
from mutualis.flows.formats.pes import check_pes_aller
from mutualis.flows.formats.xml import FormatError
from mutualis.flows.localservers.loopback import Outage
from mutualis.flows.ports import ActToTransmit, FileToSend

ACTES_NS = "http://www.interieur.gouv.fr/ACTES#v1.1-20040216"
PES_ACK_ROOT = "PES_ACQUIT"
NUMBER_RE = re.compile(r"^([A-Z0-9][A-Z0-9_]{0,13})?[A-Z0-9]$")
NATURES = {1: ("DE", "Délibérations"), 2: ("AR", "Actes réglementaires"), 3: ("AI", "Actes individuels")}
NATURES |= {4: ("CC", "Contrats, conventions et avenants"), 5: ("BF", "Documents budgétaires et financiers")}
NATURES |= {6: ("AU", "Autres")}
# The typology codes the local prefecture knows, per nature (the first one is the act itself).
TYPOLOGY = {
    1: ("99_DE", "22_AT", "99_AU"),
    2: ("99_AR", "21_RP", "99_AU"),
    3: ("99_AI", "43_NC", "99_AU"),
    4: ("99_DC", "11_AV", "99_AU"),
    5: ("99_BU", "51_BP", "99_AU"),
    6: ("99_AU", "99_SE"),
}
TYPOLOGY_LABELS = {"99_AU": "Autre document", "99_SE": "Fichier de signature électronique"}
# Matière 1 → (label, {matière 2 → label}): the top of the national classification of acts.
MATIERES: dict[str, tuple[str, dict[str, str]]] = {
    "1": ("Commande publique", {"1": "Marchés publics", "2": "Délégation de service public", "7": "Actes spéciaux"}),
    "2": ("Urbanisme", {"1": "Documents d'urbanisme", "2": "Actes relatifs au droit d'occupation des sols"}),
    "3": ("Domaine et patrimoine", {"1": "Acquisitions", "2": "Aliénations", "3": "Locations"}),
    "4": (
        "Fonction publique",
        {"1": "Personnels titulaires", "2": "Personnels contractuels", "5": "Régime indemnitaire"},
    ),
    "5": (
        "Institutions et vie politique",
        {"1": "Election exécutif", "2": "Fonctionnement des assemblées", "7": "Intercommunalité"},
    ),
    "6": ("Libertés publiques et pouvoirs de police", {"1": "Police municipale", "4": "Autres actes réglementaires"}),
    "7": ("Finances locales", {"1": "Décisions budgétaires", "2": "Fiscalité", "10": "Divers"}),
    "8": ("Domaines de compétences par thèmes", {"1": "Enseignement", "3": "Voirie", "8": "Environnement"}),
    "9": ("Autres domaines de compétences", {"1": "Autres domaines de compétences des communes"}),
}
CLASSIFICATION_DATE = dt.date(2024, 1, 15)
DUPLICATE_NUMBER = (
    "Un acte portant le même numéro interne existe déjà dans la base de données.\n"
    "Il faut peut-être ajouter un suffixe au numéro."
)

STATUS_LABELS = {
    -1: "Erreur",
    0: "Annulé",
    1: "Posté",
    2: "En attente de transmission",
    3: "Transmis",
    4: "Acquittement reçu",
    5: "Validé",
    6: "Refusé",
    7: "Document reçu (pas d'AR)",
    8: "Document reçu",
    17: "En attente d'être postée",
    18: "En attente d'être signée",
    21: "Document reçu (pas d'AR)",
}
HELIOS_LABELS = {1: "Posté", 2: "En attente de transmission", 3: "Transmis", 4: "Acquittement reçu"}
HELIOS_LABELS |= {6: "Refusé", 7: "En traitement", 8: "Information disponible"}


@dataclass(frozen=True)
class Authority:
    """The authority the client certificate belongs to (S²low finds it from the certificate)."""

    siren: str = "210100012"
    department: str = "001"
    district: str = "1"
    name: str = "Commune de Démo-sur-Loue"
    authority_id: int = 1


@dataclass(frozen=True)
class Certificates:
    """A local certification authority, a server certificate for 127.0.0.1 and one client certificate."""

    ca_pem: str
    server_cert: Path
    server_key: Path
    ca_file: Path
    client_cert_pem: str
    client_key_pem: str


def make_certificates(directory: Path, *, client_name: str = "Mairie de Démo-sur-Loue") -> Certificates:
    """Generate the TLS material in `directory` (EC P-256 keys, valid two days); files are mode 0600."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.UTC)

    def name(common: str) -> x509.Name:
        return x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "S2low local"),
                x509.NameAttribute(NameOID.COMMON_NAME, common),
            ]
        )

    def builder(subject: x509.Name, issuer: x509.Name, key: ec.EllipticCurvePrivateKey) -> x509.CertificateBuilder:
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=2))
        )

    def pem_key(key: ec.EllipticCurvePrivateKey) -> str:
        return key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode("ascii")

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = name("Autorité locale S2low")
    ca = (
        builder(ca_name, ca_name, ca_key)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )  # key_cert_sign, crl_sign
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = (
        builder(name("127.0.0.1"), ca_name, server_key)
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    client_key = ec.generate_private_key(ec.SECP256R1())
    client = (
        builder(name(client_name), ca_name, client_key)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    ca_pem = ca.public_bytes(serialization.Encoding.PEM).decode("ascii")
    files = {
        "ca.pem": ca_pem,
        "server.pem": server.public_bytes(serialization.Encoding.PEM).decode("ascii"),
        "server.key": pem_key(server_key),
    }
    for filename, text in files.items():
        path = directory / filename
        path.write_text(text, encoding="ascii")
        path.chmod(0o600)
    return Certificates(
        ca_pem=ca_pem,
        server_cert=directory / "server.pem",
        server_key=directory / "server.key",
        ca_file=directory / "ca.pem",
        client_cert_pem=client.public_bytes(serialization.Encoding.PEM).decode("ascii"),
        client_key_pem=pem_key(client_key),
    )


@dataclass
class StoredFile:
    id: int
    name: str  # the standard name S²low gives: 99_DE-001-210100012-20240115-DEL_1-DE-1-1_1.pdf
    posted_filename: str
    mimetype: str
    content: bytes
    typology: str = ""


@dataclass
class Transaction:
    id: int
    type: str  # "1" transmission of an act, "6" cancellation
    number: str
    nature: int
    subject: str
    decision_date: dt.date
    classification: tuple[str, ...]
    status: int
    document_papier: bool = False
    related_id: int | None = None
    files: list[StoredFile] = field(default_factory=list)
    workflow: list[tuple[int, str]] = field(default_factory=list)  # (status, message), oldest first
    polls: int = 0
    flux_retour: bytes = b""  # ARActe (status 4) or AnomalieActe (status 6)
    message: str = ""  # the current message (shown with status -1)
    stamp_date: dt.date | None = None

    def set_status(self, status: int, message: str = "") -> None:
        self.status = status
        self.message = message or STATUS_LABELS.get(status, str(status))
        self.workflow.append((status, self.message))


@dataclass
class HeliosTransaction:
    id: int
    filename: str
    content: bytes
    sha1: str
    status: int = 1
    polls: int = 0
    message: str = "Fichier bien reçu par la plate-forme Helios"
    acquit: bytes = b""


class ClientError(Exception):
    """S²low's `KO\\n<message>` answer (HTTP 200, like the real service)."""


class S2lowServer(ThreadingHTTPServer):
    """The service's state, its knobs, and the HTTP server answering on loopback."""

    daemon_threads = True
    block_on_close = False

    def __init__(
        self,
        address: tuple[str, int],
        *,
        tls: Certificates | None = None,
        auto_after: int | None = 2,
        auto_refuse: bool = False,
        users: dict[str, str] | None = None,
        authority: Authority | None = None,
        today: Callable[[], dt.date] = dt.date.today,
    ) -> None:
        super().__init__(address, Handler)
        self.lock = threading.Lock()
        self.tls_context: ssl.SSLContext | None = None
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.minimum_version = ssl.TLSVersion.TLSv1_2
            context.load_cert_chain(str(tls.server_cert), str(tls.server_key))
            context.load_verify_locations(str(tls.ca_file))
            context.verify_mode = ssl.CERT_REQUIRED
            self.tls_context = context
        self.auto_after = auto_after
        self.auto_refuse = auto_refuse
        self.users = dict(users or {})
        self.authority = authority or Authority()
        self.today = today
        self.transactions: dict[int, Transaction] = {}
        self.helios: dict[int, HeliosTransaction] = {}
        self.requests: list[tuple[str, str]] = []  # (method, path) of every API call, in order
        self._next_id = 1
        self._next_file = 1
        self._failures: list[int] = []
        self._delays: list[float] = []
        self._outage: Outage | None = None
        self.outage_calls = 0  # API calls an outage failed or slowed, for benchmarks

    # --- what tests and the demo turn -------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        scheme = "https" if self.tls_context else "http"
        return f"{scheme}://{host!s}:{port}"

    def fail_next(self, n: int = 1, status: int = 500) -> None:
        """The next `n` API calls answer `status` with an Apache-like error page, doing nothing."""
        with self.lock:
            self._failures.extend([status] * n)

    def delay_next(self, n: int = 1, seconds: float = 5.0) -> None:
        """The next `n` API calls wait `seconds` before being handled (then are handled normally)."""
        with self.lock:
            self._delays.extend([seconds] * n)

    def outage(self, *, status: int | None = 500, delay: float = 0.0, paths: tuple[str, ...] = ()) -> None:
        """Down from now until `restore()`: every API call (or those under `paths`) waits `delay` seconds,
        then answers `status` doing nothing, or, with `status` None, is handled (slow, not down: a
        client that gave up still created what it asked for). `fail_next` and `delay_next` come first."""
        with self.lock:
            self._outage = Outage(status=status, delay=delay, paths=paths)

    def restore(self) -> None:
        """S²low is back: calls are handled again as they arrive."""
        with self.lock:
            self._outage = None

    def acknowledge(self, transaction_id: int) -> None:
        """The prefecture acknowledges the act: status 4 and its ARActe."""
        with self.lock:
            self._acknowledge(self._transaction(transaction_id))

    def refuse(self, transaction_id: int, reason: str = "Acte ne relevant pas du contrôle de légalité") -> None:
        """The prefecture refuses the act: status 6 and an AnomalieActe carrying the reason."""
        with self.lock:
            self._refuse(self._transaction(transaction_id), reason)

    def error(self, transaction_id: int, message: str) -> None:
        """The transaction fails on S²low's side (status -1, the message shown with the status)."""
        with self.lock:
            self._transaction(transaction_id).set_status(-1, message)

    def helios_accept(self, transaction_id: int) -> None:
        with self.lock:
            self._helios_answer(self.helios[transaction_id], accepted=True, reason="")

    def helios_refuse(self, transaction_id: int, reason: str = "Bordereau en double") -> None:
        with self.lock:
            self._helios_answer(self.helios[transaction_id], accepted=False, reason=reason)

    def acts(self) -> list[Transaction]:
        """The transmissions of acts (type 1), oldest first."""
        with self.lock:
            return [t for t in self.transactions.values() if t.type == "1"]

    # --- the remote side acting --------------------------------------------------------------

    def _transaction(self, transaction_id: int) -> Transaction:
        try:
            return self.transactions[transaction_id]
        except KeyError:
            raise ClientError("Numéro de transaction invalide.") from None

    def act_data(self, trans: Transaction) -> ActData:
        """The act as the prefecture received it, for its ARActe or AnomalieActe."""
        pdfs = [f.name for f in trans.files if f.mimetype != "text/xml"]
        return ActData(
            number=trans.number,
            nature=trans.nature,
            decision_date=trans.decision_date,
            classification=trans.classification,
            subject=trans.subject,
            classification_version=CLASSIFICATION_DATE,
            document=pdfs[0],
            annexes=tuple(pdfs[1:]),
            paper=trans.document_papier,
        )

    def id_acte(self, trans: Transaction) -> str:
        auth = self.authority
        day = trans.decision_date.isoformat().replace("-", "")
        return f"{auth.department}-{auth.siren}-{day}-{trans.number}-{NATURES[trans.nature][0]}"

    def _acknowledge(self, trans: Transaction) -> None:
        if trans.status not in (1, 2, 3):
            return
        trans.flux_retour = build_aracte(
            self.act_data(trans),
            act_id=self.id_acte(trans),
            received_on=self.today(),
            classification_in_force=CLASSIFICATION_DATE,
        )
        trans.stamp_date = self.today()
        trans.set_status(4)

    def _refuse(self, trans: Transaction, reason: str) -> None:
        if trans.status not in (1, 2, 3):
            return
        trans.flux_retour = build_anomalie_acte(
            self.act_data(trans),
            notified_on=self.today(),
            nature="001",
            detail=reason,
            classification_in_force=CLASSIFICATION_DATE,
        )
        trans.set_status(6, reason)

    def _poll(self, trans: Transaction) -> None:
        """A status poll moves a posted act along (posté → en attente → transmis), then the prefecture answers."""
        if trans.type != "1" or trans.status not in (1, 2, 3):
            return
        trans.polls += 1
        if trans.status < 3:
            trans.set_status(trans.status + 1)
        if self.auto_after is not None and trans.polls >= self.auto_after:
            if self.auto_refuse:
                self._refuse(trans, "Acte refusé par la préfecture (serveur local, refus automatique)")
            else:
                self._acknowledge(trans)

    def _helios_answer(self, trans: HeliosTransaction, *, accepted: bool, reason: str) -> None:
        trans.acquit = pes_acquit(trans, accepted=accepted, reason=reason, today=self.today())
        if accepted:
            trans.status, trans.message = 4, "Acquittement reçu"
        else:
            trans.status, trans.message = 6, f"Refusé : {reason}"

    def _helios_poll(self, trans: HeliosTransaction) -> None:
        if trans.status not in (1, 2, 3, 7):
            return
        trans.polls += 1
        trans.status, trans.message = 7, "En traitement"
        if self.auto_after is not None and trans.polls >= self.auto_after:
            self._helios_answer(trans, accepted=not self.auto_refuse, reason="Refus automatique du serveur local")

    # --- the API, called by the handler under the lock ----------------------------------------

    def new_id(self) -> int:
        value = self._next_id
        self._next_id += 1
        return value

    def store_file(self, name: str, posted: str, mimetype: str, content: bytes, typology: str = "") -> StoredFile:
        stored = StoredFile(self._next_file, name, posted, mimetype, content, typology)
        self._next_file += 1
        return stored

    def take_fault(self, path: str = "") -> tuple[int | None, float]:
        with self.lock:
            status = self._failures.pop(0) if self._failures else None
            delay = self._delays.pop(0) if self._delays else 0.0
            down = self._outage
            if status is None and not delay and down is not None and down.covers(path):
                status, delay = down.status, down.delay
                self.outage_calls += 1
        return status, delay

    def finish_request(self, request: Any, client_address: Any) -> None:
        # The TLS handshake runs here, in the request's own thread, so a slow client blocks no other.
        if self.tls_context is not None:
            try:
                request = self.tls_context.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                return  # no or untrusted client certificate: the client sees the handshake fail
        super().finish_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hung up (timeouts in tests) is not the server's error


def pes_acquit(trans: HeliosTransaction, *, accepted: bool, reason: str, today: dt.date) -> bytes:
    """The Treasury's PES_ACQUIT for a PES Aller: EtatAck 1 accepted, 2 refused with the error's label."""
    root = etree.Element(PES_ACK_ROOT)
    envelope = etree.SubElement(root, "Enveloppe")
    params = etree.SubElement(envelope, "Parametres")
    etree.SubElement(params, "Version").set("V", "2")
    etree.SubElement(params, "TypFic").set("V", "PESACK")
    etree.SubElement(params, "NomFic").set("V", f"ACK_{trans.filename}")
    head = etree.SubElement(root, "EnTetePES")
    etree.SubElement(head, "DteStr").set("V", today.isoformat())
    ack = etree.SubElement(etree.SubElement(root, "ACQUIT"), "ElementACQUIT")
    etree.SubElement(ack, "DomaineAck").set("V", "1")
    etree.SubElement(ack, "EtatAck").set("V", "1" if accepted else "2")
    if not accepted:
        error = etree.SubElement(ack, "Erreur")
        etree.SubElement(error, "NumAnoAck").set("V", "1")
        etree.SubElement(error, "LibelleAnoAck").set("V", reason)
    return etree.tostring(root, xml_declaration=True, encoding="ISO-8859-1")


def retour_classification() -> bytes:
    """The prefecture's RetourClassification (ISO-8859-1) this local S²low hands out."""
    a = f"{{{ACTES_NS}}}"
    root = etree.Element(a + "RetourClassification", nsmap={"actes": ACTES_NS})
    etree.SubElement(root, a + "DateClassification").text = CLASSIFICATION_DATE.isoformat()
    natures = etree.SubElement(root, a + "NaturesActes")
    for code, (short, label) in NATURES.items():
        nature = etree.SubElement(natures, a + "NatureActe")
        nature.set(a + "CodeNatureActe", str(code))
        nature.set(a + "Libelle", label)
        nature.set(a + "TypeAbrege", short)
        for typology in TYPOLOGY[code]:
            piece = etree.SubElement(nature, a + "TypePJNatureActe")
            piece.set(a + "CodeTypePJ", typology)
            piece.set(a + "Libelle", TYPOLOGY_LABELS.get(typology, f"{label} ({typology})"))
    matieres = etree.SubElement(root, a + "Matieres")
    for matiere, (label, children) in MATIERES.items():
        first = etree.SubElement(matieres, a + "Matiere1")
        first.set(a + "CodeMatiere", matiere)
        first.set(a + "Libelle", label)
        for sub, sub_label in children.items():
            second = etree.SubElement(first, a + "Matiere2")
            second.set(a + "CodeMatiere", sub)
            second.set(a + "Libelle", sub_label)
    return etree.tostring(root, xml_declaration=True, encoding="ISO-8859-1", pretty_print=True)


def _pdf_string(text: str) -> bytes:
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return b"(" + escaped.encode("cp1252", errors="replace") + b")"


def stamped_pdf(original: bytes, lines: list[str], *, original_name: str) -> bytes:
    """A one-page PDF showing the prefecture's stamp, carrying the original act as an embedded file.

    The real S²low draws the stamp over the act's first page; a faithful overlay needs a PDF library,
    which this local server does without. The stamp's text and the untouched original (byte for byte,
    in /EmbeddedFiles) are what the adapter and the proof need.
    """
    content = b"BT /F1 11 Tf 56 780 Td 14 TL " + b" ".join(_pdf_string(line) + b" '" for line in lines) + b" ET"
    packed = zlib.compress(original)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R /Names << /EmbeddedFiles << /Names ["
        + _pdf_string(original_name)
        + b" 6 0 R] >> >> >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >>"
        b" /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length " + str(len(content)).encode() + b" >>\nstream\n" + content + b"\nendstream",
        b"<< /Type /Filespec /F " + _pdf_string(original_name) + b" /EF << /F 7 0 R >> >>",
        b"<< /Type /EmbeddedFile /Subtype /application#2Fpdf /Filter /FlateDecode /Length "
        + str(len(packed)).encode()
        + b" /Params << /Size "
        + str(len(original)).encode()
        + b" >> >>\nstream\n"
        + packed
        + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += str(number).encode() + b" 0 obj\n" + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 " + str(len(objects) + 1).encode() + b"\n0000000000 65535 f \n"
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += b"trailer\n<< /Size " + str(len(objects) + 1).encode() + b" /Root 1 0 R >>\nstartxref\n"
    out += str(xref).encode() + b"\n%%EOF\n"
    return bytes(out)


@dataclass
class Form:
    """A request's fields and files, whether sent as multipart or urlencoded."""

    fields: dict[str, list[str]] = field(default_factory=dict)
    files: dict[str, list[tuple[str, str, bytes]]] = field(default_factory=dict)  # name → (filename, type, bytes)

    def get(self, name: str) -> str:
        values = self.fields.get(name) or self.fields.get(name + "[]") or [""]
        return values[0].strip()

    def getlist(self, name: str) -> list[str]:
        return self.fields.get(name + "[]") or self.fields.get(name) or []

    def filelist(self, name: str) -> list[tuple[str, str, bytes]]:
        return self.files.get(name + "[]") or self.files.get(name) or []


def parse_form(content_type: str, body: bytes) -> Form:
    form = Form()
    if content_type.startswith("multipart/form-data"):
        head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
        if not message.is_multipart():
            return form
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if not isinstance(name, str):
                continue
            payload = part.get_payload(decode=True)
            data = payload if isinstance(payload, bytes) else b""
            filename = part.get_filename()
            if filename is not None:
                form.files.setdefault(name, []).append((filename, part.get_content_type(), data))
            else:
                form.fields.setdefault(name, []).append(data.decode("utf-8", errors="replace"))
    else:
        for name, values in parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True).items():
            form.fields.setdefault(name, []).extend(values)
    return form


class Handler(BaseHTTPRequestHandler):
    server: S2lowServer
    protocol_version = "HTTP/1.1"
    server_version = "Apache"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature
        pass

    # --- plumbing ---------------------------------------------------------------------------

    def _send(self, body: bytes, *, status: int = 200, content_type: str = "text/plain; charset=ISO-8859-1") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _text(self, text: str) -> None:
        self._send(text.encode("iso-8859-1", errors="replace"))

    def _json(self, value: Any) -> None:
        self._send(json.dumps(value).encode(), content_type="application/json")

    def _xml(self, body: bytes) -> None:
        self._send(body, content_type="text/xml")

    def _authenticated(self) -> bool:
        if not self.server.users:
            return True
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            login, _, password = base64.b64decode(header[6:]).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return self.server.users.get(login) == password

    def _dispatch(self, method: str) -> None:
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        route = ROUTES.get((method, parts.path))
        if route is None:
            self._send(b"<html><body><h1>Not Found</h1></body></html>", status=404, content_type="text/html")
            return
        if not parts.path.startswith("/_local/"):
            status, delay = self.server.take_fault(parts.path)
            if delay:
                time.sleep(delay)
            if status is not None:
                page = f"<html><body><h1>{status} {HTTPStatus(status).phrase}</h1></body></html>"
                self._send(page.encode(), status=status, content_type="text/html")
                return
            with self.server.lock:
                self.server.requests.append((method, parts.path))
        form = parse_form(self.headers.get("Content-Type", ""), body) if method == "POST" else Form()
        helios = parts.path.startswith("/modules/helios/")
        if not parts.path.startswith("/_local/") and not self._authenticated():
            if helios:
                self._xml(
                    helios_answer("import", {"id": "", "resultat": "KO", "message": "Échec de l'authentification"})
                )
            else:
                self._text("KO\nÉchec de l'authentification\n")
            return
        try:
            with self.server.lock:
                answer = route(self.server, query, form)
        except ClientError as exc:
            self._text(f"KO\n{exc}\n")
            return
        if isinstance(answer, str):
            self._text(answer)
        elif isinstance(answer, tuple):
            content_type, data = answer
            self._send(data, content_type=content_type)
        else:
            self._json(answer)

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
        self._dispatch("POST")


Answer = str | tuple[str, bytes] | dict[str, Any] | list[Any]


def helios_answer(tag: str, values: dict[str, str]) -> bytes:
    root = etree.Element(tag)
    for key, value in values.items():
        etree.SubElement(root, key).text = value
    return etree.tostring(root, xml_declaration=True, encoding="ISO-8859-1")


# --- the routes: (server, query, form) → answer; run under the server's lock ------------------------


def test_connexion(server: S2lowServer, query: dict[str, str], form: Form) -> Answer:
    return "OK"


def info_connexion(server: S2lowServer, query: dict[str, str], form: Form) -> Answer:
    auth = server.authority
    return {
        "user_info": {"id": 1, "login": next(iter(server.users), ""), "authority_id": auth.authority_id},
        "authority_info": {
            "id": auth.authority_id,
            "name": auth.name,
            "department": auth.department,
            "district": auth.district,
            "status": 1,
        },
    }


def _decision_date(value: str, today: dt.date) -> dt.date:
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise ClientError("La date de décision est absente ou invalide (AAAA-MM-JJ attendu)") from None
    if day > today:
        raise ClientError("La date de décision est une date dans le futur")
    return day


def actes_create(server: S2lowServer, query: dict[str, str], form: Form) -> Answer:
    if form.get("api") != "1":
        raise ClientError("Seul l'appel par l'API (api=1) est servi par ce serveur local")
    try:
        nature = int(form.get("nature_code"))
    except ValueError:
        nature = 0
    if nature not in NATURES:
        raise ClientError("La nature de l'acte est invalide")
    number = form.get("number")
    if not NUMBER_RE.match(number):
        raise ClientError("Le numéro n'est pas correct")
    decision_date = _decision_date(form.get("decision_date"), server.today())
    subject = form.get("subject")
    if not subject:
        raise ClientError("L'objet de l'acte est obligatoire")
    if len(subject) > 499:
        raise ClientError("L'objet de l'acte ne doit pas dépasser 499 caractères")
    classification = tuple(c for c in (form.get(f"classif{i}") for i in range(1, 6)) if c)
    if len(classification) < 2:
        raise ClientError("La classification de l'acte doit comporter au moins deux niveaux")
    matiere = MATIERES.get(classification[0])
    if matiere is None or classification[1] not in matiere[1]:
        raise ClientError(f"La classification {'.'.join(classification)} n'existe pas dans la classification en cours")
    if any(t.type == "1" and t.number == number for t in server.transactions.values()):
        raise ClientError(DUPLICATE_NUMBER)
    main = form.filelist("acte_pdf_file")
    if not main:
        raise ClientError("Aucun fichier acte n'a été posté ")
    type_acte = form.get("type_acte")
    main_name, main_type, main_bytes = main[0]
    if not type_acte:
        raise ClientError(f"Erreur lors de la réception du fichier {main_name} : typologie absente")
    attachments = form.filelist("acte_attachments")
    typologies = form.getlist("type_pj")
    for i, (name, _, _) in enumerate(attachments):
        if i >= len(typologies) or not typologies[i]:
            raise ClientError(f"Erreur lors de la réception du fichier annexe {name} : typologie absente")
    for typology in [type_acte, *typologies[: len(attachments)]]:
        if typology not in TYPOLOGY[nature]:
            raise ClientError(f"La typologie {typology} n'est pas valide pour la nature {nature}")
    for name, _, content in [(main_name, main_type, main_bytes), *attachments]:
        if not content.startswith(b"%PDF-"):
            raise ClientError(
                f"Erreur de validation du fichier de l'acte :\nLe fichier {name} n'est pas un fichier PDF valide"
            )
    en_attente = form.get("en_attente") == "1"
    trans = Transaction(
        id=server.new_id(),
        type="1",
        number=number,
        nature=nature,
        subject=subject,
        decision_date=decision_date,
        classification=classification,
        status=1,
        document_papier=form.get("document_papier") == "1",
    )
    received = ActToTransmit(
        number=number,
        nature=nature,
        subject=subject,
        decision_date=decision_date,
        classification=classification,
        classification_version=CLASSIFICATION_DATE,
        main=FileToSend(main_name, main_bytes, typology=type_acte),
        attachments=tuple(
            FileToSend(name, content, typology=typology)
            for (name, _, content), typology in zip(attachments, typologies, strict=False)
        ),
        siren=server.authority.siren,
        department=server.authority.department,
        arrondissement=server.authority.district,
    )
    try:  # the Acte message S²low writes into the envelope for the prefecture, checked against the XSD
        message = build_act_xml(received, paper=trans.document_papier)
    except FormatError as exc:
        raise ClientError(f"Erreur lors de la génération de l'acte : {exc.message}") from None
    stem = server.id_acte(trans)
    trans.files.append(server.store_file(f"{stem}-1-1_0.xml", f"{stem}-1-1_0.xml", "text/xml", message))
    for index, piece in enumerate((received.main, *received.attachments), start=1):
        std = f"{piece.typology}-{stem}-1-1_{index}.pdf"
        trans.files.append(server.store_file(std, piece.name, "application/pdf", piece.content, piece.typology))
    trans.set_status(17 if en_attente else 1, "Posté" if not en_attente else "En attente d'être postée")
    server.transactions[trans.id] = trans
    return f"OK\n{trans.id}\n"


def _transaction_from(server: S2lowServer, value: str) -> Transaction:
    try:
        return server._transaction(int(value))
    except ValueError:
        raise ClientError("Numéro de transaction invalide.") from None


def actes_status(server: S2lowServer, query: dict[str, str], form: Form) -> Answer:
    trans = _transaction_from(server, query.get("transaction", ""))
    server._poll(trans)
    head = f"OK\n{trans.status}\n".encode("iso-8859-1")
    if trans.status in (4, 6):
        return ("text/plain; charset=ISO-8859-1", head + trans.flux_retour)
    if trans.status == -1:
        return ("text/plain; charset=ISO-8859-1", head + trans.message.encode("iso-8859-1", errors="replace"))
    return ("text/plain; charset=ISO-8859-1", head)


def actes_list(server: S2lowServer, query: dict[str, str], form: Form) -> Answer:
    try:
        status_id = int(query.get("status_id", "0"))
        offset = int(query.get("offset", "0"))
        limit = int(query.get("limit", "100"))
    except ValueError:
        raise ClientError("Paramètre invalide") from None
    rows = [t for t in server.transactions.values() if t.status == status_id]
    rows.sort(key=lambda t: -t.id)
    return {
        "status_id": status_id,
        "authority_id": server.authority.authority_id,
        "offset": offset,
        "limit": limit,
        "transactions": [
            {
                "id": t.id,
                "subject": t.subject,
                "number": t.number,
                "date": t.decision_date.isoformat(),
                "nature_descr": NATURES[t.nature][1],
                "classification": ".".join(t.classification),
                "type": t.type,
            }
            for t in rows[offset : offset + limit]
        ],
    }


def actes_files_list(server: S2lowServer, query: dict[str, str], form: Form) -> Answer:
    trans = _transaction_from(server, query.get("transaction", ""))
    if all(status in (1, 2, 3, 17) for status, _ in trans.workflow):
        raise ClientError("Pas d'acquittement recu")
    return [
        {
            "id": f.id,
            "name": f.name,
            "posted_filename": f.posted_filename,
            "mimetype": f.mimetype,
            "size": len(f.content),
            "code_pj": f.typology,
        }
        for f in trans.files
    ]


def _stamp(server: S2lowServer, trans: Transaction, stored: StoredFile) -> bytes:
    if trans.stamp_date is None:  # not acknowledged (yet): the file as it was posted
        return stored.content
    lines = [
        f"Envoyé en préfecture le {trans.stamp_date.isoformat()}",
        f"Reçu en préfecture le {trans.stamp_date.isoformat()}",
        f"ID : {server.id_acte(trans)}",
        "S²LOW (serveur local)",
    ]
    return stamped_pdf(stored.content, lines, original_name=stored.name)


def actes_download(server: S2lowServer, query: dict[str, str], form: Form) -> Answer:
    try:
        file_id = int(query.get("file", ""))
    except ValueError:
        raise ClientError("Fichier introuvable") from None
    for trans in server.transactions.values():
        for stored in trans.files:
            if stored.id == file_id:
                tampon = query.get("tampon") == "true" and stored.mimetype == "application/pdf"
                return (stored.mimetype, _stamp(server, trans, stored) if tampon else stored.content)
    raise ClientError("Fichier introuvable")


def actes_tampon(server: S2lowServer, query: dict[str, str], form: Form) -> Answer:
    trans = _transaction_from(server, query.get("transaction", ""))
    if trans.stamp_date is None:
        raise ClientError("Pas d'acquittement recu")
    main = next(f for f in trans.files if f.mimetype == "application/pdf")
    return ("application/pdf", _stamp(server, trans, main))


def actes_cancel(server: S2lowServer, query: dict[str, str], form: Form) -> Answer:
    related = form.get("id")
    if not related:
        raise ClientError("Pas d'identifiant de transaction à annuler spécifié.")
    try:
        trans = server._transaction(int(related))
    except ValueError:
        raise ClientError("Erreur d'initialisation de la transaction.") from None
    if trans.type != "1":
        raise ClientError("Ce type de transaction ne peut pas être annulé.")
    if any(t.type == "6" and t.related_id == trans.id and t.status != -1 for t in server.transactions.values()):
        raise ClientError("Une demande d'annulation est déjà en cours pour cette transaction.")
    if trans.status != 4:
        raise ClientError("Impossible d'annuler une transaction qui n'est pas en état « Acquittement reçu ».")
    cancel = Transaction(
        id=server.new_id(),
        type="6",
        number=trans.number,
        nature=trans.nature,
        subject=trans.subject,
        decision_date=trans.decision_date,
        classification=trans.classification,
        status=1,
        related_id=trans.id,
    )
    cancel.set_status(1)
    server.transactions[cancel.id] = cancel
    # The prefecture takes the cancellation at once here (the real one acknowledges it later).
    cancel.set_status(4)
    trans.set_status(0, "Annulé")
    return f"OK\n{cancel.id}\n"


def classification_fetch(server: S2lowServer, query: dict[str, str], form: Form) -> Answer:
    return ("text/xml", retour_classification())


def helios_import(server: S2lowServer, query: dict[str, str], form: Form) -> Answer:
    files = form.filelist("enveloppe")

    def ko(message: str) -> Answer:
        return ("text/xml", helios_answer("import", {"id": "", "resultat": "KO", "message": message}))

    if not files:
        return ko("Echec lors du téléchargement du fichier")
    filename, _, content = files[0]
    problem = check_pes(content)
    if problem:
        return ko(problem)
    sha1 = hashlib.sha1(content, usedforsecurity=False).hexdigest()
    if any(h.sha1 == sha1 for h in server.helios.values()):
        return ko("doublon détecté. Ce fichier a déjà été posté")
    trans = HeliosTransaction(id=server.new_id(), filename=filename, content=content, sha1=sha1)
    server.helios[trans.id] = trans
    return (
        "text/xml",
        helios_answer(
            "import", {"id": str(trans.id), "resultat": "OK", "message": "Téléchargement du fichier réussi."}
        ),
    )


def check_pes(content: bytes) -> str:
    """What is wrong with a PES Aller file (the formats module's French message), or "" if it looks right."""
    try:
        check_pes_aller(content)
    except FormatError as exc:
        return exc.message
    return ""


def _helios_transaction(server: S2lowServer, value: str) -> HeliosTransaction | None:
    try:
        return server.helios.get(int(value))
    except ValueError:
        return None


def helios_status(server: S2lowServer, query: dict[str, str], form: Form) -> Answer:
    value = query.get("transaction", "")
    trans = _helios_transaction(server, value)
    if trans is None:
        answer = {"id": value, "resultat": "KO", "message": "Numéro de transaction invalide", "status": ""}
        return ("text/xml", helios_answer("transaction", answer))
    server._helios_poll(trans)
    answer = {"id": str(trans.id), "resultat": "OK", "message": trans.message, "status": str(trans.status)}
    return ("text/xml", helios_answer("transaction", answer))


def helios_acquit(server: S2lowServer, query: dict[str, str], form: Form) -> Answer:
    trans = _helios_transaction(server, query.get("id", ""))
    if trans is None or not trans.acquit:
        raise ClientError("Aucun fichier d'acquittement pour cette transaction")
    return ("text/xml", trans.acquit)


def local_act(server: S2lowServer, query: dict[str, str], form: Form) -> Answer:
    """/_local/prefecture?transaction=N&answer=acknowledge|refuse&reason=…: a person plays the prefecture."""
    trans = _transaction_from(server, query.get("transaction", ""))
    if query.get("answer") == "refuse":
        server._refuse(trans, query.get("reason") or "Refus de la préfecture (serveur local)")
    else:
        server._acknowledge(trans)
    return f"OK\n{trans.status}\n"


def local_fail(server: S2lowServer, query: dict[str, str], form: Form) -> Answer:
    """/_local/fail?n=3&status=500: the next n calls fail (the lock is held: queue directly)."""
    n, status = int(query.get("n", "1")), int(query.get("status", "500"))
    server._failures.extend([status] * n)
    return f"OK\n{n}\n"


def local_outage(server: S2lowServer, query: dict[str, str], form: Form) -> Answer:
    """/_local/outage?status=500 (or status=slow&delay=60): down until /_local/restore (the lock is held)."""
    slow = query.get("status") == "slow"
    status = None if slow else int(query.get("status", "500"))
    server._outage = Outage(status=status, delay=float(query.get("delay", "60" if slow else "0")))
    return f"OK\n{query.get('status', '500')}\n"


def local_restore(server: S2lowServer, query: dict[str, str], form: Form) -> Answer:
    """/_local/restore: S²low is back."""
    server._outage = None
    return "OK\n"


Route = Callable[[S2lowServer, dict[str, str], Form], Answer]
ROUTES: dict[tuple[str, str], Route] = {
    ("GET", "/api/test-connexion.php"): test_connexion,
    ("GET", "/api/info-connexion.php"): info_connexion,
    ("POST", "/modules/actes/actes_transac_create.php"): actes_create,
    ("GET", "/modules/actes/actes_transac_get_status.php"): actes_status,
    ("GET", "/modules/actes/api/list_actes.php"): actes_list,
    ("GET", "/modules/actes/actes_transac_get_files_list.php"): actes_files_list,
    ("GET", "/modules/actes/actes_download_file.php"): actes_download,
    ("GET", "/modules/actes/actes_transac_get_tampon.php"): actes_tampon,
    ("POST", "/modules/actes/actes_transac_cancel.php"): actes_cancel,
    ("GET", "/modules/actes/actes_classification_fetch.php"): classification_fetch,
    ("POST", "/modules/helios/api/helios_importer_fichier.php"): helios_import,
    ("GET", "/modules/helios/api/helios_transac_get_status.php"): helios_status,
    ("GET", "/modules/helios/helios_download_acquit.php"): helios_acquit,
    ("GET", "/_local/prefecture"): local_act,
    ("GET", "/_local/fail"): local_fail,
    ("GET", "/_local/outage"): local_outage,
    ("GET", "/_local/restore"): local_restore,
}


def serve(
    port: int = 0,
    *,
    host: str = "127.0.0.1",
    tls: Certificates | None = None,
    auto_after: int | None = 2,
    auto_refuse: bool = False,
    users: dict[str, str] | None = None,
) -> tuple[S2lowServer, threading.Thread, str]:
    """Start a local S²low in a thread; returns the server, its thread and its base URL."""
    server = S2lowServer((host, port), tls=tls, auto_after=auto_after, auto_refuse=auto_refuse, users=users)
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name=f"s2low-{server.server_address[1]}",
        daemon=True,
    )
    thread.start()
    return server, thread, server.url


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Un S²low local (actes et Hélios) pour les tests et la démo.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8311)
    parser.add_argument(
        "--tls-dir", type=Path, help="servir en HTTPS avec certificat client ; les certificats y sont créés"
    )
    parser.add_argument(
        "--auto-after", type=int, default=2, help="la préfecture répond après N consultations (0 : jamais)"
    )
    parser.add_argument("--refuse", action="store_true", help="la préfecture refuse au lieu d'acquitter")
    parser.add_argument("--user", action="append", default=[], metavar="LOGIN:MOT_DE_PASSE")
    args = parser.parse_args(argv)
    from django.conf import settings

    if not settings.configured:  # run on its own: the formats' messages need Django's translation machinery
        settings.configure(USE_I18N=False)
    tls = make_certificates(args.tls_dir) if args.tls_dir else None
    if tls is not None:
        (args.tls_dir / "client.pem").write_text(tls.client_cert_pem, encoding="ascii")
        (args.tls_dir / "client.key").write_text(tls.client_key_pem, encoding="ascii")
        (args.tls_dir / "client.key").chmod(0o600)
    users = dict(u.partition(":")[::2] for u in args.user)
    server, thread, url = serve(
        args.port, host=args.host, tls=tls, auto_after=args.auto_after or None, auto_refuse=args.refuse, users=users
    )
    print(f"S²low local sur {url}" + (f" (certificats dans {args.tls_dir})" if tls else ""), flush=True)
    try:
        thread.join()
    except KeyboardInterrupt:
        server.shutdown()


if __name__ == "__main__":
    main()
