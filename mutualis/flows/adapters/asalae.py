"""As@lae (REST web services, SEDA 2.1) as the ArchivePort: a transfer and its files, then the archive's answers.

The ArchiveTransfer goes to `POST /sedaMessages` with its files packed in a tar.gz under the names its
BinaryDataObjects' `Uri` give; As@lae's basic authentication takes the SHA-256 of the password, not the
password. The transfer is then followed by its MessageIdentifier: first the Acknowledgement (received),
then the ArchiveTransferReply — accepted when its ReplyCode is 000, refused otherwise (a business
refusal, not an error). Before sending, the acknowledgement is looked up by the same identifier, so a
job run twice never sends the transfer twice.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
from collections.abc import Mapping
from typing import Any, Self
from urllib.parse import quote

import requests
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mutualis.flows.adapters.base import Setting, http, register, required
from mutualis.flows.formats.seda import NS, parse_acknowledgement, parse_archive_transfer_reply
from mutualis.flows.formats.xml import parse
from mutualis.flows.ports import FileToSend, Outcome, RemoteState, UnrecoverableError

SERVICE = "As@lae"
# The packed files' date: the same transfer always packs to the same bytes.
PACKED_MTIME = 1_767_600_000


def pack(files: tuple[FileToSend, ...]) -> bytes:
    """The attachments As@lae expects: a tar.gz holding each file under its name (the transfer's Uri)."""
    buffer = io.BytesIO()
    # gzip stamps the time of packing in its header unless told otherwise.
    with (
        gzip.GzipFile(fileobj=buffer, mode="wb", mtime=PACKED_MTIME) as zipped,
        tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as archive,
    ):
        for file in files:
            info = tarfile.TarInfo(file.name)
            info.size = len(file.content)
            info.mtime = PACKED_MTIME
            info.mode = 0o644
            archive.addfile(info, io.BytesIO(file.content))
    return buffer.getvalue()


@register
class AsalaeArchive:
    """ArchivePort on As@lae's REST web services."""

    kind = "asalae"
    port = "archive"
    label = gettext_lazy("As@lae (archivage électronique, SEDA 2.1)")
    settings = (
        Setting(
            "url",
            gettext_lazy("Adresse des services web"),
            help=gettext_lazy("Par exemple https://sae.exemple.fr/restservices"),
        ),
        Setting("login", gettext_lazy("Identifiant")),
        Setting("password", gettext_lazy("Mot de passe"), secret=True),
        Setting(
            "transferring_agency",
            gettext_lazy("Identifiant du service versant"),
            help=gettext_lazy("Celui du bordereau (TransferringAgency) : As@lae y range les réponses."),
        ),
    )

    def __init__(self, values: Mapping[str, str], *, timeout: float) -> None:
        self.url = values["url"].rstrip("/")
        # As@lae compares the SHA-256 of the password, never the password itself.
        self.auth = (values["login"], hashlib.sha256(values["password"].encode("utf-8")).hexdigest())
        self.agency = values["transferring_agency"]
        self.timeout = timeout
        self.session = requests.Session()

    @classmethod
    def from_config(cls, config: Mapping[str, str], *, timeout: float = 30) -> Self:
        return cls(required(config, cls.settings), timeout=timeout)

    def _call(
        self, method: str, path: str, *, tolerated: tuple[int, ...] = (), **kwargs: Any
    ) -> requests.Response | None:
        """One authenticated call; an answer whose status is `tolerated` (404: no such message yet) gives None."""
        statuses: list[int] = []

        def record(response: requests.Response, *args: Any, **kw: Any) -> None:
            statuses.append(response.status_code)

        try:
            return http(
                method,
                self.url + path,
                service=SERVICE,
                timeout=self.timeout,
                session=self.session,
                auth=self.auth,
                hooks={"response": record},
                **kwargs,
            )
        except UnrecoverableError:
            if statuses and statuses[-1] in tolerated:
                return None
            raise

    def _message(self, kind: str, message_id: str) -> bytes | None:
        response = self._call(
            "GET",
            f"/sedaMessages/sequence:ArchiveTransfer/message:{kind}"
            f"/originOrganizationIdentification:{quote(self.agency, safe='')}"
            f"/originMessageIdentifier:{quote(message_id, safe='')}",
            tolerated=(404,),
            headers={"Accept": "application/xml"},
        )
        return None if response is None else response.content

    def check(self) -> str:
        response = self._call("GET", "/versions", headers={"Accept": "application/json"})
        try:
            version = str(response.json().get("version", "")) if response is not None else ""
        except (ValueError, AttributeError):
            version = ""
        if not version:
            raise UnrecoverableError(_("As@lae a répondu, mais sans numéro de version : l'adresse est-elle la bonne ?"))
        return _("Connexion réussie à As@lae (version %(version)s).") % {"version": version}

    def submit(self, transfer_xml: bytes, files: tuple[FileToSend, ...], *, message_id: str) -> str:
        root = parse(transfer_xml, what=_("Le bordereau de versement"))
        ns = {"s": NS}
        stated_id = (root.findtext("s:MessageIdentifier", namespaces=ns) or "").strip()
        agency = (root.findtext("s:TransferringAgency/s:Identifier", namespaces=ns) or "").strip()
        if stated_id != message_id:
            raise UnrecoverableError(
                _("Le bordereau porte l'identifiant %(stated)s au lieu de %(expected)s.")
                % {"stated": stated_id, "expected": message_id}
            )
        if agency != self.agency:
            raise UnrecoverableError(
                _("Le service versant du bordereau (%(stated)s) n'est pas celui du connecteur (%(expected)s).")
                % {"stated": agency, "expected": self.agency}
            )
        if self._message("Acknowledgement", message_id) is not None:
            return message_id  # already received: sent by an earlier run of this job
        # 409: received meanwhile under this identifier (a concurrent run); it is the same transfer.
        self._call(
            "POST",
            "/sedaMessages",
            tolerated=(409,),
            headers={"Accept": "application/json"},
            files=[
                ("seda_message", ("bordereau.xml", transfer_xml, "application/xml")),
                ("attachments", ("attachments.tar.gz", pack(files), "application/gzip")),
            ],
        )
        return message_id

    def poll(self, remote_id: str) -> Outcome:
        acknowledgement = self._message("Acknowledgement", remote_id)
        if acknowledgement is None:
            return Outcome(
                RemoteState.PENDING, message=_("En attente de l'accusé de réception d'As@lae."), remote_status="envoye"
            )
        parse_acknowledgement(acknowledgement)
        reply = self._message("ArchiveTransferReply", remote_id)
        if reply is None:
            return Outcome(
                RemoteState.PENDING,
                message=_("Accusé de réception reçu, en attente de la réponse d'As@lae."),
                remote_status="accuse",
                proofs={"acknowledgement.xml": acknowledgement},
            )
        answer = parse_archive_transfer_reply(reply)
        proofs = {"acknowledgement.xml": acknowledgement, "archive-transfer-reply.xml": reply}
        if answer.accepted:
            return Outcome(
                RemoteState.DONE,
                message=_("Versement accepté par As@lae (code %(code)s).") % {"code": answer.reply_code},
                remote_status=answer.reply_code,
                proofs=proofs,
            )
        return Outcome(
            RemoteState.REJECTED,
            message=_("Versement refusé par As@lae (code %(code)s) : %(comment)s")
            % {"code": answer.reply_code, "comment": answer.comment or _("sans motif")},
            remote_status=answer.reply_code,
            proofs=proofs,
        )
