"""The flow engine: moves a document through its steps by calling its member's connectors.

One run (`document_advance`) claims the document's lock with a conditional UPDATE (two runners:
one wins, the other returns at once and calls nothing), then does what is due, one remote call at
a time: submit a step (the remote id is committed before anything polls it, and the call carries
an idempotency key that does not change between tries, `<document>:<step>`), poll it, or end the
flow. A `RecoverableError` counts a try and schedules the next one with the connector kind's
backoff, until the tries are spent: then the step's error state, reason « Trop d'essais ». An
`UnrecoverableError` stops at the step's error state with the adapter's reason. A business refusal
is the step's rejected state. Runs come from the task queue (flows/tasks.py) and from the sweep
(`mutualis flows_run`), which picks up every document whose next try is due.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import importlib
import logging
import pkgutil
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from mutualis.core.audit import audit_record
from mutualis.core.models import AuditAction
from mutualis.flows import ports
from mutualis.flows.adapters.base import POLL_SECONDS, timeout_of
from mutualis.flows.enums import (
    FINAL_STATES,
    FLOW_STEPS,
    TRANSITION_TABLE,
    Action,
    Port,
    State,
    Step,
    StepName,
)
from mutualis.flows.models import ActionLog, FileRole, FlowBinding, FlowDocument, FlowFile
from mutualis.flows.secrets import decrypt

logger = logging.getLogger("mutualis.flows")

LOCK_TTL = dt.timedelta(minutes=10)  # a runner killed while holding a lock delays its document this long


@dataclass(frozen=True)
class RetryPolicy:
    """How often a connector kind is tried again after a recoverable failure, and polled."""

    max_tries: int = 6
    first_delay: dt.timedelta = dt.timedelta(minutes=1)
    factor: float = 2.0
    max_delay: dt.timedelta = dt.timedelta(hours=1)
    poll_every: dt.timedelta = dt.timedelta(minutes=1)

    def delay(self, tries: int) -> dt.timedelta:
        """The wait after the `tries`-th failure: first_delay, then times factor, capped."""
        seconds = self.first_delay.total_seconds() * self.factor ** max(tries - 1, 0)
        return min(dt.timedelta(seconds=seconds), self.max_delay)


DEFAULT_POLICY = RetryPolicy()
# Per connector kind (an adapter class may also carry its own `retry_policy`). The prefecture
# acknowledges within minutes to hours; a signatory takes days, polled less often.
RETRY_POLICIES: dict[str, RetryPolicy] = {
    "s2low": RetryPolicy(max_tries=8, first_delay=dt.timedelta(minutes=2), poll_every=dt.timedelta(minutes=5)),
    "iparapheur": RetryPolicy(max_tries=6, poll_every=dt.timedelta(minutes=15)),
    "asalae": RetryPolicy(max_tries=6, first_delay=dt.timedelta(minutes=5), poll_every=dt.timedelta(minutes=30)),
}

_loaded = False


def adapters() -> dict[str, type]:
    """The adapter registry, every module of mutualis/flows/adapters imported once (each registers itself)."""
    global _loaded
    from mutualis.flows.adapters import base

    if not _loaded:
        import mutualis.flows.adapters as package

        for module in pkgutil.iter_modules(package.__path__):
            if module.name != "base":
                importlib.import_module(f"{package.__name__}.{module.name}")
        _loaded = True
    return base.ADAPTERS


def policy_for(kind: str) -> RetryPolicy:
    cls = adapters().get(kind)
    own = getattr(cls, "retry_policy", None)
    return own if isinstance(own, RetryPolicy) else RETRY_POLICIES.get(kind, DEFAULT_POLICY)


class NotConfigured(ports.UnrecoverableError):
    pass


INTERNAL = "internal"  # the kind an internal adapter reports
# Ports served inside Mutualis (the publication of acts): port → a factory of the adapter. A higher
# app fills it in its AppConfig.ready(), so flows never imports it (the layers contract).
_INTERNAL: dict[str, Callable[[], Any]] = {}


def register_internal(port: str, factory: Callable[[], Any]) -> None:
    """Serve `port` inside Mutualis, with no connector nor binding. The adapter has `submit(document,
    main, *, idempotency_key) -> str` and `poll(remote_id) -> Outcome`; an optional
    `skip_reason(document) -> str` passes the step when it does not apply (a nature not published)."""
    _INTERNAL[port] = factory


def internal_adapter(port: str) -> Any | None:
    factory = _INTERNAL.get(port)
    return factory() if factory is not None else None


def connector_for(document: FlowDocument, port: str) -> tuple[Any, str]:
    """The adapter the document's member binds to this flow's port, built from its settings (its
    answer timeout included) and decrypted secrets, and its kind; an internal port's own adapter."""
    internal = internal_adapter(port)
    if internal is not None:
        return internal, INTERNAL
    binding = (
        FlowBinding.objects.select_related("instance")
        .filter(member_id=document.member_id, flow=document.flow, port=port)
        .first()
    )
    if binding is None:
        raise NotConfigured(
            _("Aucun connecteur de %(port)s n'est associé à ce flux pour cet adhérent.") % {"port": Port(port).label}
        )
    instance = binding.instance
    cls = adapters().get(instance.kind)
    if cls is None:
        raise NotConfigured(_("Le type de connecteur « %(kind)s » n'est pas installé.") % {"kind": instance.kind})
    config: dict[str, str] = {**{k: str(v) for k, v in instance.config.items()}, **decrypt(instance.secrets)}
    return cls.from_config(config, timeout=timeout_of(config)), instance.kind  # type: ignore[attr-defined]


# --- the one way a state changes ------------------------------------------------------------------


def check_transition(document: FlowDocument, action: str) -> None:
    if (document.flow, action, document.state) not in TRANSITION_TABLE:
        raise InvalidTransition(
            _("« %(action)s » n'est pas possible depuis l'état « %(state)s ».")
            % {"action": Action(action).label, "state": State(document.state).label}
        )


class InvalidTransition(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def apply_transition(
    document: FlowDocument,
    *,
    action: str,
    actor: Any = None,
    message: str = "",
    remote_id: str = "",
    now: dt.datetime,
    extra: Mapping[str, Any] | None = None,
    via: str = "job",
) -> None:
    """Inside the caller's transaction, with `document` locked: check the table, log, save, audit."""
    check_transition(document, action)
    before = document.state
    target = TRANSITION_TABLE[(document.flow, action, document.state)].target
    document.state = target
    fields = {"state", "updated_at"}
    for name, value in (extra or {}).items():
        setattr(document, name, value)
        fields.add(name)
    if target in FINAL_STATES:
        document.next_try_at = None
        fields.add("next_try_at")
    document.save(update_fields=sorted(fields))
    log(
        document,
        action=action,
        actor=actor,
        from_state=before,
        to_state=target,
        remote_id=remote_id,
        message=message,
        now=now,
    )
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=document,
        changes={"state": [before, target]},
        organisation_id=document.member_id,
        via=via,
    )


def log(
    document: FlowDocument,
    *,
    action: str,
    now: dt.datetime,
    actor: Any = None,
    from_state: str = "",
    to_state: str = "",
    remote_id: str = "",
    message: str = "",
) -> ActionLog:
    return ActionLog.objects.create(
        document=document,
        at=now,
        actor=actor,
        action=action,
        from_state=from_state,
        to_state=to_state or from_state,
        remote_id=remote_id,
        message=message[:4000],
    )


# --- the runner ---------------------------------------------------------------------------------


def claim(document_id: int, *, now: dt.datetime) -> str | None:
    """Take the document's lock, or None when another runner holds it (and has not expired)."""
    token = uuid.uuid4().hex
    taken = (
        FlowDocument.objects.filter(pk=document_id)
        .exclude(state__in=FINAL_STATES)
        .filter(Q(locked_by="") | Q(locked_until__lt=now))
        .update(locked_by=token, locked_until=now + LOCK_TTL)
    )
    return token if taken else None


def release(document_id: int, token: str) -> None:
    FlowDocument.objects.filter(pk=document_id, locked_by=token).update(locked_by="", locked_until=None)


def next_step(document: FlowDocument) -> Step | None:
    """The first chosen step after the current state, or None when the flow is over."""
    steps = FLOW_STEPS[document.flow]
    reached = -1
    for index, step in enumerate(steps):
        if step.port is not None and document.state == step.done:
            reached = index
    for step in steps[reached + 1 :]:
        if step.port is not None and step.name in document.steps:
            return step
    return None


def document_advance(document_id: int, *, now: dt.datetime | None = None, max_calls: int = 10) -> str:
    """Do what is due on one document; returns its state afterwards. Safe to run twice at once."""
    now = now or timezone.now()
    token = claim(document_id, now=now)
    if token is None:
        return FlowDocument.objects.values_list("state", flat=True).get(pk=document_id)
    try:
        for _call in range(max_calls):
            document = FlowDocument.objects.get(pk=document_id)
            if document.state in FINAL_STATES or document.resume_state:  # ended, or stopped on an error
                break
            if document.next_try_at is not None and document.next_try_at > now:
                break
            if not _work(document, now=now):
                break
        return FlowDocument.objects.values_list("state", flat=True).get(pk=document_id)
    finally:
        release(document_id, token)


def _work(document: FlowDocument, *, now: dt.datetime) -> bool:
    """One unit of work; True when more may be done at once (the next step can start)."""
    waiting = next((s for s in FLOW_STEPS[document.flow] if s.port and document.state == s.sent), None)
    if waiting is not None:
        return _poll(document, waiting, now=now)
    step = next_step(document)
    if step is None:
        with transaction.atomic():
            locked = FlowDocument.objects.select_for_update().get(pk=document.pk)
            apply_transition(locked, action=Action.TERMINE, now=now)
        return False
    if _skipped(document, step, now=now):
        return True
    return _submit(document, step, now=now)


def _skipped(document: FlowDocument, step: Step, *, now: dt.datetime) -> bool:
    """An internal step that does not apply to this document (an act of a nature its member does not
    publish) is taken out of the chosen steps, with the reason in the log; the flow goes on."""
    adapter = internal_adapter(step.port) if step.port else None
    check = getattr(adapter, "skip_reason", None)
    reason = str(check(document)) if check is not None else ""
    if not reason:
        return False
    with transaction.atomic():
        locked = FlowDocument.objects.select_for_update().get(pk=document.pk)
        locked.steps = [s for s in locked.steps if s != step.name]
        locked.save(update_fields=["steps", "updated_at"])
        message = _("%(step)s : %(reason)s") % {"step": StepName(step.name).label, "reason": reason}
        log(locked, action=Action.SKIPPED, from_state=locked.state, message=message, now=now)
    return True


def _policy(document: FlowDocument, port: str) -> RetryPolicy:
    if port in _INTERNAL:  # answered inside Mutualis at once: poll right after the submission
        return dataclasses.replace(DEFAULT_POLICY, poll_every=dt.timedelta(0))
    binding = (
        FlowBinding.objects.select_related("instance")
        .filter(member_id=document.member_id, flow=document.flow, port=port)
        .first()
    )
    if binding is None:
        return DEFAULT_POLICY
    policy = policy_for(binding.instance.kind)
    # A connector may poll at its own pace (a demo's local servers answer in seconds).
    poll = str(binding.instance.config.get(POLL_SECONDS, ""))
    return dataclasses.replace(policy, poll_every=dt.timedelta(seconds=int(poll))) if poll.isdigit() else policy


def _submit(document: FlowDocument, step: Step, *, now: dt.datetime) -> bool:
    assert step.port is not None
    key = f"{document.pk}:{step.name}"
    try:
        adapter, _kind = connector_for(document, step.port)
        remote_id = _call_submit(adapter, document, step, key)
    except ports.RecoverableError as exc:
        _failed_recoverably(document, step, exc, now=now)
        return False
    except ports.FlowError as exc:
        _failed(document, step, exc.message, now=now)
        return False
    # Committed before any poll: a runner killed after this line polls the same remote object.
    with transaction.atomic():
        locked = FlowDocument.objects.select_for_update().get(pk=document.pk)
        apply_transition(
            locked,
            action=step.sent,
            remote_id=remote_id,
            now=now,
            extra={
                f"{step.port}_remote_id": remote_id,
                "tries": 0,
                "next_try_at": now + _policy(document, step.port).poll_every,
                "last_message": "",
            },
        )
    return step.port in _INTERNAL


def _poll(document: FlowDocument, step: Step, *, now: dt.datetime) -> bool:
    assert step.port is not None
    remote_id = document.remote_id(step.port)
    try:
        adapter, _kind = connector_for(document, step.port)
        if step.name == StepName.HELIOS:
            poll = adapter.poll_pes
        else:
            poll = adapter.poll_act if step.port == Port.TRANSMISSION else adapter.poll
        outcome: ports.Outcome = poll(remote_id)
    except ports.RecoverableError as exc:
        _failed_recoverably(document, step, exc, now=now)
        return False
    except ports.FlowError as exc:
        _failed(document, step, exc.message, now=now)
        return False
    message = outcome.message or outcome.remote_status
    if outcome.state == ports.RemoteState.PENDING:
        policy = _policy(document, step.port)
        FlowDocument.objects.filter(pk=document.pk).update(
            next_try_at=now + policy.poll_every, tries=0, last_message=message[:1000]
        )
        return False
    action = {
        ports.RemoteState.DONE: step.done,
        ports.RemoteState.REJECTED: step.rejected,
        ports.RemoteState.CANCELLED: State.ANNULATION,
    }[outcome.state]
    with transaction.atomic():
        locked = FlowDocument.objects.select_for_update().get(pk=document.pk)
        for name, content in outcome.proofs.items():
            store_file(locked, role=_proof_role(step, name), name=name, content=content, step=step.name)
        apply_transition(
            locked,
            action=action,
            remote_id=remote_id,
            message=message,
            now=now,
            extra={"tries": 0, "next_try_at": None, "last_message": message[:1000]},
        )
    return outcome.state == ports.RemoteState.DONE


def _proof_role(step: Step, name: str) -> str:
    lowered = name.lower()
    if step.name == StepName.SIGNATURE:
        return FileRole.BORDEREAU if "bordereau" in lowered else FileRole.SIGNED
    if step.name == StepName.TRANSMISSION:
        if lowered.endswith(".xml"):
            return FileRole.ARACTE
        return FileRole.STAMPED if lowered.endswith(".pdf") else FileRole.PROOF
    if step.name == StepName.ARCHIVE:
        return FileRole.ARCHIVE_REPLY
    if step.name == StepName.HELIOS:
        return FileRole.PES_ACQUIT
    return FileRole.PROOF  # the publication's receipt among them


def _failed_recoverably(document: FlowDocument, step: Step, exc: ports.FlowError, *, now: dt.datetime) -> None:
    assert step.port is not None
    policy = _policy(document, step.port)
    tries = document.tries + 1
    if tries >= policy.max_tries:
        _failed(
            document,
            step,
            _("Trop d'essais (%(tries)s) : %(message)s") % {"tries": tries, "message": exc.message},
            now=now,
            tries=tries,
        )
        return
    when = now + policy.delay(tries)
    with transaction.atomic():
        locked = FlowDocument.objects.select_for_update().get(pk=document.pk)
        locked.tries = tries
        locked.next_try_at = when
        locked.last_message = exc.message[:1000]
        locked.save(update_fields=["tries", "next_try_at", "last_message", "updated_at"])
        log(
            locked,
            action=Action.NOUVEL_ESSAI,
            from_state=locked.state,
            remote_id=locked.remote_id(step.port),
            message=_("Essai %(tries)s sur %(max)s échoué : %(message)s")
            % {"tries": tries, "max": policy.max_tries, "message": exc.message},
            now=now,
        )
    logger.warning("flow document %s: %s failed (try %d), next at %s", document.pk, step.name, tries, when)


def _failed(document: FlowDocument, step: Step, message: str, *, now: dt.datetime, tries: int | None = None) -> None:
    """The step's error state, with the reason; the state before is kept to resume from."""
    with transaction.atomic():
        locked = FlowDocument.objects.select_for_update().get(pk=document.pk)
        resume = locked.state
        apply_transition(
            locked,
            action=step.error,
            message=message,
            remote_id=locked.remote_id(step.port) if step.port else "",
            now=now,
            extra={
                "resume_state": resume,
                "error_message": message[:4000],
                "next_try_at": None,
                "tries": tries if tries is not None else locked.tries,
            },
        )


# --- what each step sends -----------------------------------------------------------------------


def _files(document: FlowDocument, *roles: str) -> list[FlowFile]:
    return [f for f in document.files.all() if f.role in roles]


def _to_send(file: FlowFile) -> ports.FileToSend:
    with file.file.open("rb") as handle:
        content = handle.read()
    lowered = file.name.lower()
    mime = "application/pdf" if lowered.endswith(".pdf") else "application/octet-stream"
    if lowered.endswith(".xml"):
        mime = "application/xml"
    return ports.FileToSend(name=file.name, content=content, mime=mime, typology=file.typology)


def _current_main(document: FlowDocument) -> tuple[ports.FileToSend, tuple[ports.FileToSend, ...]]:
    """The signed document once signed, the uploaded one before; the annexes as uploaded."""
    signed = _files(document, FileRole.SIGNED)
    main = signed[-1] if signed else _files(document, FileRole.MAIN)[0]
    return _to_send(main), tuple(_to_send(f) for f in _files(document, FileRole.ATTACHMENT))


def _call_submit(adapter: Any, document: FlowDocument, step: Step, key: str) -> str:
    main, attachments = _current_main(document)
    if step.name == StepName.MAILSEC:  # the payslips (flows/payslips.py): a link mailed to the agent
        fields = document.fields
        return str(
            adapter.send(
                to=str(fields.get("mail_to", "")),
                subject=str(fields.get("mail_subject") or document.subject),
                body=str(fields.get("mail_body", "")),
                file=main,
                idempotency_key=key,
            )
        )
    if step.name == StepName.SIGNATURE:
        return str(
            adapter.submit(
                title=document.subject,
                main=main,
                attachments=attachments,
                type_=str(document.fields.get("signature_type", "")),
                subtype=str(document.fields.get("signature_subtype", "")),
                idempotency_key=key,
            )
        )
    if step.name == StepName.PUBLICATION:  # the PDF as transmitted: the signed one, never the stamped copy
        return str(adapter.submit(document, main, idempotency_key=key))
    if step.name == StepName.HELIOS:  # the PES Aller as the finance software produced it
        return str(adapter.submit_pes(main.name, main.content, idempotency_key=key))
    if step.name == StepName.TRANSMISSION:
        return str(adapter.submit_act(act_to_transmit(document, main, attachments), idempotency_key=key))
    if step.name == StepName.ARCHIVE:
        from mutualis.flows.archiving import archive_transfer

        transfer, files = archive_transfer(document, message_id=key)
        with transaction.atomic():
            locked = FlowDocument.objects.select_for_update().get(pk=document.pk)
            if not locked.files.filter(role=FileRole.ARCHIVE_TRANSFER).exists():
                store_file(
                    locked, role=FileRole.ARCHIVE_TRANSFER, name="ArchiveTransfer.xml", content=transfer, step=step.name
                )
        return str(adapter.submit(transfer, files, message_id=key))
    raise ports.UnrecoverableError(_("Étape inconnue : %(step)s") % {"step": step.name})


def act_to_transmit(
    document: FlowDocument, main: ports.FileToSend, attachments: tuple[ports.FileToSend, ...]
) -> ports.ActToTransmit:
    member = document.member
    fields = document.fields
    assert document.nature is not None and document.decision_date is not None
    return ports.ActToTransmit(
        number=document.number,
        nature=document.nature,
        subject=document.subject,
        decision_date=document.decision_date,
        classification=tuple(str(fields.get("classification", "")).split(".")),
        classification_version=dt.date.fromisoformat(
            str(fields.get("classification_version") or document.decision_date.isoformat())
        ),
        main=main,
        attachments=attachments,
        siren=member.siren,
        department=member.department,
        arrondissement=member.arrondissement,
    )


def store_file(
    document: FlowDocument, *, role: str, name: str, content: bytes, step: str = "", typology: str = ""
) -> FlowFile:
    row = FlowFile(
        document=document,
        role=role,
        step=step,
        name=name,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        typology=typology,
    )
    row.file.save(name, ContentFile(content), save=False)
    row.save()
    return row


def due_documents(*, now: dt.datetime, limit: int = 500) -> list[int]:
    """Documents a sweep should advance: not ended, not in error, not locked, their next try due."""
    return list(
        FlowDocument.objects.exclude(state__in=FINAL_STATES)
        .filter(resume_state="")
        .filter(Q(next_try_at__isnull=True) | Q(next_try_at__lte=now))
        .filter(Q(locked_by="") | Q(locked_until__lt=now))
        .order_by("next_try_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
