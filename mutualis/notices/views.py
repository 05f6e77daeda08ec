"""Notice pages under /avis/: the list with filters, one notice with its timeline, affected
members and linked tickets, the staff's forms, a member's list, the banner's dismissal, the
calendar address and its feed. Every signed-in account reads what concerns it; operator staff
write (others get 404)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from mutualis.accounts.requests import signed_in
from mutualis.catalog.models import Application
from mutualis.core.forms import add_service_errors
from mutualis.core.mail import absolute_url
from mutualis.core.redirects import safe_next
from mutualis.core.tenancy import is_operator, require_operator_staff
from mutualis.members.selectors import collectivity_get
from mutualis.notices import ical, selectors, services
from mutualis.notices.context_processors import DISMISSED
from mutualis.notices.enums import Action, Kind, State
from mutualis.notices.forms import (
    EndForm,
    FilterForm,
    LinkForm,
    MessageForm,
    NoticeCreateForm,
    NoticeForm,
    TransitionForm,
)
from mutualis.notices.models import Notice


def _application_choices() -> list[tuple[str, str]]:
    used = Application.objects.filter(notices__isnull=False).distinct().order_by("name")
    return list(used.values_list("slug", "name"))


@login_required
@require_GET
def notice_index(request: HttpRequest) -> HttpResponse:
    user = signed_in(request)
    form = FilterForm(request.GET or None, applications=_application_choices())
    filters = form.cleaned_data if form.is_valid() else {}
    notices = selectors.notice_list(
        actor=user,
        state=filters.get("etat") or None,
        kind=filters.get("nature") or None,
        application=filters.get("application") or None,
    )
    context = {"form": form, "notices": notices, "can_write": selectors.staff_may_write(user)}
    return render(request, "notices/list.html", context)


@login_required
@require_GET
def member_notices(request: HttpRequest, slug: str) -> HttpResponse:
    """One member's notices, for its own accounts and operator staff (another member: 404)."""
    user = signed_in(request)
    organisation = collectivity_get(actor=user, slug=slug)
    notices = selectors.notice_list(actor=user, organisation=organisation)
    return render(request, "notices/member.html", {"organisation": organisation, "notices": notices})


def _notice_form_initial(notice: Notice) -> dict[str, Any]:
    return {
        "kind": notice.kind,
        "title": notice.title,
        "description": notice.description,
        "applications": list(notice.applications.all()),
        "starts_at": notice.starts_at,
        "planned_end_at": notice.planned_end_at,
    }


@login_required
def notice_create(request: HttpRequest) -> HttpResponse:
    user = signed_in(request)
    require_operator_staff(user)
    form = NoticeCreateForm(request.POST or None, initial={"kind": request.GET.get("nature", Kind.MAINTENANCE)})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            notice = services.notice_create(
                actor=user,
                kind=data["kind"],
                title=data["title"],
                description=data["description"],
                applications=list(data["applications"]),
                starts_at=data["starts_at"],
                planned_end_at=data["planned_end_at"],
                in_progress=data["in_progress"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            count = selectors.affected_members(notice=notice).count()
            messages.success(
                request,
                _("Avis publié ; les contacts de %(count)d adhérent(s) concerné(s) sont prévenus par courriel.")
                % {"count": count},
            )
            return redirect("notices:detail", pk=notice.pk)
    return render(request, "notices/form.html", {"form": form, "notice": None})


@login_required
def notice_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = signed_in(request)
    require_operator_staff(user)
    notice = selectors.notice_get(actor=user, pk=pk)
    form = NoticeForm(request.POST or None, initial=_notice_form_initial(notice))
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        applications = list(data.pop("applications"))
        try:
            changes = services.notice_edit(actor=user, notice=notice, data=data, applications=applications)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Avis modifié.") if changes else _("Aucun changement."))
            return redirect("notices:detail", pk=notice.pk)
    return render(request, "notices/form.html", {"form": form, "notice": notice})


@login_required
@require_GET
def notice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = signed_in(request)
    notice = selectors.notice_get(actor=user, pk=pk)
    staff = is_operator(user)
    context: dict[str, Any] = {
        "notice": notice,
        "applications": notice.applications.order_by("name"),
        "updates": notice.updates.select_related("author").order_by("created_at", "pk"),
        "staff": staff,
        "can_write": selectors.staff_may_write(user) and notice.is_current,
    }
    if staff:
        context["affected"] = selectors.affected_members(notice=notice)
        context["links"] = selectors.linked_tickets(actor=user, notice=notice)
        context["message_form"] = MessageForm()
        # One form per action, each with its prefix: the page shows both, so ids stay unique.
        context["start_form"] = TransitionForm(prefix=Action.START)
        context["cancel_form"] = TransitionForm(prefix=Action.CANCEL)
        context["link_form"] = LinkForm()
    elif user.organisation_id:
        own = selectors.affected_applications(notice=notice, organisation_id=user.organisation_id)
        context["own_applications"] = own
    return render(request, "notices/detail.html", context)


def _service_refusal(request: HttpRequest, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


@login_required
@require_POST
def notice_message(request: HttpRequest, pk: int) -> HttpResponse:
    user = signed_in(request)
    require_operator_staff(user)
    notice = selectors.notice_get(actor=user, pk=pk)
    form = MessageForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Le message est vide."))
    else:
        try:
            services.notice_message_add(actor=user, notice=notice, body=form.cleaned_data["body"])
        except ValidationError as error:
            _service_refusal(request, error)
        else:
            messages.success(request, _("Point de situation publié et envoyé aux contacts des adhérents concernés."))
    return redirect("notices:detail", pk=notice.pk)


@login_required
@require_POST
def notice_transition(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """« Commencer » and « Annuler »; ending has its own page (notice_end)."""
    user = signed_in(request)
    require_operator_staff(user)
    if action not in {Action.START, Action.CANCEL}:
        raise Http404("action inconnue")
    notice = selectors.notice_get(actor=user, pk=pk)
    form = TransitionForm(request.POST, prefix=action)
    message = form.cleaned_data["message"] if form.is_valid() else ""
    try:
        services.notice_transition(actor=user, notice=notice, action=action, message=message)
    except ValidationError as error:
        _service_refusal(request, error)
    else:
        messages.success(request, _("Avis commencé.") if action == Action.START else _("Avis annulé."))
    return redirect("notices:detail", pk=notice.pk)


@login_required
def notice_end(request: HttpRequest, pk: int) -> HttpResponse:
    """End a notice; for an incident with linked tickets, offer to solve them all at once, and
    say ticket by ticket what was done."""
    user = signed_in(request)
    require_operator_staff(user)
    notice = selectors.notice_get(actor=user, pk=pk)
    links = selectors.linked_tickets(actor=user, notice=notice)
    form = EndForm(request.POST or None, initial={"solve_linked": notice.is_incident and links.exists()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            report = services.notice_end(
                actor=user,
                notice=notice,
                message=data["message"],
                solve_linked=data["solve_linked"],
                solution=data["solution"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return render(request, "notices/end_report.html", {"notice": report.notice, "report": report})
    return render(request, "notices/end.html", {"notice": notice, "form": form, "links": links})


@login_required
@require_POST
def ticket_link(request: HttpRequest, pk: int) -> HttpResponse:
    user = signed_in(request)
    require_operator_staff(user)
    notice = selectors.notice_get(actor=user, pk=pk)
    form = LinkForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Indiquez la référence du ticket."))
        return redirect("notices:detail", pk=notice.pk)
    try:
        link = services.notice_ticket_link(actor=user, notice=notice, reference=form.cleaned_data["reference"])
    except ValidationError as error:
        _service_refusal(request, error)
    else:
        messages.success(request, _("Ticket %(reference)s lié à l'incident.") % {"reference": link.ticket.reference})
    return redirect(reverse("notices:detail", kwargs={"pk": notice.pk}) + "#tickets")


@login_required
@require_POST
def ticket_unlink(request: HttpRequest, pk: int, link_pk: int) -> HttpResponse:
    user = signed_in(request)
    require_operator_staff(user)
    notice = selectors.notice_get(actor=user, pk=pk)
    link = selectors.linked_ticket_get(actor=user, notice=notice, pk=link_pk)
    services.notice_ticket_unlink(actor=user, link=link)
    messages.success(request, _("Ticket %(reference)s retiré de l'incident.") % {"reference": link.ticket.reference})
    return redirect(reverse("notices:detail", kwargs={"pk": notice.pk}) + "#tickets")


@login_required
@require_POST
def banner_dismiss(request: HttpRequest, pk: int) -> HttpResponse:
    """Hide a notice's banner for the rest of the session; htmx gets an empty answer that
    replaces the banner line, a plain form goes back where it was."""
    user = signed_in(request)
    notice = selectors.notice_get(actor=user, pk=pk)
    dismissed = [int(n) for n in request.session.get(DISMISSED, []) if str(n).isdigit()]
    if notice.pk not in dismissed:
        request.session[DISMISSED] = [*dismissed, notice.pk][-50:]
    if request.headers.get("HX-Request"):
        return HttpResponse("")
    return redirect(safe_next(request, request.POST.get("next"), fallback=reverse("core:home")))


@login_required
def calendar_page(request: HttpRequest) -> HttpResponse:
    """The account's calendar address: made (shown once), remade or revoked."""
    user = signed_in(request)
    feed_url = None
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            if services.calendar_token_revoke(actor=user):
                messages.success(request, _("Adresse d'agenda révoquée : les agendas abonnés ne la liront plus."))
        else:
            _token, secret = services.calendar_token_create(actor=user)
            feed_url = absolute_url(reverse("notices:feed", kwargs={"secret": secret}))
    context = {"token": selectors.calendar_token_active(user=user), "feed_url": feed_url}
    return render(request, "notices/calendar.html", context)


def _event(notice: Notice, url: str) -> ical.Event:
    applications = ", ".join(a.name for a in notice.applications.all())
    lines = [f"{notice.get_kind_display().capitalize()} — {notice.get_state_display()}"]
    if applications:
        lines.append(_("Applications : %(names)s") % {"names": applications})
    lines += ["", notice.description, "", url]
    return ical.Event(
        uid=f"avis-{notice.pk}@mutualis",
        stamp=notice.updated_at,
        start=notice.starts_at,
        end=notice.ended_at if notice.ended_at and notice.ended_at > notice.starts_at else notice.planned_end_at,
        summary=f"[{notice.get_kind_display().capitalize()}] {notice.title}",
        description="\n".join(lines),
        status="CANCELLED" if notice.state == State.CANCELLED else "CONFIRMED",
        url=url,
        categories=notice.get_kind_display(),
        sequence=notice.updates.count(),
    )


@require_GET
def feed(request: HttpRequest, secret: str) -> HttpResponse:
    """The iCalendar feed a calendar client subscribes to: no session, the secret in the address
    says whose it is; an unknown or revoked one is 404."""
    user = selectors.calendar_token_user(secret=secret)
    if user is None:
        raise Http404("adresse d'agenda inconnue ou révoquée")
    name = _("Avis Mutualis — %(who)s") % {"who": user.organisation.label if user.organisation else user.display_name}
    events = [
        _event(notice, absolute_url(reverse("notices:detail", kwargs={"pk": notice.pk})))
        for notice in selectors.feed_notices(user=user)
    ]
    response = HttpResponse(ical.calendar(events, name=name), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="avis.ics"'
    response["Cache-Control"] = "no-store"
    return response
