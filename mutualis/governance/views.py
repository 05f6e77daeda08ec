"""The governance pages: bodies with their members and history, sittings from agenda to minutes,
the deliberations register and the delegations. Every account reads; operator staff writers act,
each action through one service."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from mutualis.accounts.requests import signed_in
from mutualis.core.forms import add_service_errors
from mutualis.core.tenancy import is_operator, may_write, require_operator_staff
from mutualis.governance import selectors, services
from mutualis.governance.enums import (
    EMERGENCY_NOTICE_CLEAR_DAYS,
    NOTICE_CLEAR_DAYS,
    Attendance,
    CastingVote,
    ItemKind,
    SittingState,
)
from mutualis.governance.forms import (
    AgendaItemForm,
    BodyForm,
    CloseForm,
    ConveneForm,
    DelegatedDecisionForm,
    DelegationForm,
    MandateEndForm,
    MandateForm,
    MandateReplaceForm,
    SittingForm,
    VoteForm,
)
from mutualis.governance.models import AgendaItem, Body, Mandate, Presence, Sitting
from mutualis.members import selectors as members_selectors

VOTE_COUNTS = ("votes_for", "votes_against", "abstentions", "not_voting")


def _can_write(request: HttpRequest) -> bool:
    return is_operator(request.user) and may_write(request.user)


def _refused(request: HttpRequest, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


@login_required
def governance_index(request: HttpRequest) -> HttpResponse:
    bodies = list(selectors.body_list_with_current_mandates())
    member_count = members_selectors.member_count()
    leaders = {m.commission_led_id: m.person for b in bodies for m in b.current_mandates if m.commission_led_id}  # type: ignore[attr-defined]
    for body in bodies:
        body.leader = leaders.get(body.pk)  # type: ignore[attr-defined]
        if body.titular_seats_per_member:
            body.seats_total = body.titular_seats_per_member * member_count  # type: ignore[attr-defined]
    can_write = _can_write(request)
    return render(
        request,
        "governance/index.html",
        {"bodies": bodies, "can_write": can_write, "today": timezone.localdate()},
    )


# --- bodies and mandates -------------------------------------------------------------------------


@login_required
def body_detail(request: HttpRequest, slug: str) -> HttpResponse:
    body = get_object_or_404(Body, slug=slug)
    today = timezone.localdate()
    history = list(selectors.mandate_history(body=body))
    current = [
        m for m in history if (m.start_on is None or m.start_on <= today) and (m.end_on is None or m.end_on >= today)
    ]
    return render(
        request,
        "governance/body.html",
        {
            "body": body,
            "current": current,
            "history": history,
            "sittings": selectors.sitting_list(body=body),
            "can_write": _can_write(request),
            "today": today,
        },
    )


@login_required
def body_create(request: HttpRequest) -> HttpResponse:
    require_operator_staff(request.user)
    form = BodyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            body = services.body_create(actor=signed_in(request), data=form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Instance créée."))
            return redirect("governance:body", slug=body.slug)
    return render(request, "governance/form.html", {"form": form, "title": _("Nouvelle instance")})


@login_required
def body_edit(request: HttpRequest, slug: str) -> HttpResponse:
    require_operator_staff(request.user)
    body = get_object_or_404(Body, slug=slug)
    form = BodyForm(request.POST or None, instance=Body.objects.get(pk=body.pk))
    if request.method == "POST" and form.is_valid():
        try:
            services.body_update(actor=signed_in(request), body=body, data=form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Instance enregistrée."))
            return redirect("governance:body", slug=body.slug)
    return render(request, "governance/form.html", {"form": form, "title": _("Modifier : %(n)s") % {"n": body.name}})


@login_required
def mandate_create(request: HttpRequest) -> HttpResponse:
    require_operator_staff(request.user)
    initial = {}
    if request.GET.get("instance"):
        initial["body"] = Body.objects.filter(slug=request.GET["instance"]).first()
    form = MandateForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k not in {"person_name", "email"}}
        try:
            mandate = services.mandate_appoint(
                actor=signed_in(request),
                person_name=form.cleaned_data["person_name"],
                email=form.cleaned_data["email"],
                data=data,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Mandat enregistré."))
            return redirect("governance:body", slug=mandate.body.slug)
    return render(request, "governance/form.html", {"form": form, "title": _("Nouveau mandat")})


@login_required
@require_POST
def mandate_end(request: HttpRequest, pk: int) -> HttpResponse:
    require_operator_staff(request.user)
    mandate = get_object_or_404(Mandate.objects.select_related("body"), pk=pk)
    form = MandateEndForm(request.POST)
    if form.is_valid():
        try:
            services.mandate_end(
                actor=signed_in(request),
                mandate=mandate,
                end_on=form.cleaned_data["end_on"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            _refused(request, error)
        else:
            messages.success(request, _("Mandat clos."))
    else:
        messages.error(request, _("Date de fin invalide."))
    return redirect("governance:body", slug=mandate.body.slug)


@login_required
def mandate_replace(request: HttpRequest, pk: int) -> HttpResponse:
    require_operator_staff(request.user)
    mandate = get_object_or_404(Mandate.objects.select_related("body", "person"), pk=pk)
    form = MandateReplaceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.mandate_replace(actor=signed_in(request), mandate=mandate, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Remplacement enregistré."))
            return redirect("governance:body", slug=mandate.body.slug)
    title = _("Remplacer %(p)s (%(r)s, %(b)s)") % {
        "p": mandate.person.full_name,
        "r": mandate.get_role_display(),
        "b": mandate.body.name,
    }
    return render(request, "governance/form.html", {"form": form, "title": title})


# --- sittings ------------------------------------------------------------------------------------


@login_required
def sitting_create(request: HttpRequest, slug: str) -> HttpResponse:
    require_operator_staff(request.user)
    body = get_object_or_404(Body, slug=slug)
    follows = None
    if request.GET.get("apres"):
        follows = get_object_or_404(Sitting, pk=request.GET["apres"], body=body, state=SittingState.NO_QUORUM)
    form = SittingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            sitting = services.sitting_create(
                actor=signed_in(request), body=body, data=form.cleaned_data, follows=follows
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Séance créée."))
            return redirect("governance:sitting", pk=sitting.pk)
    title = _("Nouvelle séance : %(b)s") % {"b": body.name}
    if follows is not None:
        title = _("Nouvelle séance sans condition de quorum : %(b)s") % {"b": body.name}
    return render(request, "governance/form.html", {"form": form, "title": title})


def _sitting_context(request: HttpRequest, sitting: Sitting, **forms: Any) -> dict[str, Any]:
    items = list(sitting.items.all())
    members = list(selectors.sitting_members(sitting=sitting))
    presences = {
        p.mandate_id: p for p in Presence.objects.filter(sitting=sitting).select_related("proxy_holder__person")
    }
    rows = [{"mandate": m, "presence": presences.get(m.pk)} for m in members]
    if presences and not rows:
        rows = [{"mandate": p.mandate, "presence": p} for p in presences.values()]
    notice = None
    if sitting.convened_at:
        notice = services.clear_days(
            sent_on=timezone.localtime(sitting.convened_at).date(),
            sitting_on=timezone.localtime(sitting.starts_at).date(),
        )
    can_write = _can_write(request)
    return {
        "sitting": sitting,
        "items": items,
        "rows": rows,
        "attendance_choices": Attendance.choices,
        "notice_days": notice,
        "notice_required": EMERGENCY_NOTICE_CLEAR_DAYS if sitting.emergency_reason else NOTICE_CLEAR_DAYS,
        "can_write": can_write,
        "States": SittingState,
        "deliberation_kind": ItemKind.DELIBERATION,
        "item_form": forms.get("item_form") or (AgendaItemForm() if can_write else None),
        "convene_form": forms.get("convene_form") or ConveneForm(),
        "close_form": forms.get("close_form") or CloseForm(initial={"minutes": sitting.minutes}),
        "vote_fields": [(name, VoteForm.base_fields[name].label) for name in VOTE_COUNTS],
        "casting_choices": CastingVote.choices,
        "item_add_url": reverse("governance:item_add", args=[sitting.pk]),
        "close_url": reverse("governance:sitting_close", args=[sitting.pk]),
        "reconvened": getattr(sitting, "reconvened_as", None) if sitting.state == SittingState.NO_QUORUM else None,
    }


def _sitting(pk: int) -> Sitting:
    try:
        return selectors.sitting_detail(pk=pk)
    except Sitting.DoesNotExist:
        raise Http404("séance introuvable") from None


@login_required
def sitting_detail(request: HttpRequest, pk: int) -> HttpResponse:
    sitting = _sitting(pk)
    return render(request, "governance/sitting.html", _sitting_context(request, sitting))


@login_required
@require_POST
def item_add(request: HttpRequest, pk: int) -> HttpResponse:
    require_operator_staff(request.user)
    sitting = _sitting(pk)
    form = AgendaItemForm(request.POST)
    if form.is_valid():
        try:
            services.agenda_item_add(actor=signed_in(request), sitting=sitting, data=form.cleaned_data)
        except ValidationError as error:
            _refused(request, error)
        else:
            messages.success(request, _("Point ajouté à l'ordre du jour."))
            return redirect("governance:sitting", pk=sitting.pk)
    return render(request, "governance/sitting.html", _sitting_context(request, sitting, item_form=form), status=422)


@login_required
@require_POST
def sitting_convene(request: HttpRequest, pk: int) -> HttpResponse:
    require_operator_staff(request.user)
    sitting = _sitting(pk)
    form = ConveneForm(request.POST)
    if form.is_valid():
        try:
            services.sitting_convene(
                actor=signed_in(request), sitting=sitting, emergency_reason=form.cleaned_data["emergency_reason"]
            )
        except ValidationError as error:
            _refused(request, error)
        else:
            messages.success(request, _("Convocation envoyée."))
    return redirect("governance:sitting", pk=sitting.pk)


@login_required
@require_POST
def sitting_hold(request: HttpRequest, pk: int) -> HttpResponse:
    require_operator_staff(request.user)
    sitting = _sitting(pk)
    attendance: dict[int, tuple[str, int | None]] = {}
    try:
        for key, status in request.POST.items():
            if key.startswith("presence-"):
                mandate_id = int(key.removeprefix("presence-"))
                holder = request.POST.get(f"pouvoir-{mandate_id}") or None
                attendance[mandate_id] = (str(status), int(holder) if holder else None)
    except ValueError:
        messages.error(request, _("Présences illisibles."))
        return redirect("governance:sitting", pk=sitting.pk)
    try:
        sitting = services.sitting_hold(actor=signed_in(request), sitting=sitting, attendance=attendance)
    except ValidationError as error:
        _refused(request, error)
    else:
        if sitting.state == SittingState.NO_QUORUM:
            messages.warning(request, _("Quorum non atteint : la séance ne peut pas délibérer."))
        else:
            messages.success(request, _("Présences enregistrées : le quorum est atteint."))
    return redirect("governance:sitting", pk=sitting.pk)


@login_required
@require_POST
def item_vote(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    require_operator_staff(request.user)
    sitting = _sitting(pk)
    item = get_object_or_404(AgendaItem, pk=item_pk, sitting=sitting)  # an item of another sitting: 404
    form = VoteForm(request.POST, prefix=f"item{item.pk}")
    if form.is_valid():
        try:
            services.item_vote(actor=signed_in(request), item=item, **form.cleaned_data)
        except ValidationError as error:
            _refused(request, error)
        else:
            messages.success(request, _("Vote enregistré : point %(n)s.") % {"n": item.position})
    else:
        messages.error(request, _("Vote du point %(n)s : indiquez des nombres de voix.") % {"n": item.position})
    return redirect(f"{reverse('governance:sitting', args=[sitting.pk])}#point-{item.position}")


@login_required
@require_POST
def sitting_close(request: HttpRequest, pk: int) -> HttpResponse:
    require_operator_staff(request.user)
    sitting = _sitting(pk)
    form = CloseForm(request.POST)
    if form.is_valid():
        try:
            services.sitting_close(actor=signed_in(request), sitting=sitting, minutes=form.cleaned_data["minutes"])
        except ValidationError as error:
            _refused(request, error)
        else:
            messages.success(request, _("Séance close : délibérations numérotées."))
    else:
        messages.error(request, _("Le procès-verbal est vide."))
    return redirect("governance:sitting", pk=sitting.pk)


# --- register and delegations --------------------------------------------------------------------


@login_required
def deliberation_register(request: HttpRequest) -> HttpResponse:
    years = selectors.deliberation_years()
    try:
        year = int(request.GET.get("annee") or (years[0] if years else timezone.localdate().year))
    except ValueError:
        year = timezone.localdate().year
    return render(
        request,
        "governance/register.html",
        {"years": years, "year": year, "items": selectors.deliberation_register(year=year)},
    )


@login_required
def delegation_list(request: HttpRequest) -> HttpResponse:
    can_write = _can_write(request)
    return render(
        request,
        "governance/delegations.html",
        {
            "delegations": selectors.delegation_list(),
            "decisions": selectors.delegated_decision_list(),
            "can_write": can_write,
        },
    )


@login_required
def delegation_create(request: HttpRequest) -> HttpResponse:
    require_operator_staff(request.user)
    form = DelegationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.delegation_create(actor=signed_in(request), data=form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Délégation enregistrée."))
            return redirect("governance:delegations")
    return render(request, "governance/form.html", {"form": form, "title": _("Nouvelle délégation")})


@login_required
def decision_create(request: HttpRequest) -> HttpResponse:
    require_operator_staff(request.user)
    form = DelegatedDecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.delegated_decision_create(actor=signed_in(request), data=form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Décision enregistrée."))
            return redirect("governance:delegations")
    return render(request, "governance/form.html", {"form": form, "title": _("Nouvelle décision prise par délégation")})
