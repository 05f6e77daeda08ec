"""Ticket pages shared by members and operator staff: "Mes demandes", the member's ticket page,
followups, solution accepted or refused, reopening, a new request linked to a closed ticket, and
attachments. Staff are handed to views_staff; the services decide what each account may do."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.forms import BaseForm
from django.forms.renderers import DjangoTemplates
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.functional import cached_property
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from mutualis.accounts.requests import signed_in
from mutualis.catalog.models import Application
from mutualis.core.forms import add_service_errors
from mutualis.core.pagination import page_or_404
from mutualis.core.tenancy import is_operator, may_write, require_writer
from mutualis.helpdesk import selectors, services
from mutualis.helpdesk.enums import Action, Actor, Status, allowed_actions
from mutualis.helpdesk.forms_tickets import (
    AttachmentForm,
    FollowupForm,
    LinkedTicketForm,
    MemberFilterForm,
    RefuseForm,
)
from mutualis.helpdesk.models import Attachment, Ticket

PAGE_SIZE = 50


def errors_of(error: ValidationError) -> list[str]:
    """A service's ValidationError as sentences for messages.error."""
    if hasattr(error, "error_dict"):
        return [m for items in error.error_dict.values() for item in items for m in item.messages]
    return list(error.messages)


def report(request: HttpRequest, error: ValidationError) -> None:
    for message in errors_of(error):
        messages.error(request, message)


# -- widgets rendered in Python ----------------------------------------------------------------
# The queue's filter and bulk forms hold selects of every collectivity and technician: rendering
# each <option> through Django's widget templates cost about half of the page. The renderer below
# builds the same markup, byte for byte, for the plain widgets (input, textarea, select, option)
# and hands anything else to Django's templates.
def _attrs(attrs: dict[str, Any]) -> str:
    return "".join(
        f" {conditional_escape(name)}"
        if value is True
        else f' {conditional_escape(name)}="{conditional_escape(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


def _input(widget: dict[str, Any]) -> str:
    value = "" if widget["value"] is None else f' value="{conditional_escape(widget["value"])}"'
    kind, name = conditional_escape(widget["type"]), conditional_escape(widget["name"])
    return f'<input type="{kind}" name="{name}"{value}{_attrs(widget["attrs"])}>\n'


def _textarea(widget: dict[str, Any]) -> str:
    value = conditional_escape(widget["value"]) if widget["value"] else ""
    return f'<textarea name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>\n{value}</textarea>\n'


def _option(widget: dict[str, Any]) -> str:
    value, label = conditional_escape(widget["value"]), conditional_escape(widget["label"])
    return f'<option value="{value}"{_attrs(widget["attrs"])}>{label}</option>\n'


def _select(widget: dict[str, Any]) -> str | None:
    parts = [f'<select name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, options, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{conditional_escape(group_name)}">')
        for option in options:
            if option["template_name"] != OPTION_TEMPLATE:
                return None
            parts.append(f"\n  {_option(option)}")
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>\n")
    return "".join(parts)


OPTION_TEMPLATE = "django/forms/widgets/select_option.html"
_PLAIN_WIDGETS = {
    "django/forms/widgets/select.html": _select,
    OPTION_TEMPLATE: _option,
    "django/forms/widgets/textarea.html": _textarea,
    **{
        f"django/forms/widgets/{kind}.html": _input
        for kind in ("input", "text", "email", "number", "url", "password", "hidden", "date", "checkbox")
    },
}


class PlainWidgets(DjangoTemplates):
    """Django's form renderer, with the plain widgets built in Python (same output)."""

    def render(self, template_name: str, context: dict[str, Any], request: HttpRequest | None = None) -> str:
        build = _PLAIN_WIDGETS.get(template_name)
        html = build(context["widget"]) if build is not None and "widget" in context else None
        if html is None:
            return super().render(template_name, context, request)
        return mark_safe(html.strip())  # noqa: S308 — every piece is escaped above (stripped as Django does)


PLAIN_WIDGETS = PlainWidgets()


def with_plain_widgets(context: dict[str, Any]) -> dict[str, Any]:
    """The context's forms rendered by PLAIN_WIDGETS."""
    for value in context.values():
        if isinstance(value, BaseForm):
            value.renderer = PLAIN_WIDGETS
    return context


# -- pagination without counting a million rows -------------------------------------------------
COUNT_CAP = 10_000
# Beyond this an OFFSET overflows SQLite's 64-bit integer: no list is that long anyway.
OFFSET_MAX = 2**62


class OpenEndedPage(Page):
    """A page of a list longer than the cap: whether a next page exists comes from one extra row."""

    def __init__(self, object_list: Any, number: int, paginator: Paginator, *, has_more: bool) -> None:
        super().__init__(object_list, number, paginator)
        self.has_more = has_more

    def has_next(self) -> bool:
        return self.has_more

    def next_page_number(self) -> int:
        return self.number + 1


class CappedPaginator(Paginator):
    """Counts at most COUNT_CAP + 1 rows (`SELECT count(*) FROM (SELECT id … LIMIT 10001)`).
    Up to the cap it is Django's Paginator; beyond it (`capped`) the pages say "more than
    10 000" and offer previous and next, each page reading one row more than it shows."""

    cap = COUNT_CAP

    @cached_property
    def count(self) -> int:
        return self.object_list.order_by().values("pk")[: self.cap + 1].count()  # type: ignore[attr-defined]

    @property
    def capped(self) -> bool:
        return self.count > self.cap

    def cap_display(self) -> str:
        return number_format(self.cap, force_grouping=True)

    def validate_number(self, number: Any) -> int:
        if not self.capped:
            return super().validate_number(number)
        try:
            value = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from None
        if value < 1:
            raise EmptyPage(self.error_messages["min_page"])
        if (value - 1) * self.per_page > OFFSET_MAX:
            raise EmptyPage(self.error_messages["no_results"])
        return value

    def page(self, number: Any) -> Page:
        number = self.validate_number(number)
        if not self.capped:
            return super().page(number)
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        if not rows and number > 1:
            raise EmptyPage(self.error_messages["no_results"])
        return OpenEndedPage(rows[: self.per_page], number, self, has_more=len(rows) > self.per_page)


def paginate(request: HttpRequest, queryset: Any) -> Any:
    return page_or_404(CappedPaginator(queryset, PAGE_SIZE), request.GET.get("page"))


def query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def ticket_url(ticket: Ticket) -> str:
    from django.urls import reverse

    return reverse("helpdesk:ticket", args=[ticket.reference])


# -- "Mes demandes" and the queue ---------------------------------------------------------------
@login_required
def ticket_index(request: HttpRequest) -> HttpResponse:
    """Staff get the queue; a member's account gets its requests (a manager: its collectivity's)."""
    if is_operator(request.user):
        from mutualis.helpdesk import views_staff

        return views_staff.queue(request)
    user = signed_in(request)
    applications = Application.objects.filter(tickets__collectivity_id=user.organisation_id).distinct()
    form = MemberFilterForm(request.GET or None, applications=applications)
    filters = form.cleaned_data if form.is_valid() else {}
    tickets = selectors.ticket_queue(
        actor=request.user,
        view="all",
        application=filters.get("application") or None,
        status=filters.get("status") or None,
        ticket_type=filters.get("ticket_type") or None,
        **selectors.period_filters(request.GET),
    ).order_by("-opened_at", "-id")
    context = {
        "form": form,
        "page": paginate(request, tickets),
        "query": query_without_page(request),
        "whole_collectivity": user.role in {"member_manager", "elected"},
        "can_write": may_write(request.user),
    }
    return render(request, "helpdesk/member_index.html", with_plain_widgets(context))


# -- one ticket ---------------------------------------------------------------------------------
def member_timeline(ticket: Ticket, followups: Any) -> list[dict[str, Any]]:
    """Public followups (with their attachments), loose attachments and status changes, by date."""
    entries: list[dict[str, Any]] = [{"kind": "followup", "at": f.created_at, "item": f} for f in followups]
    entries += [
        {"kind": "transition", "at": t.created_at, "item": t} for t in ticket.transitions.select_related("actor")
    ]
    entries += [
        {"kind": "attachment", "at": a.created_at, "item": a} for a in ticket.attachments.filter(followup__isnull=True)
    ]
    return sorted(entries, key=lambda e: (e["at"], e["kind"]))


def _requester_actions(request: HttpRequest, ticket: Ticket) -> list[str]:
    if not may_write(request.user):
        return []
    try:
        kind = services.actor_kind(request.user, ticket)
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
    followups = list(selectors.followups_for(actor=request.user, ticket=ticket))
    context = {
        "ticket": ticket,
        "timeline": member_timeline(ticket, followups),
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
    }
    return render(request, "helpdesk/member_ticket.html", with_plain_widgets(context))


@login_required
def ticket_detail(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = selectors.ticket_get(actor=request.user, reference=reference)
    if is_operator(request.user):
        from mutualis.helpdesk import views_staff

        return views_staff.ticket_page(request, ticket)
    return member_ticket_page(request, ticket)


def _page(request: HttpRequest, ticket: Ticket, **forms: Any) -> HttpResponse:
    if is_operator(request.user):
        from mutualis.helpdesk import views_staff

        return views_staff.ticket_page(request, ticket, **forms)
    return member_ticket_page(request, ticket, **forms)


@login_required
@require_POST
def followup_create(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = selectors.ticket_get(actor=request.user, reference=reference)
    require_writer(request.user)
    staff = is_operator(request.user)
    form = FollowupForm(request.POST, request.FILES, staff=staff)
    if form.is_valid():
        try:
            services.followup_add(
                actor=request.user,
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
    ticket = selectors.ticket_get(actor=request.user, reference=reference)
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
            actor=request.user,
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
    ticket = selectors.ticket_get(actor=request.user, reference=reference)
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
            services.attachment_add(actor=request.user, ticket=ticket, upload=upload)
    except ValidationError as error:
        report(request, error)
    else:
        messages.success(request, _("%(n)d pièce(s) jointe(s) ajoutée(s).") % {"n": len(uploads)})
    return redirect(ticket_url(ticket))


@login_required
def attachment_download(request: HttpRequest, reference: str, pk: int) -> FileResponse:
    """Files go through the ticket's tenancy (never a public media URL); a member does not get
    the files of private notes. Always served as a download, never rendered inline."""
    ticket = selectors.ticket_get(actor=request.user, reference=reference)
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
    ticket = selectors.ticket_get(actor=request.user, reference=reference)
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
                actor=request.user,
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
