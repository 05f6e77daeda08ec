"""Commitment pages of a maintenance contract (operator staff): add, change, remove. Thin: the
services validate and audit; the contract page lists the commitments (ola.panels)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from mutualis.accounts.requests import signed_in
from mutualis.core.forms import add_service_errors
from mutualis.core.tenancy import require_operator_staff, require_writer
from mutualis.ola import services
from mutualis.ola.forms import CommitmentForm
from mutualis.ola.models import Commitment
from mutualis.procurement.models import Contract
from mutualis.procurement.selectors import contract_get


def _editor(request: HttpRequest) -> None:
    require_operator_staff(signed_in(request))
    require_writer(signed_in(request))


def _commitment(pk: int) -> Commitment:
    # Commitments are the operator's data (not a tenant model): staff only, checked by the caller.
    commitment = Commitment.objects.select_related("contract").filter(pk=pk).first()
    if commitment is None:
        raise Http404("engagement introuvable")
    return commitment


def _form(request: HttpRequest, contract: Contract, commitment: Commitment | None) -> HttpResponse:
    form = CommitmentForm(request.POST or None, instance=commitment)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in services.COMMITMENT_FIELDS}
        try:
            if commitment is None:
                services.commitment_create(actor=signed_in(request), contract=contract, data=data)
            else:
                services.commitment_update(actor=signed_in(request), commitment=commitment, data=data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Engagement de maintenance enregistré."))
            return redirect("procurement:detail", contract.code)
    title = _("Modifier un engagement de maintenance") if commitment else _("Nouvel engagement de maintenance")
    return render(request, "ola/commitment_form.html", {"form": form, "contract": contract, "title": title})


@login_required
def commitment_create(request: HttpRequest, code: str) -> HttpResponse:
    _editor(request)
    return _form(request, contract_get(actor=signed_in(request), code=code), None)


@login_required
def commitment_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _editor(request)
    commitment = _commitment(pk)
    return _form(request, commitment.contract, commitment)


@login_required
@require_POST
def commitment_delete(request: HttpRequest, pk: int) -> HttpResponse:
    _editor(request)
    commitment = _commitment(pk)
    services.commitment_delete(actor=signed_in(request), commitment=commitment)
    messages.success(request, _("Engagement de maintenance supprimé."))
    return redirect("procurement:detail", commitment.contract.code)
