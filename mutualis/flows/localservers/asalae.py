"""A local As@lae speaking its REST web services on loopback, for the archive adapter's tests and the demo.

What it answers, as As@lae does (shapes read from Pastell's as@lae-rest connector):
- HTTP basic authentication whose password is the SHA-256 (hexadecimal) of the account's password;
- `GET /ping` (no authentication) and `GET /versions`: JSON;
- `POST /sedaMessages`: multipart `seda_message` (the SEDA 2.1 ArchiveTransfer) and `attachments`
  (the files, tar.gz or zip). A message that is not well-formed or does not validate against the
  SEDA 2.1 schema is refused at once (400); a MessageIdentifier already received from the same
  transferring agency is refused (409). Otherwise the transfer is received and acknowledged; each
  BinaryDataObject's file is looked up in the attachments and its digest and size checked;
- `GET /sedaMessages/sequence:ArchiveTransfer/message:{Acknowledgement|ArchiveTransferReply}/
  originOrganizationIdentification:{transferring agency}/originMessageIdentifier:{message id}`: the SEDA
  2.1 message, or 404 while there is none.

The reply is ReplyCode 000 (accepted) when the archivist accepts; a transfer whose files are missing
or do not match their digest or size is answered 200 at once, and an archivist's refusal 300. The
archivist acts by `accept(message_id)` / `reject(message_id, comment)`, or by itself after
`auto_after` reply polls (the demo), refusing the transfers whose identifier contains « REFUS ».
"""

from __future__ import annotations

import base64
import hashlib
import io
import itertools
import tarfile
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from lxml import etree

from mutualis.flows.formats.seda import NS, build_acknowledgement, build_archive_transfer_reply
from mutualis.flows.formats.xml import FormatError, parse, schema_errors
from mutualis.flows.localservers.loopback import LoopbackHandler, LoopbackServer, main, route, start

DEMO_LOGIN = "mutualis"
DEMO_PASSWORD = "secret"  # noqa: S105 - the local server's account, worthless anywhere else
ARCHIVAL_AGENCY = "SAE-LOCAL"
REPLY_ACCEPTED = "000"
REPLY_NONCONFORMING_FILES = "200"
REPLY_REFUSED = "300"
# A fixed instant keeps every answer byte-for-byte deterministic.
ANSWER_TIME = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
DIGESTS = {"SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512"}
MESSAGE_PATH = (
    r"/sedaMessages/sequence:ArchiveTransfer/message:(?P<kind>Acknowledgement|ArchiveTransferReply)"
    r"/originOrganizationIdentification:(?P<org>[^/]*)/originMessageIdentifier:(?P<message_id>[^/]+)"
)


@dataclass
class Transfer:
    message_id: str
    transferring_agency: str
    xml: bytes
    files: dict[str, bytes]
    acknowledgement: bytes
    reply: bytes = b""
    reply_code: str = ""
    polls: int = 0


class AsalaeServer(LoopbackServer):
    def __init__(
        self, port: int = 0, *, auto_after: int | None = None, login: str = DEMO_LOGIN, password: str = DEMO_PASSWORD
    ) -> None:
        super().__init__(AsalaeHandler, port)
        self.auto_after = auto_after
        self.login = login
        self.password_sha256 = hashlib.sha256(password.encode("utf-8")).hexdigest()
        self.transfers: dict[tuple[str, str], Transfer] = {}
        self._numbers = itertools.count(1)

    def _transfer(self, message_id: str) -> Transfer:
        matches = [t for (_org, mid), t in self.transfers.items() if mid == message_id]
        if not matches:
            raise KeyError(message_id)
        return matches[0]

    def accept(self, message_id: str, comment: str = "Versement accepté") -> None:
        with self.lock:
            self._reply(self._transfer(message_id), REPLY_ACCEPTED, comment)

    def reject(self, message_id: str, comment: str = "Versement refusé par l'archiviste") -> None:
        with self.lock:
            self._reply(self._transfer(message_id), REPLY_REFUSED, comment)

    def _reply(self, transfer: Transfer, code: str, comment: str) -> None:
        transfer.reply_code = code
        transfer.reply = build_archive_transfer_reply(
            message_id=f"ATR-{next(self._numbers):06d}",
            request_id=transfer.message_id,
            reply_code=code,
            at=ANSWER_TIME,
            archival_agency=ARCHIVAL_AGENCY,
            transferring_agency=transfer.transferring_agency,
            comment=comment,
        )


class AsalaeHandler(LoopbackHandler):
    server: AsalaeServer
    routes = (
        route("GET", r"/ping", "ping"),
        route("GET", r"/versions", "versions"),
        route("POST", r"/sedaMessages", "receive"),
        route("GET", MESSAGE_PATH, "message"),
    )

    def authorized(self) -> bool:
        if self.path == "/ping":
            return True
        expected = f"{self.server.login}:{self.server.password_sha256}".encode()
        header = self.headers.get("Authorization", "")
        if header == "Basic " + base64.b64encode(expected).decode("ascii"):
            return True
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="as@lae"')
        body = b'{"message": "Identifiant ou mot de passe incorrect"}'
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        return False

    def ping(self) -> None:
        self.send_json("webservices as@lae accessibles")

    def versions(self) -> None:
        self.send_json({"application": "as@lae", "denomination": "As@lae local", "version": "2.1.0"})

    def receive(self) -> None:
        parts = {part.name: part for part in self.multipart()}
        if "seda_message" not in parts:
            self.send_json({"message": "Le bordereau seda_message est requis"}, status=400)
            return
        xml = parts["seda_message"].content
        try:
            root = parse(xml, what="Le bordereau")
        except FormatError as exc:
            self.send_json({"message": exc.message}, status=400)
            return
        if root.tag != f"{{{NS}}}ArchiveTransfer":
            self.send_json({"message": "Le bordereau n'est pas un ArchiveTransfer SEDA 2.1"}, status=400)
            return
        errors = schema_errors(root, "seda-2.1")
        if errors:
            self.send_json({"message": "Bordereau non conforme au schéma SEDA 2.1", "errors": errors}, status=400)
            return
        message_id = _text(root, "MessageIdentifier")
        agency = _text(root, "TransferringAgency/s:Identifier")
        try:
            files = _unpack(parts["attachments"].content) if "attachments" in parts else {}
        except (tarfile.TarError, zipfile.BadZipFile, OSError):
            self.send_json({"message": "Les pièces jointes ne sont ni un tar.gz ni un zip lisible"}, status=400)
            return
        server = self.server
        with server.lock:
            if (agency, message_id) in server.transfers:
                self.send_json({"message": f"Le message {message_id} a déjà été reçu"}, status=409)
                return
            transfer = Transfer(
                message_id=message_id,
                transferring_agency=agency,
                xml=xml,
                files=files,
                acknowledgement=build_acknowledgement(
                    message_id=f"ACK-{next(server._numbers):06d}",
                    received_id=message_id,
                    at=ANSWER_TIME,
                    sender=ARCHIVAL_AGENCY,
                    receiver=agency,
                    comment="Votre transfert d'archive a été pris en compte par la plate-forme as@lae",
                ),
            )
            problems = nonconformities(root, files)
            if problems:
                server._reply(transfer, REPLY_NONCONFORMING_FILES, " ; ".join(problems))
            server.transfers[(agency, message_id)] = transfer
        self.send_json("ok")

    def message(self, kind: str, org: str, message_id: str) -> None:
        server = self.server
        with server.lock:
            transfer = server.transfers.get((unquote(org), unquote(message_id)))
            if transfer is None:
                self.send_json({"message": "Message inconnu"}, status=404)
                return
            if kind == "Acknowledgement":
                content = transfer.acknowledgement
            else:
                if not transfer.reply:
                    transfer.polls += 1
                    if server.auto_after and transfer.polls >= server.auto_after:
                        if "REFUS" in transfer.message_id.upper():
                            server._reply(transfer, REPLY_REFUSED, "Versement refusé par l'archiviste")
                        else:
                            server._reply(transfer, REPLY_ACCEPTED, "Versement accepté")
                content = transfer.reply
            if not content:
                self.send_json({"message": "Pas encore de réponse pour ce transfert"}, status=404)
                return
        self.send_bytes(content, content_type="application/xml")


def _text(root: etree._Element, path: str) -> str:
    found = root.xpath(f"s:{path}/text()", namespaces={"s": NS})
    return str(found[0]).strip() if found else ""


def _unpack(content: bytes) -> dict[str, bytes]:
    """The attachments' files by their path inside the archive (tar.gz, or zip)."""
    if content[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return {name: archive.read(name) for name in archive.namelist() if not name.endswith("/")}
    files = {}
    with tarfile.open(fileobj=io.BytesIO(content), mode="r:*") as archive:
        for member in archive.getmembers():
            extracted = archive.extractfile(member) if member.isfile() else None
            if extracted is not None:
                files[member.name.removeprefix("./")] = extracted.read()
    return files


def nonconformities(root: etree._Element, files: dict[str, bytes]) -> list[str]:
    """What the received files contradict in the transfer: a missing file, a wrong digest or size."""
    problems = []
    ns = {"s": NS}
    for obj in root.iterfind(".//s:BinaryDataObject", namespaces=ns):
        uri = (obj.findtext("s:Uri", namespaces=ns) or "").strip()
        digest = obj.find("s:MessageDigest", namespaces=ns)
        content = files.get(uri)
        if content is None:
            problems.append(f"Fichier absent : {uri}")
            continue
        algorithm = DIGESTS.get(digest.get("algorithm", "") if digest is not None else "")
        if digest is None or algorithm is None:
            problems.append(f"Empreinte absente ou d'algorithme inconnu : {uri}")
        elif hashlib.new(algorithm, content).hexdigest() != (digest.text or "").strip().lower():
            problems.append(f"Empreinte incorrecte : {uri}")
        size = (obj.findtext("s:Size", namespaces=ns) or "").strip()
        if size and size != str(len(content)):
            problems.append(f"Taille incorrecte : {uri}")
    return problems


def serve(port: int = 0, *, auto_after: int | None = None, **options: Any) -> tuple[AsalaeServer, Any, str]:
    """A running local As@lae: (server, thread, base URL)."""
    server = AsalaeServer(port, auto_after=auto_after, **options)
    thread, url = start(server)
    return server, thread, url


if __name__ == "__main__":
    main(
        "As@lae local (compte mutualis / secret, mot de passe envoyé en SHA-256)",
        lambda args: AsalaeServer(args.port, auto_after=args.auto_after or None),
    )
