"""The flows' API, for business applications: submit an act or a PES file, read a document's state.

Its own NinjaAPI under /api/v1/flux/ because its authentication is its own: a flow token
(services.flow_token_create) belongs to a member's service account and is valid for ONE member
and ONE flow; personal tokens and browser sessions are not accepted here, and a flow token is
accepted nowhere else. Refusals follow the API's rule: another member's document is 404."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from ninja import File, Form, NinjaAPI, Schema, Swagger, UploadedFile
from ninja.security import HttpBearer

from mutualis.core.api_errors import install as install_error_handlers
from mutualis.flows import services
from mutualis.flows.enums import FlowType, State
from mutualis.flows.models import FlowDocument, FlowToken


class FlowTokenAuth(HttpBearer):
    openapi_description = (
        "Jeton de flux (Authorization: Bearer mtf_…) remis par l'opérateur au compte de service d'une "
        "application métier : il ne vaut que pour un adhérent et un flux."
    )

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        found = services.flow_token_authenticate(token)
        if found is not None:
            request.user = found.user
        return found


api = NinjaAPI(
    title="Mutualis API — flux documentaires",
    version="1",
    description=(
        "Dépôt d'actes et de fichiers PES par les applications métier des adhérents. Authentification : jeton de flux."
    ),
    auth=FlowTokenAuth(),
    urls_namespace="flows-api",
    docs=Swagger(settings={"validatorUrl": None}),
)
install_error_handlers(api)


class DocumentOut(Schema):
    id: int
    flow: str
    number: str
    subject: str
    state: str
    state_label: str
    error: str
    steps: list[str]
    signature_remote_id: str
    transmission_remote_id: str
    archive_remote_id: str


def _out(document: FlowDocument) -> dict[str, Any]:
    return {
        "id": document.pk,
        "flow": document.flow,
        "number": document.number,
        "subject": document.subject,
        "state": document.state,
        "state_label": str(State(document.state).label),
        "error": document.error_message,
        "steps": list(document.steps),
        "signature_remote_id": document.signature_remote_id,
        "transmission_remote_id": document.transmission_remote_id,
        "archive_remote_id": document.archive_remote_id,
    }


def _token(request: HttpRequest) -> FlowToken:
    token = request.auth  # type: ignore[attr-defined]
    assert isinstance(token, FlowToken)
    return token


@api.post("/actes", response={201: DocumentOut}, summary="Déposer un acte")
def act_submit(
    request: HttpRequest,
    number: Form[str],
    nature: Form[int],
    subject: Form[str],
    decision_date: Form[dt.date],
    classification: Form[str],
    main: File[UploadedFile],
    steps: Form[list[str]] = ["signature", "transmission", "archive"],  # noqa: B006 (ninja reads it, never mutates)
    attachments: File[list[UploadedFile]] = [],  # noqa: B006
) -> tuple[int, dict[str, Any]]:
    """The act, its PDF and annexes; the same checks as the upload page. 201 with the document."""
    token = _token(request)
    if token.flow != FlowType.ACTE:
        raise PermissionDenied("ce jeton ne vaut pas pour le flux des actes")
    document = services.document_create(
        actor=token.user,
        member=token.member,
        flow=FlowType.ACTE,
        data={
            "number": number,
            "nature": nature,
            "subject": subject,
            "decision_date": decision_date,
            "classification": classification,
        },
        steps=steps,
        main=main,
        attachments=attachments,
        via="api",
    )
    return 201, _out(document)


@api.post("/pes", response={201: DocumentOut}, summary="Déposer un fichier PES (Hélios)")
def pes_submit(
    request: HttpRequest,
    main: File[UploadedFile],
    steps: Form[list[str]] = ["helios", "archive"],  # noqa: B006 (ninja reads it, never mutates)
) -> tuple[int, dict[str, Any]]:
    """A PES Aller as the finance software produced it; checked as on the upload page, then sent to
    the Treasury through the member's S²low. 201 with the document; 400 naming what is wrong."""
    token = _token(request)
    if token.flow != FlowType.HELIOS:
        raise PermissionDenied("ce jeton ne vaut pas pour le flux Hélios")
    document = services.pes_create(actor=token.user, member=token.member, main=main, steps=steps, via="api")
    return 201, _out(document)


@api.get("/documents/{document_id}", response=DocumentOut, summary="État d'un document")
def document_read(request: HttpRequest, document_id: int) -> dict[str, Any]:
    token = _token(request)
    # The token's scope is the gate: its member's documents of its flow, nothing else.
    document = (
        FlowDocument.objects.visible_to(token.user).filter(member=token.member, flow=token.flow, pk=document_id).first()
    )
    if document is None:
        raise Http404("document introuvable")
    return _out(document)
