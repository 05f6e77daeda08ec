"""Writes of the flows: connectors and bindings, documents (upload, retry, cancel), tokens, classification.

Each runs in a transaction, checks who may do it, and records itself in the audit log; state
changes go through `engine.apply_transition`, which checks flows/enums.py's table."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets as token_secrets
from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from mutualis.accounts.models import User
from mutualis.core.audit import audit_record, diff
from mutualis.core.models import AuditAction
from mutualis.core.tenancy import require_operator_staff, require_writer
from mutualis.core.uploads import check_upload
from mutualis.flows import engine, ports, rights
from mutualis.flows.adapters.base import COMMON_SETTINGS, POLL_SECONDS, TIMEOUT_RANGE, TIMEOUT_SECONDS, timeout_of
from mutualis.flows.enums import (
    AVAILABLE_STEPS,
    ERROR_STATES,
    FLOW_STEPS,
    TRANSITION_TABLE,
    WAITING_STATES,
    Action,
    FlowType,
    Port,
    State,
    StepName,
    step_of_state,
)
from mutualis.flows.formats.pes import check_pes_aller
from mutualis.flows.formats.xml import FormatError
from mutualis.flows.models import (
    ActClassification,
    ConnectorInstance,
    FileRole,
    FlowBinding,
    FlowDocument,
    FlowToken,
)
from mutualis.flows.secrets import decrypt, encrypt
from mutualis.members.models import Organisation

# The prefecture's limits (S²low): 150 MB per transaction; a PDF at most.
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_TOTAL_BYTES = 150 * 1024 * 1024
MAX_ATTACHMENTS = 20
ACT_NUMBER = re.compile(r"^[A-Z0-9](?:[A-Z0-9_]{0,13}[A-Z0-9])?$")
CLASSIFICATION = re.compile(r"^[1-9][0-9]?(?:\.[1-9][0-9]?){0,4}$")
NATURES = {1: "DE", 2: "AR", 3: "AI", 4: "CC", 5: "BF", 6: "AU"}


# --- connectors ---------------------------------------------------------------------------------


def _adapter_class(kind: str) -> Any:
    cls = engine.adapters().get(kind)
    if cls is None:
        raise ValidationError({"kind": _("type de connecteur inconnu : %(kind)s") % {"kind": kind}})
    return cls


def connector_save(
    *,
    actor: User,
    member: Organisation,
    kind: str,
    label: str,
    values: Mapping[str, str],
    instance: ConnectorInstance | None = None,
    via: str = "web",
) -> ConnectorInstance:
    """Create or edit a member's connector. A secret left empty keeps its stored value (forms never
    show it back); plain settings are replaced. Operator staff only: the accounts are theirs to set."""
    require_operator_staff(actor)
    require_writer(actor)
    cls = _adapter_class(kind)
    settings = (*cls.settings, *COMMON_SETTINGS)
    plain = {s.name: str(values.get(s.name, "")).strip() for s in settings if not s.secret}
    poll = plain.get(POLL_SECONDS, "")
    if poll and (not poll.isdigit() or not 5 <= int(poll) <= 86400):
        raise ValidationError({POLL_SECONDS: _("le rythme d'interrogation est un nombre de secondes entre 5 et 86400")})
    if not poll:
        plain.pop(POLL_SECONDS, None)
    wait = plain.get(TIMEOUT_SECONDS, "")
    if wait and (not wait.isdigit() or not TIMEOUT_RANGE[0] <= int(wait) <= TIMEOUT_RANGE[1]):
        message = _("le délai de réponse est un nombre de secondes entre %(low)s et %(high)s")
        raise ValidationError({TIMEOUT_SECONDS: message % {"low": TIMEOUT_RANGE[0], "high": TIMEOUT_RANGE[1]}})
    if not wait:
        plain.pop(TIMEOUT_SECONDS, None)
    stored = decrypt(instance.secrets) if instance is not None else {}
    hidden = {s.name: str(values.get(s.name) or stored.get(s.name, "")).strip() for s in settings if s.secret}
    missing = [str(s.label) for s in settings if s.required and not (plain.get(s.name) or hidden.get(s.name))]
    if missing:
        raise ValidationError(_("Paramètres obligatoires manquants : %(names)s.") % {"names": ", ".join(missing)})
    if not label.strip():
        raise ValidationError({"label": _("le libellé est obligatoire")})
    with transaction.atomic():
        if instance is None:
            instance = ConnectorInstance(member=member, kind=kind)
            before: dict[str, Any] = {}
            action = AuditAction.CREATE
        else:
            instance = ConnectorInstance.objects.select_for_update().get(pk=instance.pk)
            before = {"label": instance.label, **instance.config}
            action = AuditAction.UPDATE
        instance.label = label.strip()
        instance.config = plain
        instance.secrets = encrypt({k: v for k, v in hidden.items() if v})
        try:
            with transaction.atomic():
                instance.save()
        except IntegrityError:
            raise ValidationError({"label": _("cet adhérent a déjà un connecteur de ce nom")}) from None
        changes = diff(before, {"label": instance.label, **plain})
        changed_secrets = sorted(k for k, v in values.items() if v and k in hidden)
        if changed_secrets:
            # Which secrets changed, never their values.
            changes["secrets"] = [None, changed_secrets]
        audit_record(actor=actor, action=action, obj=instance, changes=changes, organisation_id=member.pk, via=via)
    return instance


def connector_check(*, actor: User, instance: ConnectorInstance, now: dt.datetime | None = None) -> tuple[bool, str]:
    """The « Tester » button: the adapter's harmless call; the outcome is kept on the connector."""
    require_operator_staff(actor)
    cls = _adapter_class(instance.kind)
    config = {**{k: str(v) for k, v in instance.config.items()}, **decrypt(instance.secrets)}
    try:
        message = str(cls.from_config(config, timeout=timeout_of(config)).check())
        ok = True
    except ports.FlowError as exc:
        message, ok = exc.message, False
    with transaction.atomic():
        ConnectorInstance.objects.filter(pk=instance.pk).update(
            last_check_at=now or timezone.now(), last_check_ok=ok, last_check_message=message[:2000]
        )
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=instance,
            changes={"last_check_ok": [None, ok]},
            organisation_id=instance.member_id,
        )
    return ok, message


def binding_set(
    *, actor: User, member: Organisation, flow: str, port: str, instance: ConnectorInstance | None, via: str = "web"
) -> FlowBinding | None:
    """Which connector a member's flow uses for a port; None removes the binding."""
    require_operator_staff(actor)
    require_writer(actor)
    if instance is not None:
        if instance.member_id != member.pk:
            raise ValidationError(_("le connecteur appartient à un autre adhérent"))
        if getattr(_adapter_class(instance.kind), "port", "") != port:
            raise ValidationError(
                _("« %(label)s » n'est pas un connecteur de %(port)s")
                % {"label": instance.label, "port": Port(port).label}
            )
    with transaction.atomic():
        current = FlowBinding.objects.select_for_update().filter(member=member, flow=flow, port=port).first()
        before = current.instance_id if current else None
        if instance is None:
            if current is not None:
                current.delete()
            binding = None
        elif current is None:
            binding = FlowBinding.objects.create(member=member, flow=flow, port=port, instance=instance)
        else:
            current.instance = instance
            current.save(update_fields=["instance", "updated_at"])
            binding = current
        after = instance.pk if instance else None
        if before != after:
            audit_record(
                actor=actor,
                action=AuditAction.UPDATE,
                obj=member,
                changes={f"flux {flow} / {port}": [before, after]},
                organisation_id=member.pk,
                object_repr=f"{member} : connecteur de {Port(port).label} du flux {FlowType(flow).label}",
                via=via,
            )
    return binding


# --- documents ----------------------------------------------------------------------------------


def _check_pdf(upload: UploadedFile, field: str) -> None:
    check_upload(upload, field=field, max_bytes=MAX_FILE_BYTES)
    upload.seek(0)
    head = upload.read(5)
    upload.seek(0)
    if not (upload.name or "").lower().endswith(".pdf") or head != b"%PDF-":
        raise ValidationError({field: _("« %(name)s » n'est pas un PDF.") % {"name": upload.name}})


def _check_steps(flow: str, steps: Sequence[str]) -> list[str]:
    names = [s.name for s in FLOW_STEPS[flow]]
    chosen = [s for s in names if s in steps]
    unknown = set(steps) - set(names)
    if unknown or not set(chosen) <= AVAILABLE_STEPS:
        raise ValidationError({"steps": _("étape inconnue pour ce flux : %(s)s") % {"s": ", ".join(sorted(unknown))}})
    if not chosen:
        raise ValidationError({"steps": _("choisissez au moins une étape")})
    return chosen


def act_check(*, member: Organisation, data: Mapping[str, Any], steps: Sequence[str]) -> dict[str, list[str]]:
    """The act's fields as @CTES and S²low want them, each problem in plain French, by field."""
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    number = str(data.get("number", "")).strip()
    if not number:
        add("number", _("le numéro de l'acte est obligatoire"))
    elif not ACT_NUMBER.match(number):
        add(
            "number",
            _(
                "le numéro de l'acte s'écrit en majuscules, chiffres et « _ » (pas au début ni à la fin), "
                "15 caractères au plus : par exemple 2026_DE_042"
            ),
        )
    elif FlowDocument.objects.filter(member=member, flow=FlowType.ACTE, number=number).exists():
        add("number", _("un acte de cet adhérent porte déjà le numéro %(n)s") % {"n": number})
    subject = str(data.get("subject", "")).strip()
    if not subject:
        add("subject", _("l'objet est obligatoire"))
    elif len(subject) > 499:
        add("subject", _("l'objet fait %(n)s caractères : 499 au plus") % {"n": len(subject)})
    nature = data.get("nature")
    if nature in (None, ""):
        add("nature", _("la nature de l'acte est obligatoire"))
    elif int(nature) not in NATURES:
        add("nature", _("nature inconnue"))
    decision_date = data.get("decision_date")
    if not decision_date:
        add("decision_date", _("la date de décision est obligatoire"))
    elif decision_date > timezone.localdate():
        add("decision_date", _("la date de décision ne peut pas être dans le futur"))
    classification = str(data.get("classification", "")).strip()
    if not classification:
        add("classification", _("la classification (matière) est obligatoire : par exemple 1.1"))
    elif not CLASSIFICATION.match(classification):
        add("classification", _("la classification s'écrit en chiffres séparés par des points : 1.1 ou 7.1.2"))
    elif classification.count(".") < 1:
        add("classification", _("la classification demande au moins deux niveaux : par exemple 1.1 plutôt que 1"))
    elif (
        ActClassification.objects.filter(member=member).exists()
        and not ActClassification.objects.filter(member=member, code=classification).exists()
    ):
        add("classification", _("ce code n'est pas dans la classification de la préfecture pour cet adhérent"))
    if StepName.TRANSMISSION in steps:
        missing = [
            label
            for label, value in (
                (_("SIREN"), member.siren),
                (_("département"), member.department),
                (_("arrondissement"), member.arrondissement),
            )
            if not value
        ]
        if missing:
            add(
                "steps",
                _("la transmission à la préfecture demande la fiche de l'adhérent complète : %(m)s manquant(s)")
                % {"m": ", ".join(str(m) for m in missing)},
            )
    return errors


@transaction.atomic
def document_create(
    *,
    actor: User,
    member: Organisation,
    flow: str,
    data: Mapping[str, Any],
    steps: Sequence[str],
    main: UploadedFile,
    attachments: Sequence[UploadedFile] = (),
    via: str = "web",
    now: dt.datetime | None = None,
) -> FlowDocument:
    """Upload a document into a flow (an act, or a document to sign), then queue its first run."""
    rights.require_flow_writer(actor, member, flow)
    now = now or timezone.now()
    chosen = _check_steps(flow, steps)
    errors: dict[str, list[str]] = {}
    if flow == FlowType.ACTE:
        errors = act_check(member=member, data=data, steps=chosen)
    elif not str(data.get("subject", "")).strip():
        errors["subject"] = [_("l'objet est obligatoire")]
    elif len(str(data["subject"])) > 499:
        errors["subject"] = [_("l'objet fait %(n)s caractères : 499 au plus") % {"n": len(str(data["subject"]))}]
    if errors:
        raise ValidationError(errors)
    _check_pdf(main, "main")
    if len(attachments) > MAX_ATTACHMENTS:
        raise ValidationError({"attachments": _("%(n)s annexes au plus") % {"n": MAX_ATTACHMENTS}})
    for upload in attachments:
        _check_pdf(upload, "attachments")
    if sum(u.size or 0 for u in (main, *attachments)) > MAX_TOTAL_BYTES:
        raise ValidationError({"attachments": _("l'acte et ses annexes dépassent 150 Mo ensemble")})
    nature = int(data["nature"]) if data.get("nature") not in (None, "") else None
    extra = {k: str(v) for k, v in data.items() if k in {"classification", "signature_type", "signature_subtype"} and v}
    document = FlowDocument.objects.create(
        member=member,
        flow=flow,
        steps=chosen,
        number=str(data.get("number", "")).strip(),
        subject=str(data.get("subject", "")).strip(),
        nature=nature,
        decision_date=data.get("decision_date") or None,
        fields=extra,
        created_by=actor,
    )
    code = NATURES.get(nature or 0, "AU")
    for role, upload, typology in (
        (FileRole.MAIN, main, f"99_{code}"),
        *((FileRole.ATTACHMENT, u, "") for u in attachments),
    ):
        content = upload.read()
        engine.store_file(document, role=role, name=upload.name or "document.pdf", content=content, typology=typology)
    engine.log(document, action=Action.CREATION, actor=actor, to_state=State.CREATION, now=now)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=document,
        changes={"flow": [None, flow], "number": [None, document.number], "steps": [None, chosen]},
        organisation_id=member.pk,
        via=via,
    )
    enqueue(document.pk)
    return document


@transaction.atomic
def pes_create(
    *,
    actor: User,
    member: Organisation,
    main: UploadedFile,
    steps: Sequence[str] = (StepName.HELIOS, StepName.ARCHIVE),
    via: str = "web",
    now: dt.datetime | None = None,
) -> FlowDocument:
    """A PES Aller from the member's finance software, to the Treasury through its S²low account.

    Checked before anything is stored (formats/pes.py: root, envelope, header), refused when its
    IdColl is another authority's SIRET or when the same file was already deposited (S²low would
    refuse the duplicate, after the fact); its subject and fields are read from the file."""
    rights.require_flow_writer(actor, member, FlowType.HELIOS)
    now = now or timezone.now()
    chosen = _check_steps(FlowType.HELIOS, steps)
    if StepName.HELIOS not in chosen:
        raise ValidationError({"steps": _("un fichier PES part toujours au comptable : gardez l'étape Hélios")})
    check_upload(main, field="main", max_bytes=MAX_TOTAL_BYTES)
    main.seek(0)
    content = main.read()
    try:
        pes = check_pes_aller(content)
    except FormatError as exc:
        raise ValidationError({"main": exc.message}) from None
    if member.siren and not pes.id_coll.startswith(member.siren):
        raise ValidationError(
            {
                "main": _("Le fichier PES est celui du SIRET %(siret)s (IdColl), pas de %(member)s (SIREN %(siren)s).")
                % {"siret": pes.id_coll, "member": member.name, "siren": member.siren}
            }
        )
    digest = hashlib.sha256(content).hexdigest()
    earlier = (
        FlowDocument.objects.filter(
            member=member, flow=FlowType.HELIOS, files__role=FileRole.MAIN, files__sha256=digest
        )
        .exclude(state=State.ANNULATION)
        .first()
    )
    if earlier is not None:
        raise ValidationError(
            {
                "main": _(
                    "Ce fichier PES a déjà été déposé le %(date)s (« %(subject)s ») : S²low refuserait le doublon."
                )
                % {
                    "date": formats.date_format(timezone.localtime(earlier.created_at), "DATE_FORMAT"),
                    "subject": earlier.subject,
                }
            }
        )
    blocks = {
        "PES_DepenseAller": _("dépenses"),
        "PES_RecetteAller": _("recettes"),
        "PES_BudgetAller": _("budget"),
        "PES_PJ": _("pièces justificatives"),
    }
    subject = _("PES %(blocks)s — %(label)s — %(name)s") % {
        "blocks": ", ".join(str(blocks[b]) for b in pes.blocks),
        "label": pes.label or _("budget %(code)s") % {"code": pes.cod_bud},
        "name": pes.file_name,
    }
    document = FlowDocument.objects.create(
        member=member,
        flow=FlowType.HELIOS,
        steps=chosen,
        subject=subject[:500],
        fields={
            "file_type": pes.file_type,
            "file_name": pes.file_name,
            "id_post": pes.id_post,
            "id_coll": pes.id_coll,
            "cod_col": pes.cod_col,
            "cod_bud": pes.cod_bud,
            "bordereaux": pes.bordereaux,
            "signed": pes.signed,
        },
        created_by=actor,
    )
    name = main.name or f"{pes.file_name}.xml"
    if not name.lower().endswith(".xml"):
        name += ".xml"
    engine.store_file(document, role=FileRole.MAIN, name=name, content=content)
    engine.log(document, action=Action.CREATION, actor=actor, to_state=State.CREATION, now=now)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=document,
        changes={"flow": [None, FlowType.HELIOS], "file_name": [None, pes.file_name], "steps": [None, chosen]},
        organisation_id=member.pk,
        via=via,
    )
    enqueue(document.pk)
    return document


def document_retry(
    *, actor: User, document: FlowDocument, now: dt.datetime | None = None, via: str = "web"
) -> FlowDocument:
    """Resume a document stopped in an error state from where it stopped, with fresh tries."""
    rights.require_flow_writer(actor, document.member, document.flow, action=rights.RETRY)
    now = now or timezone.now()
    with transaction.atomic():
        locked = FlowDocument.objects.select_for_update().get(pk=document.pk)
        if locked.state not in ERROR_STATES or not locked.resume_state:
            raise engine.InvalidTransition(
                _("seul un document en erreur peut être relancé (état actuel : %(s)s)")
                % {"s": State(locked.state).label}
            )
        step = step_of_state(locked.flow, locked.state)
        assert step is not None
        resume = locked.resume_state
        if resume != step.sent and (locked.flow, step.sent, resume) not in TRANSITION_TABLE:
            raise engine.InvalidTransition(_("l'état de reprise « %(s)s » n'est pas valide") % {"s": resume})
        before = locked.state
        locked.state = resume
        locked.resume_state = ""
        locked.error_message = ""
        locked.tries = 0
        locked.next_try_at = None
        locked.save(update_fields=["state", "resume_state", "error_message", "tries", "next_try_at", "updated_at"])
        engine.log(locked, action=Action.REPRISE, actor=actor, from_state=before, to_state=resume, now=now)
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=locked,
            changes={"state": [before, resume]},
            organisation_id=locked.member_id,
            via=via,
        )
        enqueue(locked.pk)
    return locked


def document_cancel(
    *, actor: User, document: FlowDocument, now: dt.datetime | None = None, via: str = "web"
) -> FlowDocument:
    """Cancel a document: a pending remote object is withdrawn first where the protocol allows it."""
    rights.require_flow_writer(actor, document.member, document.flow, action=rights.CANCEL)
    now = now or timezone.now()
    locked_doc = FlowDocument.objects.get(pk=document.pk)
    engine.check_transition(locked_doc, Action.ANNULATION)
    token = engine.claim(document.pk, now=now)
    if token is None:
        raise engine.InvalidTransition(_("le document est en cours de traitement : réessayez dans un instant"))
    try:
        if locked_doc.state in WAITING_STATES:
            step = step_of_state(locked_doc.flow, locked_doc.state)
            assert step is not None and step.port is not None
            adapter, _kind = engine.connector_for(locked_doc, step.port)
            remote_id = locked_doc.remote_id(step.port)
            try:
                (adapter.cancel_act if step.port == Port.TRANSMISSION else adapter.cancel)(remote_id)
            except ports.FlowError as exc:
                raise engine.InvalidTransition(
                    _("le service distant n'a pas accepté l'annulation : %(m)s") % {"m": exc.message}
                ) from exc
        with transaction.atomic():
            locked = FlowDocument.objects.select_for_update().get(pk=document.pk)
            engine.apply_transition(
                locked, action=Action.ANNULATION, actor=actor, now=now, via=via, extra={"resume_state": ""}
            )
    finally:
        engine.release(document.pk, token)
    return locked


def enqueue(document_id: int) -> None:
    """Run the document after the commit (the immediate backend runs it at once)."""
    from mutualis.flows.tasks import advance

    transaction.on_commit(lambda: advance.enqueue(document_id))


# --- classification -----------------------------------------------------------------------------


def classification_import(
    *, actor: User | None, member: Organisation, version: dt.date, codes: Mapping[str, str]
) -> int:
    """Replace a member's classification of acts with the prefecture's (RetourClassification)."""
    if actor is not None:
        require_operator_staff(actor)
    with transaction.atomic():
        ActClassification.objects.filter(member=member).delete()
        ActClassification.objects.bulk_create(
            ActClassification(member=member, version=version, code=code, label=label[:300])
            for code, label in sorted(codes.items())
        )
        audit_record(
            actor=actor,
            action=AuditAction.IMPORT,
            obj=member,
            changes={"classification": [None, f"{len(codes)} matières, version {version.isoformat()}"]},
            organisation_id=member.pk,
            object_repr=f"{member} : classification des actes",
        )
    return len(codes)


def classification_fetch(*, actor: User, member: Organisation) -> int:
    """Import the member's classification from its transmission connector (any flow bound to one)."""
    require_operator_staff(actor)
    from mutualis.flows.formats.actes import parse_classification

    binding = FlowBinding.objects.select_related("instance").filter(member=member, port=Port.TRANSMISSION).first()
    if binding is None:
        raise ValidationError(_("cet adhérent n'a pas de connecteur de transmission associé"))
    probe = FlowDocument(member=member, flow=binding.flow)
    adapter, _kind = engine.connector_for(probe, Port.TRANSMISSION)
    try:
        parsed = parse_classification(adapter.classification())
    except ports.FlowError as exc:
        raise ValidationError(exc.message) from exc
    codes = {".".join(path): label for path, label in parsed.flat()}
    return classification_import(actor=actor, member=member, version=parsed.version, codes=codes)


# --- API tokens scoped to one member and one flow -----------------------------------------------

FLOW_TOKEN_PREFIX = "mtf_"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def flow_token_create(
    *, actor: User | None, user: User, member: Organisation, flow: str, name: str
) -> tuple[FlowToken, str]:
    """A token for a business application's service account (`user`, one of the member's active
    accounts that may write), valid only to submit into `flow` for `member`. The secret is
    returned once and only its digest is stored. `actor` None: the command `mutualis
    flows_token`, run by the operator on the server. Each problem is a ValidationError on its
    field (`name`, `flow`, `user`), so the page shows it next to the field."""
    if actor is not None:
        require_operator_staff(actor)
        require_writer(actor)
    name = name.strip()
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = _("donnez un nom au jeton : l'application qui l'utilisera (par exemple « Logiciel d'actes »)")
    elif len(name) > 100:
        errors["name"] = _("le nom fait %(n)s caractères : 100 au plus") % {"n": len(name)}
    if flow not in FlowType.values:
        errors["flow"] = _("flux inconnu : « %(flow)s » (flux possibles : %(flows)s)") % {
            "flow": flow,
            "flows": ", ".join(FlowType.values),
        }
    if user.organisation_id != member.pk:
        errors["user"] = _("le compte de service doit appartenir à l'adhérent %(member)s") % {"member": member.name}
    elif not user.is_active:
        errors["user"] = _("le compte « %(user)s » est désactivé : choisissez un compte actif de l'adhérent") % {
            "user": user.get_username()
        }
    elif user.is_read_only:
        errors["user"] = _("le compte « %(user)s » est en lecture seule : il ne pourrait rien déposer") % {
            "user": user.get_username()
        }
    elif flow in FlowType.values and not rights.may_act(user, member, flow):
        # A token acts as its account: it must be able to act in the flow (flows/rights.py).
        errors["user"] = _(
            "le compte « %(user)s » ne peut pas agir dans le flux « %(flow)s » de %(member)s, dont seuls les "
            "gestionnaires déposent : nommez-le gestionnaire (page « Droits par flux ») avant de lui créer un jeton"
        ) % {"user": user.get_username(), "flow": FlowType(flow).label, "member": member.name}
    if errors:
        raise ValidationError(errors)
    secret = FLOW_TOKEN_PREFIX + token_secrets.token_urlsafe(32)
    with transaction.atomic():
        token = FlowToken.objects.create(
            member=member,
            flow=flow,
            user=user,
            name=name,
            prefix=secret[:12],
            digest=_digest(secret),
            created_by=actor,
        )
        audit_record(
            actor=actor,
            action=AuditAction.TOKEN_CREATE,
            obj=token,
            changes={"name": [None, name], "flow": [None, flow], "user": [None, user.pk]},
            organisation_id=member.pk,
            via="cli" if actor is None else "web",
        )
    return token, secret


def flow_token_revoke(
    *, actor: User | None, prefix: str = "", token: FlowToken | None = None, now: dt.datetime | None = None
) -> int:
    """Revoke `token` (the page), or the active flow tokens whose secret starts with `prefix` (the
    command, which shows the first characters). Returns how many were revoked: 0 when already so."""
    if actor is not None:
        require_operator_staff(actor)
        require_writer(actor)
    if token is None and len(prefix) < len(FLOW_TOKEN_PREFIX) + 4:
        raise ValidationError(_("donnez au moins les 8 premiers caractères du jeton"))
    now = now or timezone.now()
    with transaction.atomic():
        rows = FlowToken.objects.select_for_update().filter(revoked_at=None)
        chosen = rows.filter(pk=token.pk) if token is not None else rows.filter(prefix__startswith=prefix[:12])
        tokens = list(chosen)
        for row in tokens:
            row.revoked_at = now
            row.save(update_fields=["revoked_at", "updated_at"])
            audit_record(
                actor=actor,
                action=AuditAction.TOKEN_REVOKE,
                obj=row,
                changes={"revoked_at": [None, now.isoformat()]},
                organisation_id=row.member_id,
                via="cli" if actor is None else "web",
            )
    if token is not None and tokens:
        token.revoked_at = now
    return len(tokens)


# `last_used_at` tells the operator whether an application still uses its token, not when each
# request came: written at most once per minute, so a busy application costs no write (on SQLite,
# no lock of the whole database) per request.
FLOW_TOKEN_LAST_USED_PRECISION = dt.timedelta(seconds=60)


def flow_token_authenticate(secret: str, *, now: dt.datetime | None = None) -> FlowToken | None:
    """The active token behind `secret`, or None; records its use (once a minute at most)."""
    if not secret.startswith(FLOW_TOKEN_PREFIX):
        return None
    token = FlowToken.objects.select_related("user", "member").filter(digest=_digest(secret)).first()
    if token is None or token.revoked_at is not None or not token.user.is_active:
        return None
    if token.user.organisation_id != token.member_id:  # the account moved since: the scope no longer holds
        return None
    now = now or timezone.now()
    stale = now - FLOW_TOKEN_LAST_USED_PRECISION
    if token.last_used_at is None or token.last_used_at < stale:
        # Conditional, so concurrent requests with the same token write once.
        FlowToken.objects.filter(pk=token.pk).filter(Q(last_used_at__isnull=True) | Q(last_used_at__lt=stale)).update(
            last_used_at=now
        )
        token.last_used_at = now
    return token
