"""What the flow engine asks of a remote service, whatever its protocol.

An adapter (mutualis/flows/adapters/) speaks one protocol — i-Parapheur, S²low, As@lae, Pastell, secure
mail — and implements one of these ports. It knows nothing of the engine's models: it is built from a
connector instance's settings (secrets already decrypted) and is handed plain values. The engine stores
the remote identifier an adapter returns *before* it polls, and passes an idempotency key with every
call that creates something remotely, so a job run twice never creates two remote objects.

Errors say what the engine does next:
- `RecoverableError` (a timeout, a 5xx, a refused connection): retried with the connector's backoff,
  then a visible error state once the tries are spent;
- `UnrecoverableError` (a 4xx that will not change, a malformed answer, a missing setting): the document
  stops in an error state with the reason, nothing is retried;
- a business rejection (the signatory refused, the prefecture refused the act, the archive refused the
  transfer) is NOT an error: `poll` answers `RemoteState.REJECTED` with the reason, and the document
  moves to that state like any other.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol


class FlowError(Exception):
    """Base of the errors an adapter raises; `message` is shown to the operator as is (French)."""

    def __init__(self, message: str, *, detail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail


class RecoverableError(FlowError):
    """Worth trying again later: the service is down, slow or overloaded."""


class UnrecoverableError(FlowError):
    """Trying again will not help: a setting, the document or the answer is wrong."""


class RemoteState(enum.StrEnum):
    PENDING = "pending"  # still in progress remotely: poll again later
    DONE = "done"  # finished well: signed, acknowledged, archived, received
    REJECTED = "rejected"  # a business refusal, a normal end of the step
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class FileToSend:
    name: str
    content: bytes
    mime: str = "application/pdf"
    # For acts: the @CTES typology code of the piece (e.g. "99_DE"); empty elsewhere.
    typology: str = ""


@dataclass(frozen=True)
class ActToTransmit:
    """An act as the prefecture's transmission service wants it (@CTES)."""

    number: str  # NumeroInterne, ^[A-Z0-9][A-Z0-9_]{0,13}[A-Z0-9]$, unique per authority
    nature: int  # 1 DE, 2 AR, 3 AI, 4 CC, 5 BF, 6 AU
    subject: str  # ≤ 499 characters
    decision_date: date
    classification: tuple[str, ...]  # ("1", "1", "2") : CodeMatiere1..5, the first one or two required
    classification_version: date
    main: FileToSend
    attachments: tuple[FileToSend, ...] = ()
    siren: str = ""
    department: str = ""  # three characters, "069"
    arrondissement: str = ""


@dataclass(frozen=True)
class Outcome:
    """What `poll` learnt: the state, a message for the log, and the proofs fetched (name → bytes)."""

    state: RemoteState
    message: str = ""
    remote_status: str = ""  # the service's own status code or label, kept in the log
    proofs: Mapping[str, bytes] = field(default_factory=dict)


class SignaturePort(Protocol):
    """i-Parapheur v5 (REST) or v4 (SOAP): a folder to sign, then its signed documents."""

    def submit(
        self,
        *,
        title: str,
        main: FileToSend,
        attachments: tuple[FileToSend, ...],
        type_: str,
        subtype: str,
        idempotency_key: str,
    ) -> str: ...

    def poll(self, remote_id: str) -> Outcome: ...  # DONE carries the signed PDF(s) and the bordereau

    def cancel(self, remote_id: str) -> None: ...


class TransmissionPort(Protocol):
    """S²low (actes and Hélios): an act to the prefecture, a PES file to the Treasury."""

    def submit_act(self, act: ActToTransmit, *, idempotency_key: str) -> str: ...

    def poll_act(self, remote_id: str) -> Outcome: ...  # DONE = acknowledged, proofs: ARActe XML, stamped PDF

    def cancel_act(self, remote_id: str) -> None: ...

    def submit_pes(self, name: str, content: bytes, *, idempotency_key: str) -> str: ...

    def poll_pes(self, remote_id: str) -> Outcome: ...  # DONE/REJECTED, proofs: PES_ACQUIT

    def classification(self) -> bytes: ...  # the prefecture's RetourClassification XML


class ArchivePort(Protocol):
    """As@lae (REST, SEDA 2.1): an ArchiveTransfer with its files, then the acknowledgement and the reply."""

    def submit(self, transfer_xml: bytes, files: tuple[FileToSend, ...], *, message_id: str) -> str: ...

    def poll(self, remote_id: str) -> Outcome: ...  # DONE = ArchiveTransferReply ReplyCode 000


class SecureMailPort(Protocol):
    """A document sent by mail as a link to a receipt page; read receipts and reminders."""

    def send(self, *, to: str, subject: str, body: str, file: FileToSend, idempotency_key: str) -> str: ...

    def poll(self, remote_id: str) -> Outcome: ...  # DONE once the recipient fetched it


class SupervisionPort(Protocol):
    """An existing Pastell, read: its documents and their last action, shown in Mutualis."""

    def documents(self, entity_id: str, *, since: str = "") -> list[Mapping[str, str]]: ...
