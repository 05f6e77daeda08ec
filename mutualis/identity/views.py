"""The agent portal, the directory pages for member managers and the operator, the accounts
audit, the attribute release register and its exports, and the single sign-on refusal page."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from mutualis.accounts.models import User
from mutualis.accounts.requests import signed_in
from mutualis.core.forms import add_service_errors
from mutualis.core.pagination import page_or_404
from mutualis.core.tenancy import is_operator, require_operator_staff
from mutualis.identity import exports, selectors, services
from mutualis.identity.forms import AgentFilterForm, AttributeReleaseForm
from mutualis.identity.models import AttributeRelease
from mutualis.identity.oidc import REFUSAL_KEY

# The helpdesk's pages for agents: file a request (the questionnaires' catalogue), follow one's requests.
HELPDESK_SHORTCUTS = [
    ("questionnaires:catalogue", gettext_lazy("Signaler un incident ou faire une demande")),
    ("helpdesk:index", gettext_lazy("Suivre mes demandes")),
]


def _manager_or_operator(user: User) -> None:
    """Directory pages: member managers (their own agents) and operator staff."""
    if not (is_operator(user) or user.is_member_manager):
        raise Http404("page réservée aux responsables")


def _shortcuts() -> list[tuple[str, Any]]:
    found = []
    for name, label in HELPDESK_SHORTCUTS:
        try:
            found.append((reverse(name), label))
        except NoReverseMatch:
            continue
    return found


@login_required
def portal(request: HttpRequest) -> HttpResponse:
    context = {"groups": selectors.portal_applications(actor=signed_in(request)), "shortcuts": _shortcuts()}
    return render(request, "identity/portal.html", context)


@login_required
def agent_list(request: HttpRequest) -> HttpResponse:
    _manager_or_operator(signed_in(request))
    form = AgentFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    agents = selectors.agent_list(
        actor=signed_in(request),
        collectivity=request.GET.get("collectivite") or None,
        search=filters.get("q") or None,
        status=filters.get("statut") or None,
    )
    page = page_or_404(Paginator(agents, 50), request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "identity/agent_list.html", {"form": form, "page": page, "query": query.urlencode()})


@login_required
def agent_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _manager_or_operator(signed_in(request))
    agent = selectors.agent_get(actor=signed_in(request), pk=pk)
    history = selectors.agent_history(agent=agent)[:100]
    return render(request, "identity/agent_detail.html", {"agent": agent, "history": history})


@login_required
def account_audit(request: HttpRequest) -> HttpResponse:
    _manager_or_operator(signed_in(request))
    issues = selectors.account_audit_list(actor=signed_in(request))
    return render(
        request,
        "identity/account_audit.html",
        {"issues": issues, "patterns": settings.GENERIC_ACCOUNT_PATTERNS, "sso": settings.OIDC_ENABLED},
    )


@login_required
def release_register(request: HttpRequest) -> HttpResponse:
    can_write = is_operator(request.user) and not request.user.is_read_only  # type: ignore[union-attr]
    form = AttributeReleaseForm(request.POST or None)
    if request.method == "POST":
        if not can_write:
            raise Http404("page réservée à l'opérateur")
        if form.is_valid():
            try:
                services.attribute_release_create(actor=request.user, **form.cleaned_data)  # type: ignore[arg-type]
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("Attribut ajouté au registre."))
                return redirect("identity:releases")
    releases = selectors.release_register(actor=signed_in(request))
    return render(request, "identity/releases.html", {"releases": releases, "form": form, "can_write": can_write})


@login_required
@require_POST
def release_delete(request: HttpRequest, pk: int) -> HttpResponse:
    require_operator_staff(request.user)
    if request.user.is_read_only:  # type: ignore[union-attr]
        raise Http404("page réservée à l'opérateur")
    release = get_object_or_404(AttributeRelease, pk=pk)
    services.attribute_release_delete(actor=request.user, release=release)  # type: ignore[arg-type]
    messages.success(request, _("Attribut retiré du registre."))
    return redirect("identity:releases")


@login_required
def release_fragment(request: HttpRequest) -> HttpResponse:
    require_operator_staff(request.user)
    fragment = exports.lemonldap_fragment(selectors.release_register(actor=signed_in(request)))
    response = HttpResponse(json.dumps(fragment, indent=2, ensure_ascii=False), content_type="application/json")
    response["Content-Disposition"] = 'attachment; filename="lemonldap-exported-vars.json"'
    return response


@login_required
def directory_ldif(request: HttpRequest) -> HttpResponse:
    _manager_or_operator(signed_in(request))
    base_dn = request.GET.get("base") or "ou=people,dc=mutualis,dc=test"
    text = exports.directory_ldif(selectors.exported_agents(actor=signed_in(request)), base_dn=base_dn)
    response = HttpResponse(text, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="annuaire.ldif"'
    return response


REASONS = {
    "unknown": "unknown",
    "inactive": "inactive",
    "generic": "generic",
    "second_factor": "second_factor",
}


def sso_refused(request: HttpRequest) -> HttpResponse:
    """Where the provider's callback lands when Mutualis refuses the person (public page)."""
    reason = REASONS.get(request.session.pop(REFUSAL_KEY, ""), "failed")
    context = {"reason": reason, "enrol_url": f"{settings.OIDC_ISSUER}/2fregisters/" if settings.OIDC_ISSUER else ""}
    return render(request, "identity/sso_refused.html", context, status=403)
