"""Pages of the document flows: per member and flow, documents by state, what is stuck and why,
a document's log and proofs, the upload forms, and the member's connectors (operator staff)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from mutualis.accounts.requests import signed_in
from mutualis.core.forms import add_service_errors
from mutualis.core.pagination import page_or_404
from mutualis.core.tenancy import is_operator, may_write, require_operator_staff
from mutualis.flows import engine, ports, rights, selectors, services, supervision
from mutualis.flows.enums import ERROR_STATES, FINAL_STATES, FLOW_STEPS, WAITING_STATES, FlowType, Port, State, StepName
from mutualis.flows.forms import ActForm, ConnectorForm, DocumentForm, PesForm
from mutualis.flows.models import ConnectorInstance
from mutualis.members.models import Organisation

PAGE_SIZE = 50


def _flow(value: str) -> str:
    if value not in FlowType.values:
        raise Http404(_("flux inconnu"))
    return value


def _member(request: HttpRequest, slug: str) -> Organisation:
    member = selectors.member_get(request.user, slug)
    if member.is_operator:  # flows are the members' (and partners'), not the operator's own
        raise Http404(_("adhérent introuvable"))
    return member


def _groups(counts: dict[str, int]) -> dict[str, int]:
    return {
        "total": sum(counts.values()),
        "running": sum(n for s, n in counts.items() if s not in FINAL_STATES and s not in ERROR_STATES),
        "errors": sum(n for s, n in counts.items() if s in ERROR_STATES),
        "done": counts.get(State.TERMINE, 0),
        "refused": sum(
            n for s, n in counts.items() if s in FINAL_STATES and s not in {State.TERMINE, State.ANNULATION}
        ),
    }


@login_required
def index(request: HttpRequest) -> HttpResponse:
    """Every member's flows (operator staff) or the account's own member's, with counts by state."""
    counts = selectors.state_counts(request.user)
    members = {m.pk: m for m in selectors.members_for(request.user).filter(pk__in={k[0] for k in counts})}
    own = None if is_operator(request.user) else signed_in(request).organisation
    rows = sorted(
        (
            {"member": members[member_id], "flow": FlowType(flow), "counts": _groups(by_state), "key": flow}
            for (member_id, flow), by_state in counts.items()
            if member_id in members and flow in FlowType.values
        ),
        key=lambda row: (str(row["member"]), str(row["key"])),
    )
    return render(
        request,
        "flows/index.html",
        {
            "rows": rows,
            "stuck": selectors.stuck_documents(request.user),
            "own": own,
            # The deposit buttons of the account's own member: the flows it may act in (flows/rights.py).
            "deposit_flows": rights.acting_flows(request.user, own) if own else frozenset(),
            "with_pastell": supervision.members_with_pastell(request.user),
            "flows": FlowType.choices,
            "members": selectors.members_for(request.user).only("pk", "name", "slug")
            if is_operator(request.user)
            else [],
        },
    )


@login_required
def document_list(request: HttpRequest, slug: str, flow: str) -> HttpResponse:
    member = _member(request, slug)
    flow = _flow(flow)
    if not rights.may_see_flow(request.user, flow):  # a restricted flow the account does not manage
        raise Http404(_("flux inconnu"))
    state = request.GET.get("etat", "")
    if state and state not in State.values:
        state = ""
    counts = selectors.state_counts(request.user, member=member, flow=flow).get((member.pk, flow), {})
    page = page_or_404(
        Paginator(selectors.document_list(request.user, member=member, flow=flow, state=state), PAGE_SIZE),
        request.GET.get("page"),
    )
    return render(
        request,
        "flows/document_list.html",
        {
            "member": member,
            "flow": FlowType(flow),
            "flow_value": flow,
            "state": state,
            "states": [(value, label, counts.get(value, 0)) for value, label in State.choices if counts.get(value)],
            "total": sum(counts.values()),
            "page": page,
            "query": f"etat={state}" if state else "",
            "stuck": selectors.stuck_documents(request.user, member=member, flow=flow),
            "can_write": rights.may_act(request.user, member, flow),
        },
    )


@login_required
def pastell_documents(request: HttpRequest, slug: str) -> HttpResponse:
    """The documents of the member's entity in an existing Pastell, read live, filtered by type.

    Pastell unreachable or refusing: the page says why, with status 502 (the upstream failed)."""
    member = _member(request, slug)
    instances = supervision.connectors(request.user, member)
    if not instances:
        raise Http404(_("aucun connecteur Pastell pour cet adhérent"))
    chosen = request.GET.get("connecteur", "")
    instance = next((i for i in instances if str(i.pk) == chosen), instances[0])
    type_ = request.GET.get("type", "")
    rows: list[supervision.PastellDocument] = []
    error, status = "", 200
    try:
        rows = supervision.documents(instance)
    except engine.NotConfigured as exc:
        error = exc.message
    except ports.FlowError as exc:
        error, status = exc.message, 502
    hidden = rights.hidden_flows(request.user)  # Pastell's types are the flows' names
    rows = [row for row in rows if row.type not in hidden]
    shown = [row for row in rows if row.type == type_] if type_ else rows
    base: dict[str, str] = {"connecteur": str(instance.pk)} if len(instances) > 1 else {}
    return render(
        request,
        "flows/pastell.html",
        {
            "member": member,
            "instance": instance,
            "instances": instances,
            "error": error,
            "total": len(rows),
            "types": supervision.type_counts(rows),
            "type": type_,
            "actions": supervision.action_counts(shown),
            "page": page_or_404(Paginator(shown, PAGE_SIZE), None if error else request.GET.get("page")),
            "base_query": urlencode(base),
            "query": urlencode({**base, "type": type_} if type_ else base),
            "is_staff": is_operator(request.user),
        },
        status=status,
    )


@login_required
def document_detail(request: HttpRequest, pk: int) -> HttpResponse:
    document = selectors.document_get(request.user, pk)
    step = next((s for s in FLOW_STEPS[document.flow] if s.port and document.state == s.sent), None)
    may_act = rights.may_act(request.user, document.member, document.flow)
    return render(
        request,
        "flows/document_detail.html",
        {
            "document": document,
            "flow": FlowType(document.flow),
            "state": State(document.state),
            "log": document.log.select_related("actor"),
            "files": document.files.all(),
            "steps": [s for s in FLOW_STEPS[document.flow] if s.name in document.steps],
            "in_error": document.state in ERROR_STATES,
            "waiting": document.state in WAITING_STATES,
            "can_retry": may_act and document.state in ERROR_STATES,
            "can_cancel": may_act and document.state not in FINAL_STATES and (step is None or step.cancellable),
            "remote_ids": [
                (StepName(s.name).label, document.remote_id(s.port))
                for s in FLOW_STEPS[document.flow]
                if s.port and s.name in document.steps and document.remote_id(s.port)
            ],
        },
    )


@login_required
@require_POST
def document_retry(request: HttpRequest, pk: int) -> HttpResponse:
    document = selectors.document_get(request.user, pk)
    try:
        services.document_retry(actor=signed_in(request), document=document)
        messages.success(request, _("Le document reprend là où il s'était arrêté."))
    except engine.InvalidTransition as exc:
        messages.error(request, exc.message)
    except PermissionDenied as exc:  # the flow names managers and the account is not one
        messages.error(request, str(exc))
    return redirect("flows:document", pk=pk)


@login_required
@require_POST
def document_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    document = selectors.document_get(request.user, pk)
    try:
        services.document_cancel(actor=signed_in(request), document=document)
        messages.success(request, _("Le document est annulé."))
    except engine.InvalidTransition as exc:
        messages.error(request, exc.message)
    except PermissionDenied as exc:  # the flow names managers and the account is not one
        messages.error(request, str(exc))
    return redirect("flows:document", pk=pk)


@login_required
def file_download(request: HttpRequest, pk: int, file_pk: int) -> FileResponse:
    document = selectors.document_get(request.user, pk)
    row = selectors.file_get(request.user, document, file_pk)
    return FileResponse(row.file.open("rb"), as_attachment=True, filename=row.name)


@login_required
def document_create(request: HttpRequest, slug: str, flow: str) -> HttpResponse:
    member = _member(request, slug)
    flow = _flow(flow)
    if not rights.may_see_flow(request.user, flow):
        raise Http404(_("flux inconnu"))
    if flow == FlowType.PAYSLIP:
        # Payslips come as the month's payroll file, split and matched to agents, never one by one.
        return redirect("flows:payslip_batches", slug=member.slug)
    refusal = rights.write_refusal(request.user, member, flow)
    if refusal is not None:  # read only, or the flow names managers and the account is not one
        context = {"member": member, "flow": FlowType(flow), "refusal": refusal}
        return render(request, "flows/write_refused.html", context, status=403)
    if flow == FlowType.HELIOS:
        return _pes_create(request, member)
    form_class = ActForm if flow == FlowType.ACTE else DocumentForm
    form = form_class(request.POST or None, request.FILES or None, flow=flow)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k not in {"main", "attachments", "steps"}}
        try:
            document = services.document_create(
                actor=signed_in(request),
                member=member,
                flow=flow,
                data=data,
                steps=form.cleaned_data["steps"],
                main=form.cleaned_data["main"],
                attachments=form.cleaned_data["attachments"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Document déposé : il part dans le flux."))
            return redirect("flows:document", pk=document.pk)
    title = _("Déposer un acte") if flow == FlowType.ACTE else _("Déposer un document à signer")
    status = 400 if form.errors else 200
    return render(
        request,
        "flows/document_form.html",
        {"form": form, "member": member, "flow": FlowType(flow), "title": title},
        status=status,
    )


def _pes_create(request: HttpRequest, member: Organisation) -> HttpResponse:
    form = PesForm(request.POST or None, request.FILES or None, flow=FlowType.HELIOS)
    if request.method == "POST" and form.is_valid():
        try:
            document = services.pes_create(
                actor=signed_in(request),
                member=member,
                main=form.cleaned_data["main"],
                steps=form.cleaned_data["steps"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Fichier PES vérifié et déposé : il part au comptable."))
            return redirect("flows:document", pk=document.pk)
    return render(
        request,
        "flows/document_form.html",
        {"form": form, "member": member, "flow": FlowType(FlowType.HELIOS), "title": _("Déposer un fichier PES")},
        status=400 if form.errors else 200,
    )


# --- connectors (operator staff) ------------------------------------------------------------------


@login_required
def connector_list(request: HttpRequest, slug: str) -> HttpResponse:
    require_operator_staff(request.user)
    member = _member(request, slug)
    instances, bindings = selectors.connectors(request.user, member)
    adapters = engine.adapters()
    ports = [(p, label) for p, label in Port.choices]
    table = [
        {
            "flow": FlowType(flow),
            "flow_value": flow,
            "ports": [
                {
                    "port": p,
                    "label": label,
                    "bound": bindings.get((flow, p)),
                    "choices": [i for i in instances if getattr(adapters.get(i.kind), "port", "") == p],
                }
                for p, label in ports
                if any(s.port == p for s in FLOW_STEPS[flow])
            ],
        }
        for flow in FlowType.values
    ]
    return render(
        request,
        "flows/connectors.html",
        {
            "member": member,
            "instances": instances,
            "bindings": table,
            "kinds": sorted((kind, str(getattr(cls, "label", kind))) for kind, cls in adapters.items()),
            "can_write": may_write(request.user),
        },
    )


def _connector_form(
    request: HttpRequest, member: Organisation, kind: str, instance: ConnectorInstance | None
) -> HttpResponse:
    adapter = engine.adapters().get(kind)
    if adapter is None:
        raise Http404(_("type de connecteur inconnu"))
    initial: dict[str, Any] = {}
    if instance is not None:
        initial = {"label": instance.label, **{f"s_{k}": v for k, v in instance.config.items()}}
    form = ConnectorForm(request.POST or None, initial=initial, adapter=adapter, editing=instance is not None)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.connector_save(
                actor=signed_in(request),
                member=member,
                kind=kind,
                label=form.cleaned_data["label"],
                values=form.values(),
                instance=instance,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Connecteur « %(label)s » enregistré.") % {"label": saved.label})
            return redirect("flows:connectors", slug=member.slug)
    title = _("Connecteur %(kind)s") % {"kind": getattr(adapter, "label", kind)}
    return render(
        request,
        "flows/connector_form.html",
        {"form": form, "member": member, "title": title, "instance": instance},
        status=400 if form.errors else 200,
    )


@login_required
def connector_create(request: HttpRequest, slug: str, kind: str) -> HttpResponse:
    require_operator_staff(request.user)
    return _connector_form(request, _member(request, slug), kind, None)


@login_required
def connector_edit(request: HttpRequest, pk: int) -> HttpResponse:
    require_operator_staff(request.user)
    instance = selectors.connector_get(request.user, pk)
    return _connector_form(request, instance.member, instance.kind, instance)


@login_required
@require_POST
def connector_check(request: HttpRequest, pk: int) -> HttpResponse:
    require_operator_staff(request.user)
    instance = selectors.connector_get(request.user, pk)
    ok, message = services.connector_check(actor=signed_in(request), instance=instance)
    (messages.success if ok else messages.error)(
        request, _("Test de « %(label)s » : %(message)s") % {"label": instance.label, "message": message}
    )
    return redirect("flows:connectors", slug=instance.member.slug)


@login_required
@require_POST
def binding_set(request: HttpRequest, slug: str) -> HttpResponse:
    require_operator_staff(request.user)
    member = _member(request, slug)
    flow = _flow(request.POST.get("flow", ""))
    port = request.POST.get("port", "")
    if port not in Port.values:
        raise Http404(_("étape inconnue"))
    raw = request.POST.get("instance", "")
    instance = None
    if raw:
        instance = ConnectorInstance.objects.visible_to(request.user).filter(member=member, pk=raw).first()
        if instance is None:
            raise Http404(_("connecteur introuvable"))
    try:
        services.binding_set(actor=signed_in(request), member=member, flow=flow, port=port, instance=instance)
        messages.success(request, _("Association enregistrée."))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("flows:connectors", slug=member.slug)


@login_required
@require_POST
def classification_fetch(request: HttpRequest, slug: str) -> HttpResponse:
    require_operator_staff(request.user)
    member = _member(request, slug)
    try:
        count = services.classification_fetch(actor=signed_in(request), member=member)
        messages.success(request, _("Classification importée : %(n)s matières.") % {"n": count})
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("flows:connectors", slug=member.slug)
