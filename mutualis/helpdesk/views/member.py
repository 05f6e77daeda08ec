"""The ticket routes a member's account uses (operator staff reach the same URLs and are handed to
views.staff): "Mes demandes", the member's ticket page, followups, solution accepted or refused,
reopening, a new request linked to a closed ticket, and attachments. The services decide what each
account may do."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from mutualis.accounts.requests import signed_in
from mutualis.catalog.models import Application
from mutualis.core.forms import add_service_errors
from mutualis.core.panels import panels_render
from mutualis.core.tenancy import is_operator, may_write, require_writer
from mutualis.helpdesk import selectors, services, timeline
from mutualis.helpdesk.enums import Action, Actor, Status, allowed_actions
from mutualis.helpdesk.forms_tickets import (
    AttachmentForm,
    FollowupForm,
    LinkedTicketForm,
    MemberFilterForm,
    RefuseForm,
)
from mutualis.helpdesk.member_list import member_rows, member_status_counts
from mutualis.helpdesk.models import Attachment, Ticket
from mutualis.helpdesk.survey import survey_open_to
from mutualis.helpdesk.views import staff
from mutualis.helpdesk.views.shared import paginate, query_without_page, report, ticket_url
from mutualis.helpdesk.views.survey import SurveyForm


# -- "Mes demandes" and the queue ---------------------------------------------------------------
@login_required
def ticket_index(request: HttpRequest) -> HttpResponse:
    """Staff get the queue; a member's account gets its requests (a manager: its collectivity's)."""
    if is_operator(request.user):
        return staff.queue(request)
    user = signed_in(request)
    applications = Application.objects.filter(tickets__collectivity_id=user.organisation_id).distinct()
    form = MemberFilterForm(request.GET or None, applications=applications)
    filters = form.cleaned_data if form.is_valid() else {}
    tickets = selectors.ticket_queue(
        actor=signed_in(request),
        view="all",
        application=filters.get("application") or None,
        status=filters.get("status") or None,
        ticket_type=filters.get("ticket_type") or None,
        **selectors.period_filters(request.GET),
    ).order_by("-opened_at", "-id")
    page = paginate(request, tickets)
    context = {
        "form": form,
        "page": page,
        "rows": member_rows(page, timezone.now()),
        "counts": member_status_counts(actor=user),
        "current_status": filters.get("status") or "",
        "filtered": any(value for key, value in request.GET.items() if key not in {"status", "page"}),
        "query": query_without_page(request),
        "whole_collectivity": user.role in {"member_manager", "elected"},
        "can_write": may_write(request.user),
    }
    return render(request, "helpdesk/member_index.html", context)


# -- one ticket ---------------------------------------------------------------------------------
def _requester_actions(request: HttpRequest, ticket: Ticket) -> list[str]:
    if not may_write(request.user):
        return []
    try:
        kind = services.actor_kind(signed_in(request), ticket)
    except Http404:
        return []
    return allowed_actions(ticket.status, kind) if kind == Actor.REQUESTER else []


def _can_reopen(ticket: Ticket, now: dt.datetime) -> bool:
    limit = dt.timedelta(days=settings.HELPDESK_REOPEN_DAYS)
    return ticket.closed_at is not None and now - ticket.closed_at <= limit


def member_ticket_page(request: HttpRequest, ticket: Ticket, **forms: Any) -> HttpResponse:
    now = timezone.now()
    actions = _requester_actions(request, ticket)
    can_write = may_write(request.user)
    user = signed_in(request)
    survey_form = forms.get("survey_form")
    context = {
        "ticket": ticket,
        "timeline": timeline.ticket_timeline(actor=user, ticket=ticket),
        "activity": timeline.latest_activity(actor=user, ticket=ticket),
        "survey_form": survey_form or (SurveyForm() if survey_open_to(ticket, user, now) else None),
        "can_write": can_write,
        "can_accept": Action.ACCEPT in actions,
        "can_refuse": Action.REFUSE in actions,
        "can_reopen": Action.REOPEN in actions and _can_reopen(ticket, now),
        "can_follow_up": can_write and ticket.status != Status.CLOSED,
        "can_link": can_write and ticket.status == Status.CLOSED,
        "reopen_days": settings.HELPDESK_REOPEN_DAYS,
        "followup_form": forms.get("followup_form") or FollowupForm(),
        "refuse_form": forms.get("refuse_form") or RefuseForm(),
        "linked": ticket.linked.all(),
        "panels": panels_render("helpdesk.ticket.member", request, ticket=ticket),
    }
    return render(request, "helpdesk/member_ticket.html", context)


@login_required
def ticket_detail(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = selectors.ticket_get(actor=signed_in(request), reference=reference)
    if is_operator(request.user):
        return staff.ticket_page(request, ticket)
    return member_ticket_page(request, ticket)


@login_required
def ticket_live(request: HttpRequest, reference: str) -> HttpResponse:
    """What the ticket page polls every 10 s: whether someone else acted since the page's stamp
    (`since`), and for operator staff who else has the ticket open (the poll marks the reader
    present)."""
    user = signed_in(request)
    ticket = selectors.ticket_get(actor=user, reference=reference)
    activity = timeline.latest_activity(actor=user, ticket=ticket)
    others = timeline.presence_touch(actor=user, ticket=ticket)
    context = {
        "ticket": ticket,
        "activity": activity,
        "changed": activity.stamp != request.GET.get("since", activity.stamp) and activity.actor_id != user.pk,
        "others": others if user.is_operator else [],
    }
    return render(request, "helpdesk/includes/_ticket_live.html", context)


@login_required
@require_POST
def satisfaction_create(request: HttpRequest, reference: str) -> HttpResponse:
    """The requester answers the satisfaction survey from the closed ticket's page: the mail
    link's form and service (services.satisfaction_record), answered once."""
    user = signed_in(request)
    ticket = selectors.ticket_get(actor=user, reference=reference)
    require_writer(request.user)
    if ticket.requester_id != user.pk:  # the requester's opinion, nobody else's
        raise PermissionDenied
    if not survey_open_to(ticket, user, timezone.now()):
        messages.error(request, _("L'enquête de satisfaction n'est pas ouverte pour cette demande."))
        return redirect(ticket_url(ticket))
    form = SurveyForm(request.POST)
    if form.is_valid():
        try:
            services.satisfaction_record(
                ticket=ticket, rating=form.cleaned_data["rating"], comment=form.cleaned_data["comment"]
            )
        except ValidationError as error:
            report(request, error)
            return redirect(ticket_url(ticket))
        messages.success(request, _("Merci pour votre avis."))
        return redirect(ticket_url(ticket))
    return member_ticket_page(request, ticket, survey_form=form)


def _page(request: HttpRequest, ticket: Ticket, **forms: Any) -> HttpResponse:
    if is_operator(request.user):
        return staff.ticket_page(request, ticket, **forms)
    return member_ticket_page(request, ticket, **forms)


@login_required
@require_POST
def followup_create(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = selectors.ticket_get(actor=signed_in(request), reference=reference)
    require_writer(request.user)
    staff = is_operator(request.user)
    form = FollowupForm(request.POST, request.FILES, staff=staff)
    if form.is_valid():
        try:
            services.followup_add(
                actor=signed_in(request),
                ticket=ticket,
                body=form.cleaned_data["body"],
                is_private=bool(form.cleaned_data.get("is_private")),
                attachments=form.cleaned_data["attachments"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Suivi ajouté."))
            return redirect(ticket_url(ticket))
    return _page(request, ticket, followup_form=form)


@login_required
@require_POST
def ticket_transition(request: HttpRequest, reference: str) -> HttpResponse:
    """One lifecycle action from the ticket page (a member: accept, refuse with why, reopen)."""
    ticket = selectors.ticket_get(actor=signed_in(request), reference=reference)
    require_writer(request.user)
    action = request.POST.get("action", "")
    comment = request.POST.get("comment", "")
    if action == Action.REFUSE and not comment.strip():
        form = RefuseForm(request.POST)
        form.is_valid()
        messages.error(request, _("Dites-nous pourquoi la solution ne convient pas."))
        return _page(request, ticket, refuse_form=form)
    try:
        services.ticket_transition(
            actor=signed_in(request),
            ticket=ticket,
            action=action,
            comment=comment,
            pending_reason=request.POST.get("pending_reason", ""),
            is_private=request.POST.get("is_private") == "on",
        )
    except ValidationError as error:
        report(request, error)
    else:
        label = Action(action).label if action in Action.values else action
        messages.success(request, _("Action effectuée : %(action)s.") % {"action": label})
    return redirect(ticket_url(ticket))


@login_required
@require_POST
def attachment_create(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = selectors.ticket_get(actor=signed_in(request), reference=reference)
    require_writer(request.user)
    form = AttachmentForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Choisissez au moins un fichier."))
        return redirect(ticket_url(ticket))
    uploads = form.cleaned_data["attachments"]
    try:
        for upload in uploads:  # all are checked before any is stored
            services.check_upload(upload)
        for upload in uploads:
            services.attachment_add(actor=signed_in(request), ticket=ticket, upload=upload)
    except ValidationError as error:
        report(request, error)
    else:
        messages.success(request, _("%(n)d pièce(s) jointe(s) ajoutée(s).") % {"n": len(uploads)})
    return redirect(ticket_url(ticket))


@login_required
def attachment_download(request: HttpRequest, reference: str, pk: int) -> FileResponse:
    """Files go through the ticket's tenancy (never a public media URL); a member does not get
    the files of private notes. Always served as a download, never rendered inline."""
    ticket = selectors.ticket_get(actor=signed_in(request), reference=reference)
    attachments = Attachment.objects.filter(ticket=ticket)
    if not is_operator(request.user):
        attachments = attachments.exclude(followup__is_private=True)
    attachment = attachments.filter(pk=pk).first()
    if attachment is None:
        raise Http404(_("pièce jointe introuvable"))
    return FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.name)


@login_required
def linked_create(request: HttpRequest, reference: str) -> HttpResponse:
    """After closure: a new request pointing back to the closed ticket (which stays closed)."""
    ticket = selectors.ticket_get(actor=signed_in(request), reference=reference)
    require_writer(request.user)
    if ticket.status != Status.CLOSED:
        messages.error(request, _("Ce ticket n'est pas clos : ajoutez plutôt un suivi."))
        return redirect(ticket_url(ticket))
    form = LinkedTicketForm(
        request.POST or None, initial={"title": _("Suite de %(ref)s : %(title)s") % {"ref": ticket.reference,
                                                                                     "title": ticket.title}}
    )  # fmt: skip
    if request.method == "POST" and form.is_valid():
        try:
            created = services.ticket_create(
                actor=signed_in(request),
                collectivity=ticket.collectivity,
                requester=ticket.requester if is_operator(request.user) else signed_in(request),
                ticket_type=ticket.ticket_type,
                title=form.cleaned_data["title"],
                description=form.cleaned_data["description"],
                # The closed ticket's application, unless the collectivity has withdrawn it since.
                application=(
                    ticket.application
                    if services.application_error(collectivity=ticket.collectivity, application=ticket.application)
                    is None
                    else None
                ),
                category=ticket.category,
                linked_to=ticket,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Demande %(ref)s créée.") % {"ref": created.reference})
            return redirect(ticket_url(created))
    return render(request, "helpdesk/linked_form.html", {"form": form, "ticket": ticket})
