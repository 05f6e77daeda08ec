"""Operator staff pages: the queue with saved views and bulk actions, the ticket page with its
timeline and service-level clocks, and the forms acting on a ticket (assignment, tasks,
requalification, merge, an answer template filling the followup). Members reaching any of these
get 404 (require_operator_staff); every write goes through the services, one ticket at a time."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from mutualis.accounts.models import User
from mutualis.accounts.requests import signed_in
from mutualis.catalog.models import Application
from mutualis.core import services as core_services
from mutualis.core.forms import add_service_errors
from mutualis.core.panels import panels_render
from mutualis.core.redirects import safe_next
from mutualis.core.tenancy import require_operator_staff, require_writer
from mutualis.core.timefmt import local_datetime
from mutualis.helpdesk import selectors, services, sla, timeline
from mutualis.helpdesk.enums import Actor, Clock, Status, allowed_actions
from mutualis.helpdesk.forms_tickets import (
    VIEW_LABELS,
    AssignForm,
    AttachmentForm,
    BulkForm,
    FollowupForm,
    MergeForm,
    QueueFilterForm,
    RequalifyForm,
    SavedViewForm,
    TaskForm,
    TransitionForm,
)
from mutualis.helpdesk.models import AnswerTemplate, SavedView, Ticket
from mutualis.helpdesk.sla_display import SlaReader, priority_label
from mutualis.helpdesk.views.shared import (
    errors_of,
    paginate,
    query_without_page,
    report,
    ticket_url,
)
from mutualis.lib.business_offsets import OffsetTable
from mutualis.members.models import Organisation


def _staff(request: HttpRequest) -> None:
    require_operator_staff(request.user)


# -- the queue ----------------------------------------------------------------------------------
def queue(request: HttpRequest) -> HttpResponse:
    _staff(request)
    form = QueueFilterForm(
        request.GET or None,
        organisations=Organisation.objects.visible_to(request.user).collectivities().order_by("name"),
        applications=Application.objects.order_by("name"),
    )
    filters = form.cleaned_data if form.is_valid() else {}
    view = filters.get("view") or "open"
    now = timezone.now()
    actor = signed_in(request)
    tickets = selectors.ticket_queue(
        actor=actor,
        view=view,
        collectivity=filters.get("collectivity") or None,
        application=filters.get("application") or None,
        priority=filters.get("priority"),
        status=filters.get("status") or None,
        ticket_type=filters.get("ticket_type") or None,
        search=(filters.get("search") or "").strip() or None,
        now=now,
        **selectors.period_filters(request.GET),
    )
    tickets = tickets.select_related(None).select_related(*QUEUE_RELATED).only(*QUEUE_COLUMNS)
    query = query_without_page(request)
    page = paginate(request, tickets)
    saved_views = list(SavedView.objects.filter(owner=actor))
    views, saved = queue_views(actor, saved_views, query, now)
    context = {
        "form": form,
        "filtered": any(value for key, value in request.GET.items() if key not in {"view", "page"}),
        "view": view,
        "views": views,
        "page": page,
        "rows": queue_rows(page, now),
        "labels": {
            "blocking": _("bloquant"),
            "collectivity": _("Collectivité"),
            "application": _("Application"),
            "assignee": _("Attribué à"),
        },
        "query": query,
        "saved_views": saved,
        "saved_view_form": SavedViewForm(initial={"query": query}),
        "bulk_form": BulkForm(),
        "can_write": not actor.is_read_only,
        "now": now,
    }
    return render(request, "helpdesk/queue.html", context)


# The side list: the selector's views, and the open tickets waiting on someone else (a status
# filter over the open view). Every one but « tous » is counted (selectors.queue_counts).
SIDE_VIEWS = ("open", "mine", "my_group", "unassigned", "at_risk", "breached", "pending", "all")


def _saved_filters(query: str) -> dict[str, Any]:
    """A saved view's query string as the selector's filters, without the form (whose choices
    would cost two queries per saved view): unknown values are dropped as the form drops them."""
    data = QueryDict(query)
    view = data.get("view") or "open"
    priority = data.get("priority", "")
    return {
        "view": view if view in selectors.QUEUE_VIEWS else "open",
        "collectivity": data.get("collectivity") or None,
        "application": data.get("application") or None,
        "priority": int(priority) if priority in {"1", "2", "3", "4", "5", "6"} else None,
        "status": data.get("status") or None,
        "ticket_type": data.get("ticket_type") or None,
        "search": (data.get("search") or "").strip()[:100] or None,
        **selectors.period_filters(data),
    }


def queue_views(
    actor: User, saved_views: list[SavedView], query: str, now: dt.datetime
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The side list's views and saved views with their counts, in one query. « tous » and a
    saved view over every status are not counted: they reach closed tickets, and counting a
    million of them on each page is what the capped paginator avoids."""
    params = QueryDict(query)
    current_view = params.get("view") or "open"
    extra = {key for key, value in params.items() if value and key != "view"}
    conditions: dict[str, Q] = {}
    builtin: list[dict[str, Any]] = []
    for key in SIDE_VIEWS:
        if key == "pending":
            filters: dict[str, Any] = {"view": "open", "status": Status.PENDING}
            href, label = f"?view=open&status={Status.PENDING}", _("en attente")
            current = current_view == "open" and extra == {"status"} and params.get("status") == Status.PENDING
        else:
            filters, href, label = {"view": key}, f"?view={key}", str(VIEW_LABELS[key])
            current = current_view == key and not extra
        if key != "all":
            conditions[key] = selectors.queue_filter(actor=actor, now=now, **filters)
        builtin.append({"key": key, "label": label, "href": href, "current": current})
    saved: list[dict[str, Any]] = []
    for view in saved_views:
        filters = _saved_filters(view.query)
        if filters["view"] != "all":
            conditions[f"saved-{view.pk}"] = selectors.queue_filter(actor=actor, now=now, **filters)
        saved.append({"view": view, "key": f"saved-{view.pk}", "current": bool(query) and query == view.query})
    counts = selectors.queue_counts(actor=actor, views=conditions)
    for entry in builtin + saved:
        entry["count"] = counts.get(entry["key"])
    return builtin, saved


# What a queue row shows (queue_rows): reading only these columns, rather than every column of
# the ticket (its description may be long) and of five related rows, halves the page's query.
QUEUE_RELATED = ("collectivity", "application", "group", "technician")
QUEUE_COLUMNS = (
    *QUEUE_RELATED,
    "reference", "title", "blocking", "priority", "status", "opened_at", "ttr_due_at", "ttr_breached",
    "tto_breached", "ttr_budget_s", "pending_since", "calendar_id",
    "collectivity__name", "collectivity__short_name", "application__name", "group__name",
    "technician__first_name", "technician__last_name", "technician__username",
)  # fmt: skip


def queue_rows(page: Any, now: dt.datetime) -> list[dict[str, Any]]:
    """What each row of the queue shows, computed here rather than by template logic per row;
    the words that do not depend on the row are translated once per page (a gettext and a
    template tag per row and column cost the 1M-ticket bench about a tenth of the page)."""
    url = reverse("helpdesk:ticket", args=["REF"]).removesuffix("REF/")
    reader = SlaReader(now)
    statuses = {value: str(label) for value, label in Status.choices}
    priorities: dict[int, str] = {}
    select, due_text, opened_text = _("Sélectionner %(ref)s"), _("échéance %(d)s"), _("ouvert le %(d)s")
    rows = []
    for ticket in page:
        technician, group = ticket.technician, ticket.group
        priority = priorities.get(ticket.priority)
        if priority is None:
            priority = priorities[ticket.priority] = priority_label(ticket.priority)
        rows.append(
            {
                "ticket": ticket,
                "url": f"{url}{quote(ticket.reference)}/",
                "select_label": select % {"ref": ticket.reference},
                "collectivity": ticket.collectivity.label,
                "application": ticket.application.name if ticket.application else "—",
                "priority": priority,
                "status": statuses.get(ticket.status, ticket.status),
                "status_class": STATUS_CLASSES.get(ticket.status, "info"),
                "assignee": format_html(
                    "{}{}<small>{}</small>{}",
                    technician.display_name if technician else "",
                    mark_safe("<br>") if technician and group else "",  # noqa: S308
                    group.name if group else "",
                    "" if technician or group else "—",
                ),
                # When it was opened, as GLPI's list shows it, and the due date next to the time left.
                "when": " · ".join(
                    [opened_text % {"d": local_datetime(ticket.opened_at)}]
                    + ([due_text % {"d": local_datetime(ticket.ttr_due_at)}] if ticket.ttr_due_at else [])
                ),
                "sla": reader.state(ticket),
            }
        )
    return rows


STATUS_CLASSES = {Status.CLOSED: "ok", Status.SOLVED: "ok", Status.PENDING: "warn"}


@login_required
@require_POST
def saved_view_create(request: HttpRequest) -> HttpResponse:
    _staff(request)
    form = SavedViewForm(request.POST)
    if form.is_valid():
        query = form.cleaned_data["query"]
        try:
            core_services.model_create(
                actor=signed_in(request),
                model=SavedView,
                data={"owner": request.user, "name": form.cleaned_data["name"].strip(), "query": query},
            )
        except ValidationError as error:
            if "__all__" in getattr(error, "error_dict", {}) or "name" in getattr(error, "error_dict", {}):
                messages.error(request, _("Vous avez déjà une vue de ce nom."))
            else:
                report(request, error)
        else:
            messages.success(request, _("Vue « %(name)s » enregistrée.") % {"name": form.cleaned_data["name"]})
        return redirect(f"{reverse('helpdesk:index')}?{query}" if query else reverse("helpdesk:index"))
    messages.error(request, _("Donnez un nom à la vue."))
    return redirect("helpdesk:index")


@login_required
@require_POST
def saved_view_delete(request: HttpRequest, pk: int) -> HttpResponse:
    _staff(request)
    saved = SavedView.objects.filter(owner=signed_in(request), pk=pk).first()
    if saved is None:  # someone else's view is not disclosed
        raise Http404(_("vue introuvable"))
    core_services.model_delete(actor=signed_in(request), instance=saved)
    messages.success(request, _("Vue « %(name)s » supprimée.") % {"name": saved.name})
    return redirect("helpdesk:index")


@login_required
@require_POST
def bulk_update(request: HttpRequest) -> HttpResponse:
    """Each selected ticket goes through the services on its own: one refused transition is
    reported by reference and does not stop the others."""
    _staff(request)
    require_writer(request.user)
    back = safe_next(request, request.POST.get("next"), fallback=reverse("helpdesk:index"))
    form = BulkForm(request.POST)
    if not form.is_valid():
        if "tickets" in form.errors:
            messages.error(request, _("Cochez au moins un ticket."))
        for field, errors in form.errors.items():
            if field != "tickets":
                messages.error(request, " ".join(str(error) for error in errors))  # ErrorList yields str
        return redirect(back)
    data = form.cleaned_data
    references = list(dict.fromkeys(data["tickets"]))
    tickets = {t.reference: t for t in Ticket.objects.visible_to(request.user).filter(reference__in=references)}
    done, refused = [], []
    for reference in references:
        ticket = tickets.get(reference)
        if ticket is None:
            refused.append(_("%(ref)s : ticket introuvable") % {"ref": reference})
            continue
        try:
            if data["operation"] == "assign":
                services.ticket_assign(
                    actor=signed_in(request), ticket=ticket, group=data["group"], technician=data["technician"]
                )
            else:
                services.ticket_transition(
                    actor=signed_in(request),
                    ticket=ticket,
                    action=data["action"],
                    comment=data["comment"],
                    pending_reason=data["pending_reason"],
                )
        except ValidationError as error:
            refused.append(f"{reference} : {' '.join(errors_of(error))}")
        else:
            done.append(reference)
    if done:
        messages.success(
            request,
            _("%(n)d ticket(s) mis à jour : %(refs)s.") % {"n": len(done), "refs": ", ".join(done)},
        )
    if refused:
        messages.error(
            request,
            _("%(n)d ticket(s) laissé(s) tels quels — %(why)s") % {"n": len(refused), "why": " ; ".join(refused)},
        )
    return redirect(back)


# -- the ticket page ----------------------------------------------------------------------------
def duration(seconds: int | None) -> str:
    """Business time as "2 h 05 min" (hours, not days: a business day's length varies)."""
    if seconds is None:
        return "—"
    hours, rest = divmod(int(seconds), 3600)
    minutes = rest // 60
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


def clock_elapsed(ticket: Ticket, table: OffsetTable, clock: str, now: dt.datetime) -> int:
    """sla.clock_elapsed by subtraction: the ticket's stored business offsets (or the calendar's
    table for instants without one) instead of walking the calendar day by day."""

    def offset(stored: int | None, instant: dt.datetime) -> int:
        return stored if stored is not None else table.offset(instant)

    opened = offset(ticket.opened_offset, ticket.opened_at)
    if clock == Clock.TTO:
        end = offset(ticket.taken_offset, ticket.taken_at) if ticket.taken_at else table.offset(now)
        return max(0, end - opened)
    end = offset(ticket.solved_offset, ticket.solved_at) if ticket.solved_at else table.offset(now)
    waiting = ticket.waiting_seconds
    if ticket.pending_since is not None and ticket.solved_at is None:
        waiting += max(0, table.offset(now) - table.offset(ticket.pending_since))
    return max(0, end - opened - waiting)


def hours(seconds: int) -> str:
    """Business time as the bars say it: "3 h 20", "8 h", "45 min"."""
    hours_, rest = divmod(max(0, int(seconds)), 3600)
    minutes = rest // 60
    if not hours_:
        return f"{minutes} min"
    return f"{hours_} h {minutes:02d}" if minutes else f"{hours_} h"


DEFAULT_LEVELS = (50, 75, 100)


def clock_state(percent: int, levels: Any) -> tuple[str, int]:
    """The bar's colour and the escalation threshold reached: the same percentages at which
    services.sla_escalate tells the group (the policy's escalation_percents, 50/75/100 by default).
    The first threshold reached shows as "notice", the later ones below 100 as "warn"."""
    reached = [level for level in sorted(levels) if percent >= level]
    if not reached:
        return "ok", 0
    if reached[-1] >= 100:
        return "breached", reached[-1]
    return ("notice" if len(reached) == 1 else "warn"), reached[-1]


def clocks(ticket: Ticket, table: OffsetTable, now: dt.datetime, levels: Any = DEFAULT_LEVELS) -> list[dict[str, Any]]:
    """The two service-level clocks as the page shows them: business time elapsed and left from the
    ticket's stored offsets, the threshold reached, and the sentence saying it."""
    result: list[dict[str, Any]] = []
    for clock, budget, due, breached, stopped_at in (
        (Clock.TTO, ticket.tto_budget_s, ticket.tto_due_at, ticket.tto_breached, ticket.taken_at),
        (Clock.TTR, ticket.ttr_budget_s, ticket.ttr_due_at, ticket.ttr_breached, ticket.solved_at),
    ):
        if not budget:
            result.append({"key": clock, "label": Clock(clock).label, "budget": None})
            continue
        elapsed = clock_elapsed(ticket, table, clock, now)
        percent = round(100 * elapsed / budget)
        paused = clock == Clock.TTR and ticket.pending_since is not None and stopped_at is None
        over = breached or percent >= 100
        state, reached = clock_state(percent, levels)
        if over:
            state = "breached"
        words = {"e": hours(elapsed), "b": hours(budget), "l": hours(budget - elapsed), "o": hours(elapsed - budget)}
        if elapsed > budget:
            text = _("%(e)s ouvrées écoulées sur %(b)s — dépassé de %(o)s") % words
        elif stopped_at is not None:
            text = _("%(e)s ouvrées écoulées sur %(b)s") % words
        else:
            text = _("%(e)s ouvrées écoulées sur %(b)s — reste %(l)s") % words
        result.append(
            {
                "key": clock,
                "label": Clock(clock).label,
                "budget": duration(budget),
                "elapsed": duration(elapsed),
                "elapsed_s": elapsed,
                "left_s": max(0, budget - elapsed),
                "text": text,
                "percent": percent,
                "bar": min(percent, 100),
                "reached": reached,
                "due": due,
                "breached": breached or (stopped_at is None and percent >= 100),
                "stopped": stopped_at,
                "paused": paused,
                "state": state,
            }
        )
    return result


def ticket_page(request: HttpRequest, ticket: Ticket, **forms: Any) -> HttpResponse:
    _staff(request)
    now = timezone.now()
    # The duplicates merged into this ticket and the requests following it up, in one query.
    related = list(
        Ticket.objects.visible_to(request.user)
        .filter(Q(merged_into=ticket) | Q(linked_to=ticket))
        .only("reference", "title", "status", "closed_at", "updated_at", "merged_into_id", "linked_to_id")
        .order_by("-opened_at", "-id")
    )
    user = signed_in(request)
    entries = timeline.ticket_timeline(
        actor=user, ticket=ticket, merged=[t for t in related if t.merged_into_id == ticket.pk]
    )
    actions = allowed_actions(ticket.status, Actor.STAFF)
    tasks = [e.item for e in entries if e.kind == "task"]
    # The policy and calendar from the cached configuration (a policy no longer active is read).
    calendar = sla.sla_calendar(ticket.calendar_id)
    # The thresholds the escalation job uses (services.sla_escalate reads the same policy row).
    levels = ticket.policy.levels() if ticket.policy is not None else DEFAULT_LEVELS
    context = {
        "ticket": ticket,
        "sla_policy": sla.sla_policy(ticket.policy_id) or (ticket.policy if ticket.policy_id else None),
        "sla_calendar": calendar,
        "timeline": entries,
        "activity": timeline.latest_activity(actor=user, ticket=ticket),
        "others": timeline.presence_touch(actor=user, ticket=ticket),
        "clocks": clocks(ticket, calendar.offsets(), now, levels),
        "time_spent": duration(sum(t.duration_seconds for t in tasks)),
        "can_write": not signed_in(request).is_read_only,
        "actions": actions,
        "assign_form": forms.get("assign_form")
        or AssignForm(initial={"group": ticket.group_id, "technician": ticket.technician_id}),
        "transition_form": forms.get("transition_form") or TransitionForm(actions=actions),
        "followup_form": forms.get("followup_form") or FollowupForm(staff=True),
        "task_form": forms.get("task_form") or TaskForm(initial={"done_on": timezone.localdate()}),
        "attachment_form": AttachmentForm(auto_id="attach_%s"),  # the reply form has its own id_attachments
        "requalify_form": forms.get("requalify_form") or RequalifyForm(initial=_ticket_initial(ticket), ticket=ticket),
        "merge_form": forms.get("merge_form") or MergeForm(),
        "answer_templates": AnswerTemplate.objects.only("pk", "name"),
        "linked": [t for t in related if t.linked_to_id == ticket.pk],
        "watchers": ticket.watchers.all(),
        # What the apps above the helpdesk show beside the ticket (knowledge base, notices…).
        "panels": panels_render("helpdesk.ticket.staff", request, ticket=ticket),
    }
    return render(request, "helpdesk/staff_ticket.html", context)


def _ticket_initial(ticket: Ticket) -> dict[str, Any]:
    return {
        "title": ticket.title,
        "ticket_type": ticket.ticket_type,
        "application": ticket.application_id,
        "category": ticket.category_id,
        "urgency": ticket.urgency,
        "impact": ticket.impact,
        "blocking": ticket.blocking,
        "vendor_reference": ticket.vendor_reference,
    }


def _staff_ticket(request: HttpRequest, reference: str) -> Ticket:
    _staff(request)
    require_writer(request.user)
    return selectors.ticket_get(actor=signed_in(request), reference=reference)


@login_required
@require_POST
def ticket_assign(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = _staff_ticket(request, reference)
    form = AssignForm(request.POST)
    if form.is_valid():
        try:
            services.ticket_assign(
                actor=signed_in(request),
                ticket=ticket,
                group=form.cleaned_data["group"],
                technician=form.cleaned_data["technician"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Ticket attribué."))
            return redirect(ticket_url(ticket))
    return ticket_page(request, ticket, assign_form=form)


@login_required
@require_POST
def task_create(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = _staff_ticket(request, reference)
    form = TaskForm(request.POST)
    if form.is_valid():
        try:
            services.task_add(
                actor=signed_in(request),
                ticket=ticket,
                description=form.cleaned_data["description"],
                duration_seconds=form.cleaned_data["minutes"] * 60,
                done_on=form.cleaned_data["done_on"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Tâche enregistrée."))
            return redirect(ticket_url(ticket))
    return ticket_page(request, ticket, task_form=form)


@login_required
@require_POST
def ticket_requalify(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = _staff_ticket(request, reference)
    form = RequalifyForm(request.POST, ticket=ticket)
    if form.is_valid():
        try:
            changes = services.ticket_update(actor=signed_in(request), ticket=ticket, data=form.cleaned_data)
        except ValidationError as error:
            ticket.refresh_from_db()
            add_service_errors(form, error)
        else:
            messages.success(request, _("Ticket requalifié.") if changes else _("Aucun changement."))
            return redirect(ticket_url(ticket))
    return ticket_page(request, ticket, requalify_form=form)


@login_required
@require_POST
def ticket_merge(request: HttpRequest, reference: str) -> HttpResponse:
    """Fold this ticket (the duplicate) into the one named by its reference."""
    duplicate = _staff_ticket(request, reference)
    form = MergeForm(request.POST)
    if form.is_valid():
        into_reference = form.cleaned_data["into"].strip()
        into = Ticket.objects.visible_to(request.user).filter(reference=into_reference).first()
        if into is None:
            form.add_error("into", _("aucun ticket %(ref)s") % {"ref": into_reference})
        else:
            try:
                services.ticket_merge(actor=signed_in(request), duplicate=duplicate, into=into)
            except ValidationError as error:
                add_service_errors(form, error)
                duplicate.refresh_from_db()
                if duplicate.status == Status.CLOSED:  # merged or closed meanwhile: the page hides the form
                    report(request, error)
            else:
                messages.success(
                    request, _("%(dup)s fusionné dans %(ref)s.") % {"dup": duplicate.reference, "ref": into.reference}
                )
                return redirect(ticket_url(into))
    return ticket_page(request, duplicate, merge_form=form)


# -- answer templates: one fills the followup being written ------------------------------------
@login_required
def answer_template_body(request: HttpRequest) -> HttpResponse:
    """The followup's textarea filled with a template (htmx swaps it in)."""
    _staff(request)
    value = request.GET.get("template", "")
    # The select's empty choice, or any text that is not an id, fills nothing (not a 500).
    template = AnswerTemplate.objects.filter(pk=int(value)).first() if value.isascii() and value.isdigit() else None
    form = FollowupForm(staff=True, initial={"body": template.body if template else ""})
    return render(request, "helpdesk/includes/_followup_body.html", {"field": form["body"]})
