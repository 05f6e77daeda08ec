"""Members list, one member's page, edits of a member and its contacts."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from mutualis.accounts.requests import signed_in
from mutualis.core.forms import add_service_errors
from mutualis.core.panels import panels_render
from mutualis.core.tenancy import require_operator_staff
from mutualis.members import services
from mutualis.members.forms import ContactForm, OrganisationCreateForm, OrganisationForm
from mutualis.members.models import MEMBER_KINDS, Organisation, OrganisationKind
from mutualis.members.selectors import (
    collectivity_figures,
    collectivity_get,
    collectivity_list,
    contact_get,
    operator_get,
    operator_staff_figures,
)


@login_required
def member_list(request: HttpRequest) -> HttpResponse:
    kind = request.GET.get("nature") or None
    if kind and kind not in OrganisationKind.values:
        kind = None
    collectivities = list(collectivity_list(actor=signed_in(request), kind=kind))
    figures = collectivity_figures()
    for collectivity in collectivities:
        collectivity.figures = [getattr(collectivity, figure.name) for figure in figures]  # type: ignore[attr-defined]
    operator = operator_get() if signed_in(request).is_operator else None
    return render(
        request,
        "members/list.html",
        {
            "collectivities": collectivities,
            "groups": _member_groups(collectivities),
            "figures": figures,
            "kinds": [k for k in OrganisationKind.choices if k[0] != OrganisationKind.OPERATOR],
            "kind": kind,
            "operator": operator,
            "staff": operator_staff_figures(operator) if operator else None,
        },
    )


def _member_groups(collectivities: list[Organisation]) -> list[dict[str, Any]]:
    """The list's rows by standing, each group with its heading, a line saying what it is, and totals.

    Members, partners and former members are not the same thing: summing a partner's population
    with the members' would misstate who the operator serves.
    """
    today = timezone.localdate()
    specs = [
        (
            "members",
            _("Collectivités adhérentes"),
            _("Communes, CCAS, EPCI et syndicats membres de l'opérateur : ils en financent les services."),
            lambda c: c.kind in MEMBER_KINDS and not (c.left_on and c.left_on <= today),
        ),
        (
            "partners",
            _("Partenaires"),
            _(
                "Organisations avec lesquelles l'opérateur travaille sans qu'elles soient adhérentes "
                "(par exemple une entente)."
            ),
            lambda c: c.kind == OrganisationKind.PARTNER,
        ),
        (
            "former",
            _("Anciens adhérents"),
            _("Collectivités qui se sont retirées : leur historique reste consultable."),
            lambda c: c.kind in MEMBER_KINDS and bool(c.left_on and c.left_on <= today),
        ),
    ]
    groups = []
    for key, title, description, belongs in specs:
        rows = [c for c in collectivities if belongs(c)]
        if not rows:
            continue
        groups.append(
            {
                "key": key,
                "title": title,
                "description": description,
                "rows": rows,
                "totals": {
                    "count": len(rows),
                    "population": sum(c.population or 0 for c in rows),
                    "agents": sum(c.agents_count or 0 for c in rows),
                    # the registered figures' totals (set on each row by member_list)
                    "figures": [sum(values) for values in zip(*(c.figures for c in rows), strict=True)],  # type: ignore[attr-defined]
                    "missing_population": sum(1 for c in rows if c.population is None),
                    "missing_agents": sum(1 for c in rows if c.agents_count is None),
                },
            }
        )
    return groups


@login_required
def member_detail(request: HttpRequest, slug: str) -> HttpResponse:
    organisation = collectivity_get(actor=signed_in(request), slug=slug)
    return render(
        request,
        "members/detail.html",
        {
            "organisation": organisation,
            "can_edit": services.can_edit_organisation(signed_in(request), organisation),
            # subscriptions (catalog), contacts (members.panels), seats in the bodies (governance)
            "panels": panels_render("members.detail", request, organisation=organisation),
        },
    )


@login_required
def member_edit(request: HttpRequest, slug: str) -> HttpResponse:
    organisation = collectivity_get(actor=signed_in(request), slug=slug)
    if not services.can_edit_organisation(signed_in(request), organisation):
        if signed_in(request).is_read_only:  # an elected official reads this member's page: say why not
            raise PermissionDenied(_("votre rôle est en lecture seule"))
        raise Http404
    member_only = not signed_in(request).is_operator
    form = OrganisationForm(request.POST or None, instance=organisation, member_only=member_only)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in form.fields}
        try:
            changes = services.collectivity_update(actor=signed_in(request), organisation=organisation, data=data)
        except ValidationError as error:
            organisation.refresh_from_db()
            add_service_errors(form, error)
        else:
            messages.success(request, _("Fiche enregistrée (%(n)d champ(s) modifié(s)).") % {"n": len(changes)})
            return redirect("members:detail", slug=organisation.slug)
    return render(request, "members/edit.html", {"organisation": organisation, "form": form})


@login_required
def member_create(request: HttpRequest) -> HttpResponse:
    require_operator_staff(request.user)
    form = OrganisationCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            organisation = services.collectivity_create(actor=signed_in(request), data=dict(form.cleaned_data))
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Collectivité créée."))
            return redirect("members:detail", slug=organisation.slug)
    return render(request, "members/edit.html", {"organisation": None, "form": form})


@login_required
@require_POST
def contact_add(request: HttpRequest, slug: str) -> HttpResponse:
    organisation = collectivity_get(actor=signed_in(request), slug=slug)
    form = ContactForm(request.POST)
    if form.is_valid():
        try:
            services.contact_create(actor=signed_in(request), organisation=organisation, data=dict(form.cleaned_data))
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("Contact ajouté."))
    else:
        for field, errors in form.errors.items():
            messages.error(
                request,
                f"{form.fields[field].label if field in form.fields else ''} : {' '.join(str(e) for e in errors)}",
            )
    return redirect("members:detail", slug=organisation.slug)


@login_required
@require_POST
def contact_delete(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    organisation = collectivity_get(actor=signed_in(request), slug=slug)
    contact = contact_get(actor=signed_in(request), organisation=organisation, pk=pk)
    services.contact_delete(actor=signed_in(request), contact=contact)
    messages.success(request, _("Contact supprimé."))
    return redirect("members:detail", slug=organisation.slug)
