"""The page « Droits par flux » of a member: each flow's managers, named and removed by operator staff;
the member's own accounts read it (flows/rights.py holds the rules and the writes)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mutualis.accounts.models import User
from mutualis.accounts.requests import signed_in
from mutualis.core.tenancy import is_operator, may_write
from mutualis.flows import rights, selectors
from mutualis.flows.enums import FlowType
from mutualis.members.models import Organisation


class ManagerAddForm(forms.Form):
    """Name an account manager of a flow: an active account of the member, nobody else's."""

    flow = forms.ChoiceField(label=gettext_lazy("Flux"), choices=FlowType.choices)
    user = forms.ModelChoiceField(label=gettext_lazy("Compte"), queryset=User.objects.none())

    def __init__(self, *args: object, member: Organisation, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["user"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = rights.member_accounts(member)
        field.error_messages["invalid_choice"] = _("Ce compte n'est pas un compte actif de %(member)s.") % {
            "member": member.name
        }


def _member(request: HttpRequest, slug: str) -> Organisation:
    member = selectors.member_get(request.user, slug)  # another member's: 404
    if member.is_operator:  # the flows are the members', not the operator's own
        raise Http404(_("adhérent introuvable"))
    return member


def _rule(flow: str, managers: list[rights.FlowManager]) -> str:
    if flow in rights.RESTRICTED_FLOWS:
        if not managers:
            return _(
                "Flux réservé : seuls ses gestionnaires et l'opérateur voient ses documents et y déposent. "
                "Aucun gestionnaire n'est nommé : aucun compte de l'adhérent ne voit ce flux."
            )
        return _(
            "Flux réservé : seuls ses gestionnaires ci-dessous et l'opérateur voient ses documents et y déposent ; "
            "les autres comptes de l'adhérent, son DSI compris, ne les voient pas."
        )
    if managers:
        return _(
            "Flux ouvert : tous les comptes de l'adhérent voient ses documents ; seuls ses gestionnaires ci-dessous "
            "et l'opérateur y déposent, relancent ou annulent un document."
        )
    return _(
        "Flux ouvert : tous les comptes de l'adhérent voient ses documents et y déposent (les élus en lecture "
        "seule). Nommer un gestionnaire réserve le dépôt aux gestionnaires."
    )


@login_required
def flow_rights(request: HttpRequest, slug: str) -> HttpResponse:
    """GET: each flow's rule and managers. POST (operator staff writers): `ajouter` names an account,
    `retirer` removes a manager; the service checks, audits, and says what is wrong in French."""
    member = _member(request, slug)
    can_change = is_operator(request.user) and may_write(request.user)
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied(_("Seuls les agents de l'opérateur nomment et retirent les gestionnaires des flux."))
        if "retirer" in request.POST:
            row = (
                rights.FlowManager.objects.visible_to(request.user)
                .filter(member=member, pk=request.POST.get("retirer") or 0)
                .select_related("user")
                .first()
            )
            if row is None:
                raise Http404(_("gestionnaire introuvable"))
            rights.flow_manager_revoke(actor=signed_in(request), member=member, flow=row.flow, user=row.user)
            messages.success(
                request,
                _("%(user)s n'est plus gestionnaire du flux « %(flow)s ».")
                % {"user": row.user.display_name, "flow": FlowType(row.flow).label},
            )
            return redirect("flows:rights", slug=member.slug)
        form = ManagerAddForm(request.POST, member=member)
        flow = request.POST.get("flow", "")
        if form.is_valid():
            flow, user = form.cleaned_data["flow"], form.cleaned_data["user"]
            try:
                rights.flow_manager_grant(actor=signed_in(request), member=member, flow=flow, user=user)
            except ValidationError as error:
                errors[flow] = error.messages
            else:
                messages.success(
                    request,
                    _("%(user)s est gestionnaire du flux « %(flow)s ».")
                    % {"user": user.display_name, "flow": FlowType(flow).label},
                )
                return redirect("flows:rights", slug=member.slug)
        else:
            errors[flow if flow in FlowType.values else ""] = [str(m) for ms in form.errors.values() for m in ms]
        status = 400
    managers = rights.managers_by_flow(request.user, member)
    accounts = list(rights.member_accounts(member)) if can_change else []
    flows = [
        {
            "value": flow,
            "label": label,
            "restricted": flow in rights.RESTRICTED_FLOWS,
            "rule": _rule(flow, managers[flow]),
            "managers": managers[flow],
            # Elected officials read only: a manager deposits, so they are not offered.
            "candidates": [
                a for a in accounts if not a.is_read_only and a.pk not in {m.user_id for m in managers[flow]}
            ],
            "errors": errors.get(flow, []),
        }
        for flow, label in FlowType.choices
    ]
    return render(
        request,
        "flows/rights.html",
        {"member": member, "flows": flows, "can_change": can_change, "errors": errors.get("", [])},
        status=status,
    )
