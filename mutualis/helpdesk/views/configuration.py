"""The helpdesk's configuration pages for operator staff: business calendars, service-level
policies, categories, the priority matrix and the answer templates. Members get 404, read-only
roles 403 on writes; every write goes through config_services (answer templates: core.services)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import holidays
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from mutualis.accounts.requests import signed_in
from mutualis.catalog.models import ServiceCommitment
from mutualis.core import services as core_services
from mutualis.core.forms import add_service_errors
from mutualis.core.tenancy import may_write, require_operator_staff, require_writer
from mutualis.core.widgets import DateInput
from mutualis.helpdesk import config_services as services
from mutualis.helpdesk.enums import DurationUnit, TicketType
from mutualis.helpdesk.forms_tickets import AnswerTemplateForm
from mutualis.helpdesk.models import AnswerTemplate, Calendar, Category, Closure, OpeningInterval, SlaPolicy, Weekday
from mutualis.helpdesk.views.shared import report
from mutualis.members.models import OperatorService

COMMON_TIMEZONES = (
    "Europe/Paris",
    "America/Guadeloupe",
    "America/Martinique",
    "America/Cayenne",
    "Indian/Reunion",
    "Indian/Mayotte",
    "America/Miquelon",
    "Pacific/Noumea",
    "Pacific/Tahiti",
    "UTC",
)


def _staff(request: HttpRequest) -> None:
    require_operator_staff(request.user)
    if request.method == "POST":
        require_writer(request.user)


def _get(model: Any, pk: int, **lookup: Any) -> Any:
    instance = model.objects.filter(pk=pk, **lookup).first()
    if instance is None:
        raise Http404(_("élément introuvable"))
    return instance


# -- forms (they shape input; config_services decides) -------------------------------------------
class CalendarForm(forms.Form):
    name = forms.CharField(label=_lazy("Nom"), max_length=120)
    timezone = forms.CharField(
        label=_lazy("Fuseau horaire"),
        max_length=64,
        initial="Europe/Paris",
        help_text=_lazy("Nom IANA, par exemple Europe/Paris ou Indian/Reunion."),
        widget=forms.TextInput(attrs={"list": "timezones", "autocomplete": "off"}),
    )
    use_french_holidays = forms.BooleanField(
        label=_lazy("Fermé les jours fériés de métropole"), required=False, initial=True
    )
    is_default = forms.BooleanField(
        label=_lazy("Calendrier par défaut"),
        required=False,
        help_text=_lazy("Celui des tickets qu'aucune politique ne couvre ; un seul calendrier l'est à la fois."),
    )


class IntervalForm(forms.Form):
    weekday = forms.TypedChoiceField(label=_lazy("Jour"), choices=Weekday.choices, coerce=int)
    start = forms.TimeField(label=_lazy("Ouverture"), widget=forms.TimeInput(attrs={"type": "time"}))
    end = forms.TimeField(label=_lazy("Fermeture"), widget=forms.TimeInput(attrs={"type": "time"}))


class ClosureForm(forms.Form):
    label = forms.CharField(label=_lazy("Motif"), max_length=120)
    start = forms.DateField(label=_lazy("Du"), widget=DateInput())
    end = forms.DateField(label=_lazy("Au (inclus)"), widget=DateInput())


def _optional_int(value: str) -> int | None:
    return int(value) if value not in ("", None) else None


class PolicyForm(forms.Form):
    name = forms.CharField(label=_lazy("Nom"), max_length=150)
    commitments = forms.ModelMultipleChoiceField(
        label=_lazy("Engagements de service mesurés"),
        queryset=ServiceCommitment.objects.all(),
        required=False,
        help_text=_lazy(
            "Les engagements du catalogue dont cette politique mesure le respect (page Qualité) ; "
            "plusieurs choix possibles."
        ),
    )
    ticket_type = forms.ChoiceField(
        label=_lazy("Type de ticket"), choices=[("", _lazy("tous"))] + list(TicketType.choices), required=False
    )
    priority = forms.TypedChoiceField(
        label=_lazy("Priorité"),
        choices=[("", _lazy("toutes"))] + [(n, str(n)) for n in range(1, 7)],
        coerce=int,
        empty_value=None,
        required=False,
    )
    blocking_only = forms.BooleanField(label=_lazy("Incidents bloquants seulement"), required=False)
    calendar = forms.ModelChoiceField(label=_lazy("Calendrier"), queryset=Calendar.objects.all(), empty_label=None)
    tto_value = forms.IntegerField(label=_lazy("Délai de prise en compte"), required=False)
    tto_unit = forms.ChoiceField(label=_lazy("Unité (prise en compte)"), choices=DurationUnit.choices)
    ttr_value = forms.IntegerField(label=_lazy("Délai de résolution"), required=False)
    ttr_unit = forms.ChoiceField(
        label=_lazy("Unité (résolution)"), choices=DurationUnit.choices, initial=DurationUnit.DAYS
    )
    escalation_percents = forms.CharField(
        label=_lazy("Alertes (% du délai)"),
        max_length=40,
        initial="50,75,100",
        required=False,
        help_text=_lazy("Le groupe est prévenu à ces pourcentages du délai, séparés par des virgules."),
    )


class CategoryForm(forms.Form):
    name = forms.CharField(label=_lazy("Nom"), max_length=150)
    slug = forms.CharField(
        label=_lazy("Identifiant"), max_length=80, required=False, help_text=_lazy("Laissé vide, il est tiré du nom.")
    )
    parent = forms.ModelChoiceField(
        label=_lazy("Catégorie parente"),
        queryset=Category.objects.select_related("parent"),
        required=False,
        empty_label=_lazy("— aucune —"),
    )
    default_group = forms.ModelChoiceField(
        label=_lazy("Groupe par défaut"),
        queryset=OperatorService.objects.all(),
        required=False,
        empty_label=_lazy("— aucun —"),
        help_text=_lazy("Groupe attribué aux tickets de cette catégorie quand rien d'autre ne le fixe."),
    )
    position = forms.IntegerField(label=_lazy("Ordre"), min_value=0, max_value=32767, initial=0)


# -- the index ----------------------------------------------------------------------------------
@login_required
def config_index(request: HttpRequest) -> HttpResponse:
    _staff(request)
    return render(request, "helpdesk/config/index.html", {})


# -- calendars ----------------------------------------------------------------------------------
def _hours_by_day(intervals: Any) -> list[tuple[Any, list[OpeningInterval]]]:
    days: dict[int, list[OpeningInterval]] = {n: [] for n in range(7)}
    for interval in intervals:
        days[interval.weekday].append(interval)
    return [(Weekday(n).label, sorted(days[n], key=lambda i: i.start)) for n in range(7)]


def _weekly_hours(intervals: Any) -> str:
    seconds = sum(
        (dt.datetime.combine(dt.date.min, i.end) - dt.datetime.combine(dt.date.min, i.start)).seconds for i in intervals
    )
    hours, rest = divmod(seconds // 60, 60)
    return f"{hours} h {rest:02d}" if rest else f"{hours} h"


@login_required
def calendar_list(request: HttpRequest) -> HttpResponse:
    _staff(request)
    calendars = list(Calendar.objects.prefetch_related("intervals"))
    rows = [{"calendar": c, "weekly": _weekly_hours(c.intervals.all())} for c in calendars]
    return render(request, "helpdesk/config/calendars.html", {"rows": rows, "can_write": may_write(request.user)})


def _holidays_ahead(calendar: Calendar, today: dt.date) -> list[tuple[dt.date, str]]:
    if not calendar.use_french_holidays:
        return []
    language = "fr" if (get_language() or "fr").startswith("fr") else "en_US"
    found = holidays.country_holidays("FR", years=[today.year, today.year + 1], language=language)
    until = today + dt.timedelta(days=365)
    return sorted((day, name) for day, name in found.items() if today <= day <= until)


def _calendar_page(
    request: HttpRequest,
    calendar: Calendar,
    *,
    interval_form: IntervalForm | None = None,
    closure_form: ClosureForm | None = None,
    status: int = 200,
) -> HttpResponse:
    today = timezone.localdate()
    intervals = list(calendar.intervals.all())
    context = {
        "calendar": calendar,
        "days": _hours_by_day(intervals),
        "weekly": _weekly_hours(intervals),
        "closures": list(calendar.closures.filter(end__gte=today)),
        "past_closures": calendar.closures.filter(end__lt=today).count(),
        "holidays": _holidays_ahead(calendar, today),
        "policies": list(calendar.slapolicy_set.only("pk", "name", "active")),
        "interval_form": interval_form or IntervalForm(prefix="interval"),
        "closure_form": closure_form or ClosureForm(prefix="closure"),
        "can_write": may_write(request.user),
    }
    return render(request, "helpdesk/config/calendar.html", context, status=status)


@login_required
def calendar_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _staff(request)
    return _calendar_page(request, _get(Calendar, pk))


def _calendar_form(request: HttpRequest, calendar: Calendar | None) -> HttpResponse:
    _staff(request)
    initial = (
        {
            "name": calendar.name,
            "timezone": calendar.timezone,
            "use_french_holidays": calendar.use_french_holidays,
            "is_default": calendar.is_default,
        }
        if calendar
        else None
    )
    form = CalendarForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if calendar is None:
                calendar = services.calendar_create(
                    actor=signed_in(request),
                    name=data["name"],
                    timezone_name=data["timezone"],
                    use_french_holidays=data["use_french_holidays"],
                    is_default=data["is_default"],
                )
                messages.success(
                    request,
                    _("Calendrier « %(name)s » créé, ouvert du lundi au vendredi : ajustez ses horaires.")
                    % {"name": calendar.name},
                )
            else:
                services.calendar_update(actor=signed_in(request), calendar=calendar, data=data)
                messages.success(request, _("Calendrier « %(name)s » enregistré.") % {"name": calendar.name})
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return redirect("helpdesk:config_calendar", pk=calendar.pk)
    context = {
        "form": form,
        "calendar": calendar,
        "title": calendar.name if calendar else _("Nouveau calendrier"),
        "timezones": COMMON_TIMEZONES,
    }
    return render(request, "helpdesk/config/calendar_form.html", context)


@login_required
def calendar_create(request: HttpRequest) -> HttpResponse:
    return _calendar_form(request, None)


@login_required
def calendar_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _staff(request)
    return _calendar_form(request, _get(Calendar, pk))


@login_required
@require_POST
def interval_add(request: HttpRequest, pk: int) -> HttpResponse:
    _staff(request)
    calendar = _get(Calendar, pk)
    form = IntervalForm(request.POST, prefix="interval")
    if form.is_valid():
        try:
            services.interval_add(actor=signed_in(request), calendar=calendar, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, _("Plage d'ouverture ajoutée ; les échéances des tickets ouverts sont recalculées.")
            )
            return redirect("helpdesk:config_calendar", pk=calendar.pk)
    return _calendar_page(request, calendar, interval_form=form)


@login_required
@require_POST
def interval_remove(request: HttpRequest, pk: int, interval: int) -> HttpResponse:
    _staff(request)
    instance = _get(OpeningInterval, interval, calendar_id=pk)
    try:
        services.interval_remove(actor=signed_in(request), interval=instance)
    except ValidationError as error:
        report(request, error)
    else:
        messages.success(request, _("Plage « %(interval)s » retirée.") % {"interval": instance})
    return redirect("helpdesk:config_calendar", pk=pk)


@login_required
@require_POST
def closure_add(request: HttpRequest, pk: int) -> HttpResponse:
    _staff(request)
    calendar = _get(Calendar, pk)
    form = ClosureForm(request.POST, prefix="closure")
    if form.is_valid():
        try:
            services.closure_add(actor=signed_in(request), calendar=calendar, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Fermeture ajoutée ; les échéances des tickets ouverts sont recalculées."))
            return redirect("helpdesk:config_calendar", pk=calendar.pk)
    return _calendar_page(request, calendar, closure_form=form)


@login_required
@require_POST
def closure_remove(request: HttpRequest, pk: int, closure: int) -> HttpResponse:
    _staff(request)
    instance = _get(Closure, closure, calendar_id=pk)
    services.closure_remove(actor=signed_in(request), closure=instance)
    messages.success(request, _("Fermeture « %(closure)s » retirée.") % {"closure": instance})
    return redirect("helpdesk:config_calendar", pk=pk)


# -- service-level policies ---------------------------------------------------------------------
@login_required
def policy_list(request: HttpRequest) -> HttpResponse:
    _staff(request)
    policies = (
        SlaPolicy.objects.select_related("calendar")
        .prefetch_related("commitments")
        .order_by("-active", "ticket_type", "-blocking_only", "-priority", "name")
    )
    commitments = ServiceCommitment.objects.prefetch_related("sla_policies")
    return render(
        request,
        "helpdesk/config/policies.html",
        {"policies": policies, "commitments": commitments, "can_write": may_write(request.user)},
    )


def _preview(data: dict[str, Any]) -> dict[str, Any]:
    calendar = data.get("calendar")
    if calendar is None:
        return {}
    now = timezone.now()
    try:
        due = services.policy_preview(
            calendar=calendar,
            tto_value=data.get("tto_value"),
            tto_unit=data.get("tto_unit") or DurationUnit.HOURS,
            ttr_value=data.get("ttr_value"),
            ttr_unit=data.get("ttr_unit") or DurationUnit.DAYS,
            now=now,
        )
    except (ValueError, OverflowError):
        return {"now": now, "impossible": True}
    return {"now": now, **due}


def _policy_initial(policy: SlaPolicy) -> dict[str, Any]:
    initial = {name: getattr(policy, name) for name in services.POLICY_FIELDS}
    initial["commitments"] = list(policy.commitments.all())
    return initial


def _policy_data(cleaned: dict[str, Any]) -> dict[str, Any]:
    data = {name: cleaned.get(name) for name in (*services.POLICY_FIELDS, *services.POLICY_RELATIONS)}
    data["ticket_type"] = data["ticket_type"] or ""
    return data


def _policy_form(request: HttpRequest, policy: SlaPolicy | None) -> HttpResponse:
    _staff(request)
    form = PolicyForm(request.POST or None, initial=_policy_initial(policy) if policy else None)
    if request.method == "POST" and form.is_valid():
        data = _policy_data(form.cleaned_data)
        try:
            if policy is None:
                policy = services.policy_create(actor=signed_in(request), data=data)
            else:
                services.policy_update(actor=signed_in(request), policy=policy, data=data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                _("Politique « %(name)s » enregistrée ; elle s'applique aux tickets ouverts désormais.")
                % {"name": policy.name},
            )
            return redirect("helpdesk:config_policies")
    if policy is not None and not form.is_bound:
        preview = _preview(_policy_initial(policy))
    elif form.is_bound:
        preview = _preview(form.cleaned_data if hasattr(form, "cleaned_data") else {})
    else:
        default = Calendar.objects.filter(is_default=True).first()
        preview = _preview({"calendar": default, "ttr_value": None}) if default else {}
    context = {
        "form": form,
        "policy": policy,
        "preview": preview,
        "title": policy.name if policy else _("Nouvelle politique de niveau de service"),
    }
    return render(request, "helpdesk/config/policy_form.html", context)


@login_required
def policy_create(request: HttpRequest) -> HttpResponse:
    return _policy_form(request, None)


@login_required
def policy_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _staff(request)
    return _policy_form(request, _get(SlaPolicy, pk))


@login_required
def policy_preview(request: HttpRequest) -> HttpResponse:
    """The "a ticket opened now would be due at …" fragment, refreshed by htmx as the form changes."""
    _staff(request)
    form = PolicyForm(request.GET)
    form.is_valid()
    return render(request, "helpdesk/config/_policy_preview.html", {"preview": _preview(form.cleaned_data)})


@login_required
@require_POST
def policy_set_active(request: HttpRequest, pk: int) -> HttpResponse:
    _staff(request)
    policy = _get(SlaPolicy, pk)
    active = request.POST.get("active") == "1"
    services.policy_set_active(actor=signed_in(request), policy=policy, active=active)
    message = _("Politique « %(name)s » réactivée.") if active else _("Politique « %(name)s » désactivée.")
    messages.success(request, message % {"name": policy.name})
    return redirect("helpdesk:config_policies")


# -- categories ---------------------------------------------------------------------------------
@login_required
def category_list(request: HttpRequest) -> HttpResponse:
    _staff(request)
    categories = Category.objects.select_related("parent", "default_group")
    return render(
        request,
        "helpdesk/config/categories.html",
        {"categories": categories, "can_write": may_write(request.user)},
    )


def _category_form(request: HttpRequest, category: Category | None) -> HttpResponse:
    _staff(request)
    initial = {name: getattr(category, name) for name in services.CATEGORY_FIELDS} if category else None
    form = CategoryForm(request.POST or None, initial=initial)
    if category is not None:
        form.fields["parent"].queryset = Category.objects.exclude(pk=category.pk)  # type: ignore[attr-defined]
    if request.method == "POST" and form.is_valid():
        try:
            if category is None:
                category = services.category_create(actor=signed_in(request), data=form.cleaned_data)
            else:
                services.category_update(actor=signed_in(request), category=category, data=form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Catégorie « %(name)s » enregistrée.") % {"name": category.name})
            return redirect("helpdesk:config_categories")
    title = category.name if category else _("Nouvelle catégorie")
    return render(request, "helpdesk/config/category_form.html", {"form": form, "title": title})


@login_required
def category_create(request: HttpRequest) -> HttpResponse:
    return _category_form(request, None)


@login_required
def category_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _staff(request)
    return _category_form(request, _get(Category, pk))


# -- the priority matrix ------------------------------------------------------------------------
SCALE = range(5, 0, -1)


@login_required
def priority_matrix(request: HttpRequest) -> HttpResponse:
    _staff(request)
    current = services.priority_matrix()
    values: dict[tuple[int, int], Any] = dict(current)
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        values = {(u, i): request.POST.get(f"cell_{u}_{i}", "") for u in SCALE for i in SCALE}
        try:
            changed = services.priority_matrix_update(actor=signed_in(request), cells=values)
        except ValidationError as error:
            errors = list(error.messages)
        else:
            messages.success(request, _("Matrice enregistrée (%(n)d case(s) modifiée(s)).") % {"n": changed})
            return redirect("helpdesk:config_matrix")
    glpi = services.GLPI_MATRIX
    rows = [
        {
            "urgency": u,
            "cells": [
                {"impact": i, "name": f"cell_{u}_{i}", "value": str(values[(u, i)]), "glpi": glpi[u][i]} for i in SCALE
            ],
        }
        for u in SCALE
    ]
    context = {
        "rows": rows,
        "impacts": list(SCALE),
        "choices": [str(n) for n in range(1, 7)],  # up to GLPI's 6, « majeure »
        "errors": errors,
        "is_glpi": all(current[(u, i)] == glpi[u][i] for u in SCALE for i in SCALE),
        "can_write": may_write(request.user),
    }
    return render(request, "helpdesk/config/matrix.html", context, status=status)


@login_required
@require_POST
def priority_matrix_restore(request: HttpRequest) -> HttpResponse:
    _staff(request)
    changed = services.priority_matrix_restore(actor=signed_in(request))
    messages.success(request, _("Matrice de GLPI rétablie (%(n)d case(s) modifiée(s)).") % {"n": changed})
    return redirect("helpdesk:config_matrix")


# -- answer templates ---------------------------------------------------------------------------
@login_required
def answer_template_index(request: HttpRequest) -> HttpResponse:
    require_operator_staff(request.user)
    return render(
        request,
        "helpdesk/answer_templates.html",
        {"templates": AnswerTemplate.objects.all(), "can_write": not signed_in(request).is_read_only},
    )


def _answer_template_form(request: HttpRequest, instance: AnswerTemplate | None) -> HttpResponse:
    require_operator_staff(request.user)
    if request.method == "POST":
        require_writer(request.user)
    initial = {"name": instance.name, "body": instance.body} if instance else None
    form = AnswerTemplateForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = {"name": form.cleaned_data["name"], "body": form.cleaned_data["body"]}
        try:
            if instance is None:
                core_services.model_create(actor=signed_in(request), model=AnswerTemplate, data=data)
            else:
                core_services.model_update(actor=signed_in(request), instance=instance, data=data, fields=data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Modèle de réponse enregistré."))
            return redirect("helpdesk:answer_templates")
    title = _("Nouveau modèle de réponse") if instance is None else instance.name
    return render(request, "helpdesk/answer_template_form.html", {"form": form, "title": title})


@login_required
def answer_template_create(request: HttpRequest) -> HttpResponse:
    return _answer_template_form(request, None)


@login_required
def answer_template_edit(request: HttpRequest, pk: int) -> HttpResponse:
    require_operator_staff(request.user)
    instance = AnswerTemplate.objects.filter(pk=pk).first()
    if instance is None:
        raise Http404(_("modèle introuvable"))
    return _answer_template_form(request, instance)


@login_required
@require_POST
def answer_template_delete(request: HttpRequest, pk: int) -> HttpResponse:
    require_operator_staff(request.user)
    require_writer(request.user)
    instance = AnswerTemplate.objects.filter(pk=pk).first()
    if instance is None:
        raise Http404(_("modèle introuvable"))
    core_services.model_delete(actor=signed_in(request), instance=instance)
    messages.success(request, _("Modèle « %(name)s » supprimé.") % {"name": instance.name})
    return redirect("helpdesk:answer_templates")
