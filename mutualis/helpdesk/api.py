"""API v1 tickets: list with the queue's filters, create, read, followups, transitions, assignment.

Same tenancy as the pages (the selectors scope every read: another member's ticket is 404), same
services for every write; mounted on mutualis.api.api's `api`, whose handlers turn a
ValidationError into 422, Http404 into 404 and PermissionDenied into 403."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from ninja import Field, Header, Router, Schema, Status
from ninja.pagination import paginate

from mutualis.accounts.models import User
from mutualis.accounts.requests import signed_in
from mutualis.catalog.cache import application_by_slug
from mutualis.catalog.models import Application
from mutualis.core.api_errors import ERRORS
from mutualis.core.api_pagination import PagePagination
from mutualis.core.idempotency import HEADER, idempotent
from mutualis.core.tenancy import is_operator, require_writer
from mutualis.helpdesk import services
from mutualis.helpdesk.enums import allowed_actions
from mutualis.helpdesk.models import Category, Ticket
from mutualis.helpdesk.selectors import QUEUE_VIEWS, followups_for, ticket_get, ticket_queue
from mutualis.members.models import OperatorService, Organisation

router = Router(tags=["tickets"])


TICKET_OUT_RELATED = ("collectivity", "requester", "application", "group", "technician")


class TicketOut(Schema):
    reference: str
    ticket_type: str
    status: str
    title: str
    collectivity: str = Field(..., alias="collectivity.slug")
    requester: str | None = Field(None, alias="requester.username")
    application: str | None = Field(None, alias="application.slug")
    group: str | None = Field(None, alias="group.slug")
    technician: str | None = Field(None, alias="technician.username")
    urgency: int
    impact: int
    priority: int
    blocking: bool
    source: str
    pending_reason: str
    opened_at: dt.datetime
    taken_at: dt.datetime | None
    solved_at: dt.datetime | None
    closed_at: dt.datetime | None
    tto_due_at: dt.datetime | None
    ttr_due_at: dt.datetime | None
    tto_breached: bool
    ttr_breached: bool


class TicketDetailOut(TicketOut):
    description: str
    category: str | None = Field(None, alias="category.slug")
    vendor_reference: str
    waiting_seconds: int
    external_id: str | None
    satisfaction: int | None
    actions: list[str] = []


class TicketIn(Schema):
    ticket_type: str
    title: str
    description: str
    collectivity: str | None = Field(None, description="identifiant de la collectivité (la sienne par défaut)")
    requester: str | None = Field(None, description="identifiant du compte demandeur (opérateur seulement)")
    application: str | None = None
    category: str | None = None
    urgency: int = 3
    impact: int = 3
    blocking: bool = False
    group: str | None = Field(None, description="identifiant du service de l'opérateur (opérateur seulement)")


class FollowupOut(Schema):
    id: int
    author: str | None = Field(None, alias="author.username")
    body: str
    is_private: bool
    is_solution: bool
    source: str
    created_at: dt.datetime


class FollowupIn(Schema):
    body: str
    is_private: bool = False


class TransitionIn(Schema):
    action: str
    comment: str = ""
    pending_reason: str = ""
    is_private: bool = Field(False, description="commentaire privé (opérateur seulement ; pas pour une solution)")


class AssignmentIn(Schema):
    group: str | None = None
    technician: str | None = None


def _get(rows: QuerySet[Any], field: str, lookup: dict[str, Any], label: str) -> Any:
    """The row of `rows` matching `lookup` (a tenant model's rows come through `visible_to`)."""
    try:
        return rows.get(**lookup)
    except rows.model.DoesNotExist:
        value = next(iter(lookup.values()))
        raise ValidationError({field: f"{label} inconnu(e) : {value!r}"}) from None


def _detail(request: HttpRequest, ticket: Ticket) -> Ticket:
    """The ticket with the actions the account may take on it now."""
    user = signed_in(request)
    try:
        kind = services.actor_kind(user, ticket)
    except Http404:  # an elected official reads but acts on nothing
        kind = ""
    ticket.actions = allowed_actions(ticket.status, kind) if kind and not user.is_read_only else []  # type: ignore[attr-defined]
    return ticket


@router.get("/", response={200: list[TicketOut], **ERRORS})
@paginate(PagePagination)
def list_tickets(
    request: HttpRequest,
    view: str = "all",
    status: str | None = None,
    collectivity: str | None = None,
    application: str | None = None,
    priority: int | None = None,
    type: str | None = None,  # noqa: A002 — the API's word for ticket_type
    q: str | None = None,
) -> Any:
    """Tickets the account may see, the staff queue's views (`all`, `open`, `mine`, `my_group`,
    `unassigned`, `at_risk`, `breached`) and filters."""
    if view not in QUEUE_VIEWS:
        raise ValidationError({"view": f"vue inconnue : {view!r} ({', '.join(QUEUE_VIEWS)})"})
    return ticket_queue(
        actor=signed_in(request),
        view=view,
        status=status,
        collectivity=collectivity,
        application=application,
        priority=priority,
        ticket_type=type,
        search=q,
    )


@router.post("/", response={201: TicketDetailOut, **ERRORS})
def create_ticket(
    request: HttpRequest,
    payload: TicketIn,
    idempotency_key: str | None = Header(
        None,
        alias=HEADER,
        description=(
            "clé choisie par le client (1 à 200 caractères ASCII visibles) : la même requête renvoyée avec la même "
            "clé dans les 24 heures répond le ticket créé la première fois au lieu d'en créer un second"
        ),
    ),
) -> Any:
    """A member files for its own collectivity; operator staff for any, naming the requester.
    With an `Idempotency-Key`, sending the same call again never creates a second ticket."""
    user = signed_in(request)
    staff = is_operator(user)
    if staff:
        if not payload.collectivity:
            raise ValidationError({"collectivity": "indiquez la collectivité concernée"})
        collectivity = _get(
            Organisation.objects.visible_to(user), "collectivity", {"slug": payload.collectivity}, "collectivité"
        )
    else:
        # Another member's collectivity is not disclosed: 404, as for its tickets.
        organisation = user.organisation
        if organisation is None or payload.collectivity not in {None, organisation.slug}:
            raise Http404("collectivité introuvable")
        collectivity = organisation
    # The service checks the requester belongs to the collectivity (and files an agent's own).
    requester = (
        _get(User.objects.all(), "requester", {"username": payload.requester}, "compte") if payload.requester else None
    )
    group = None
    if payload.group and staff:
        group = _get(OperatorService.objects.all(), "group", {"slug": payload.group}, "groupe")
    application = None
    if payload.application:
        application = application_by_slug(payload.application)
        if application is None:
            raise ValidationError({"application": f"application inconnu(e) : {payload.application!r}"})
    category = (
        _get(Category.objects.select_related("default_group"), "category", {"slug": payload.category}, "catégorie")
        if payload.category
        else None
    )
    created: list[Ticket] = []

    def create() -> str:
        created.append(
            services.ticket_create(
                actor=user,
                collectivity=collectivity,
                requester=requester,
                ticket_type=payload.ticket_type,
                title=payload.title,
                description=payload.description,
                application=application,
                category=category,
                urgency=payload.urgency,
                impact=payload.impact,
                blocking=payload.blocking,
                group=group,
                source="api",
                via="api",
            )
        )
        return created[0].reference

    if idempotency_key is None:
        create()
    else:
        reference, replayed = idempotent(
            actor=user, scope="helpdesk.ticket_create", key=idempotency_key, body=request.body, create=create
        )
        if replayed:
            return Status(201, _detail(request, ticket_get(actor=user, reference=reference)))
    ticket = created[0]
    # The answer names the application and the group by slug; the service wrote their ids (the
    # cached reference data holds values, not rows). The application's slug is in hand, and a
    # group chosen by the application or category costs one query by primary key. Reading the
    # ticket back through the gate with its five joins instead cost about a third of a creation
    # (bench.helpdesk on PostgreSQL, 200,000 tickets: 97 creations/s with it, 211 before it).
    if application is not None:
        ticket.application = Application(pk=application.id, slug=application.slug, name=application.name)
    if ticket.group_id and group is None:
        ticket.group = OperatorService.objects.only("id", "slug").get(pk=ticket.group_id)
    ticket.actions = []  # type: ignore[attr-defined]
    return Status(201, ticket)


@router.get("/{reference}", response={200: TicketDetailOut, **ERRORS})
def get_ticket(request: HttpRequest, reference: str) -> Any:
    return _detail(request, ticket_get(actor=signed_in(request), reference=reference))


@router.get("/{reference}/followups", response={200: list[FollowupOut], **ERRORS})
def list_followups(request: HttpRequest, reference: str) -> Any:
    """Public followups; operator staff also read the private notes."""
    ticket = ticket_get(actor=signed_in(request), reference=reference)
    return list(followups_for(actor=signed_in(request), ticket=ticket))


@router.post("/{reference}/followups", response={201: FollowupOut, **ERRORS})
def add_followup(request: HttpRequest, reference: str, payload: FollowupIn) -> Any:
    """A message on the ticket; private notes are for operator staff only (403)."""
    ticket = ticket_get(actor=signed_in(request), reference=reference)
    require_writer(request.user)
    followup = services.followup_add(
        actor=signed_in(request),
        ticket=ticket,
        body=payload.body,
        is_private=payload.is_private,
        source="api",
        via="api",
    )
    return Status(201, followup)


@router.post("/{reference}/transitions", response={200: TicketDetailOut, **ERRORS})
def transition_ticket(request: HttpRequest, reference: str, payload: TransitionIn) -> Any:
    """Move the ticket along the lifecycle (`take`, `wait`, `resume`, `solve`, `accept`, `refuse`,
    `close`, `reopen`); a move the transition table refuses is 422 with the reason."""
    ticket = ticket_get(actor=signed_in(request), reference=reference)
    require_writer(request.user)
    services.ticket_transition(
        actor=signed_in(request),
        ticket=ticket,
        action=payload.action,
        comment=payload.comment,
        pending_reason=payload.pending_reason,
        is_private=payload.is_private,
        via="api",
    )
    return _detail(request, ticket_get(actor=signed_in(request), reference=reference))


@router.post("/{reference}/assignment", response={200: TicketDetailOut, **ERRORS})
def assign_ticket(request: HttpRequest, reference: str, payload: AssignmentIn) -> Any:
    """Give the ticket to a group and/or a technician (operator staff)."""
    ticket = ticket_get(actor=signed_in(request), reference=reference)
    if not is_operator(request.user):
        raise PermissionDenied("attribution réservée aux agents de l'opérateur")
    require_writer(request.user)
    group = _get(OperatorService.objects.all(), "group", {"slug": payload.group}, "groupe") if payload.group else None
    technician = (
        _get(User.objects.all(), "technician", {"username": payload.technician}, "compte")
        if payload.technician
        else None
    )
    services.ticket_assign(actor=signed_in(request), ticket=ticket, group=group, technician=technician, via="api")
    return _detail(request, ticket_get(actor=signed_in(request), reference=reference))
