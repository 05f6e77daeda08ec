"""Test doubles of the ports for the engine's own tests, registered in the adapter registry by
`installed()` only (and removed after): the real adapters are tested against local servers."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Self

from mutualis.flows import engine, ports
from mutualis.flows.adapters.base import ADAPTERS, Setting
from mutualis.flows.enums import FlowType, Port
from mutualis.flows.models import ConnectorInstance, FlowBinding
from mutualis.flows.secrets import encrypt
from mutualis.members.models import Organisation


@dataclass
class Remote:
    """What the fake services did and will do: every call, errors to raise, answers to polls."""

    calls: list[tuple[str, str, str]] = field(default_factory=list)  # (port, operation, key or remote id)
    errors: dict[str, list[ports.FlowError]] = field(default_factory=dict)  # port → next errors
    outcomes: dict[str, list[ports.Outcome]] = field(default_factory=dict)  # port → next poll answers
    created: dict[str, str] = field(default_factory=dict)  # idempotency key → remote id
    during_submit: Any = None  # called inside submit (a second runner, say)
    configs: list[Mapping[str, str]] = field(default_factory=list)
    archived: list[bytes] = field(default_factory=list)

    def fail(self, port: str, *errors: ports.FlowError) -> None:
        self.errors.setdefault(port, []).extend(errors)

    def answer(self, port: str, *outcomes: ports.Outcome) -> None:
        self.outcomes.setdefault(port, []).extend(outcomes)

    def _raise(self, port: str) -> None:
        queue = self.errors.get(port) or []
        if queue:
            raise queue.pop(0)

    def create(self, port: str, key: str) -> str:
        self.calls.append((port, "submit", key))
        if self.during_submit is not None:
            hook, self.during_submit = self.during_submit, None
            hook()
        self._raise(port)
        # Idempotent like the real services: the same key gives the same remote object.
        return self.created.setdefault(key, f"{port}-{len(self.created) + 1}")

    def poll(self, port: str, remote_id: str) -> ports.Outcome:
        self.calls.append((port, "poll", remote_id))
        self._raise(port)
        queue = self.outcomes.get(port) or []
        return queue.pop(0) if queue else ports.Outcome(ports.RemoteState.PENDING, remote_status="en cours")


CURRENT: list[Remote] = []


class _Fake:
    port = ""
    settings = (Setting("url", "Adresse"), Setting("password", "Mot de passe", secret=True))

    def __init__(self, config: Mapping[str, str]) -> None:
        self.remote = CURRENT[-1]
        self.remote.configs.append(dict(config))

    @classmethod
    def from_config(cls, config: Mapping[str, str], *, timeout: float = 30) -> Self:
        return cls(config)

    def check(self) -> str:
        self.remote._raise(self.port)
        return "Connexion réussie."


class FakeSignature(_Fake):
    kind = "fake-signature"
    port = Port.SIGNATURE
    label = "signature de test"

    def submit(
        self, *, title: str, main: ports.FileToSend, attachments: Any, type_: str, subtype: str, idempotency_key: str
    ) -> str:
        return self.remote.create(self.port, idempotency_key)

    def poll(self, remote_id: str) -> ports.Outcome:
        return self.remote.poll(self.port, remote_id)

    def cancel(self, remote_id: str) -> None:
        self.remote.calls.append((self.port, "cancel", remote_id))


class FakeTransmission(_Fake):
    kind = "fake-transmission"
    port = Port.TRANSMISSION
    label = "transmission de test"

    def submit_act(self, act: ports.ActToTransmit, *, idempotency_key: str) -> str:
        return self.remote.create(self.port, idempotency_key)

    def poll_act(self, remote_id: str) -> ports.Outcome:
        return self.remote.poll(self.port, remote_id)

    def cancel_act(self, remote_id: str) -> None:
        self.remote.calls.append((self.port, "cancel", remote_id))


class FakeArchive(_Fake):
    kind = "fake-archive"
    port = Port.ARCHIVE
    label = "archive de test"

    def submit(self, transfer_xml: bytes, files: tuple[ports.FileToSend, ...], *, message_id: str) -> str:
        self.remote.archived.append(transfer_xml)
        return self.remote.create(self.port, message_id)

    def poll(self, remote_id: str) -> ports.Outcome:
        return self.remote.poll(self.port, remote_id)


FAKES: tuple[type[_Fake], ...] = (FakeSignature, FakeTransmission, FakeArchive)


@contextmanager
def installed() -> Iterator[Remote]:
    """The fakes in the registry for the time of a test (each test module wraps it in a fixture)."""
    engine.adapters()  # the real ones first, so they do not load over the fakes later
    remote = Remote()
    CURRENT.append(remote)
    for cls in FAKES:
        ADAPTERS[cls.kind] = cls
    try:
        yield remote
    finally:
        for cls in FAKES:
            ADAPTERS.pop(cls.kind, None)
        CURRENT.remove(remote)


def bind_fakes(member: Organisation, flows: tuple[str, ...] = (FlowType.ACTE, FlowType.DOCUMENT_A_SIGNER)) -> None:
    """A fake connector of each port for `member`, bound to its flows (written directly: set-up)."""
    for cls in FAKES:
        instance = ConnectorInstance.objects.create(
            member=member,
            kind=cls.kind,
            label=f"{cls.label} {member.slug}",
            config={"url": "http://127.0.0.1:9/"},
            secrets=encrypt({"password": "s3cret-pass"}),
        )
        for flow in flows:
            if flow == FlowType.DOCUMENT_A_SIGNER and cls.port == Port.TRANSMISSION:
                continue
            FlowBinding.objects.create(member=member, flow=flow, port=cls.port, instance=instance)
