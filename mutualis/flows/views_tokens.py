"""« Jetons d'API » of a member: the flow tokens its business applications submit with, created and
revoked by operator staff, read by the member's manager (its IT director).

A token's secret is shown once, on the page that follows its creation: the creating POST keeps it,
encrypted (flows/secrets.py), in the session under the token's id, and that page takes it out as it
shows it. A reload, another tab or another account finds nothing; the database holds its digest."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from mutualis.accounts.models import User
from mutualis.accounts.requests import signed_in
from mutualis.core.actors import Visitor
from mutualis.core.forms import add_service_errors
from mutualis.core.tenancy import is_operator, may_write, require_operator_staff, require_writer
from mutualis.flows import selectors, services
from mutualis.flows.api import api as flows_api
from mutualis.flows.enums import FlowType
from mutualis.flows.forms_tokens import FlowTokenForm
from mutualis.flows.models import FlowToken
from mutualis.flows.secrets import decrypt, encrypt
from mutualis.members.models import Organisation

# The API's deposit endpoint of each flow (the end of its path) and the form fields of an example.
# Shown only while api.py has that endpoint; test_tokens_page.py fails when api.py gains a deposit
# endpoint missing here, so the page never forgets to tell an operator about one.
DEPOSITS: dict[str, tuple[str, tuple[str, ...]]] = {
    FlowType.ACTE: (
        "actes",
        (
            "number=2026_DE_042",
            "nature=1",
            'subject="Tarifs de la cantine"',
            "decision_date=2026-02-20",
            "classification=7.1",
            "steps=signature",
            "steps=transmission",
            "steps=archive",
            "main=@deliberation.pdf",
            "attachments=@annexe.pdf",
        ),
    ),
    FlowType.HELIOS: ("pes", ("main=@PES_Aller.xml", "steps=helios", "steps=archive")),
}


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    summary: str


def api_endpoints() -> list[Endpoint]:
    """The flows API's endpoints as api.py declares them now (its OpenAPI schema)."""
    schema = flows_api.get_openapi_schema()
    return [
        Endpoint(method.upper(), path, str(operation.get("summary", "")))
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
    ]


def deposit_endpoint(flow: str, endpoints: list[Endpoint]) -> Endpoint | None:
    deposit = DEPOSITS.get(flow)
    if deposit is None:
        return None
    return next((e for e in endpoints if e.method == "POST" and e.path.rstrip("/").endswith("/" + deposit[0])), None)


def _member(request: HttpRequest, slug: str) -> Organisation:
    """The member whose tokens `request.user` may read: operator staff any member, the member's
    manager (its IT director) its own; anyone else is told the page does not exist."""
    member = selectors.member_get(request.user, slug)  # another member's: 404
    if member.is_operator or not _may_read(request.user, member):
        raise Http404(_("page introuvable"))
    return member


def _may_read(user: Visitor, member: Organisation) -> bool:
    if not isinstance(user, User):
        return False
    return user.is_operator or (user.is_member_manager and user.organisation_id == member.pk)


def _session_key(token: FlowToken | int) -> str:
    return f"flows:token-secret:{token if isinstance(token, int) else token.pk}"


@login_required
def token_list(request: HttpRequest, slug: str) -> HttpResponse:
    """The member's tokens; for operator staff, the creation form too (POST creates)."""
    member = _member(request, slug)
    can_write = is_operator(request.user) and may_write(request.user)
    form = None
    if can_write:
        form = FlowTokenForm(request.POST or None, accounts=selectors.service_accounts(member))
    if request.method == "POST":
        require_operator_staff(request.user)
        require_writer(request.user)
        assert form is not None
        if form.is_valid():
            try:
                token, secret = services.flow_token_create(
                    actor=signed_in(request),
                    member=member,
                    flow=form.cleaned_data["flow"],
                    user=form.cleaned_data["user"],
                    name=form.cleaned_data["name"],
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                request.session[_session_key(token)] = encrypt({"secret": secret})
                return redirect("flows:token_secret", slug=member.slug, pk=token.pk)
    endpoints = api_endpoints()
    return render(
        request,
        "flows/tokens.html",
        {
            "member": member,
            "tokens": selectors.flow_tokens(request.user, member),
            "form": form,
            "can_write": can_write,
            "deposits": [
                (FlowType(flow).label, endpoint)
                for flow in FlowType.values
                if (endpoint := deposit_endpoint(flow, endpoints)) is not None
            ],
        },
        status=400 if form is not None and form.errors else 200,
    )


@login_required
def token_secret(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """The page after a creation: the secret, once, with how to call the API with it."""
    require_operator_staff(request.user)
    member = _member(request, slug)
    token = selectors.flow_token_get(request.user, member, pk)
    stored = request.session.pop(_session_key(token), "")
    secret = decrypt(stored).get("secret", "") if stored else ""
    endpoints = api_endpoints()
    deposit = deposit_endpoint(token.flow, endpoints)
    shown = secret or f"{token.prefix}…"
    deposit_example = ""
    if deposit is not None:
        fields = " ".join(f"-F {field}" for field in DEPOSITS[token.flow][1])
        deposit_example = f'curl -H "Authorization: Bearer {shown}" {fields} {request.build_absolute_uri(deposit.path)}'
    read = next((e for e in endpoints if e.method == "GET" and "{" in e.path), None)
    read_example = ""
    if read is not None:
        url = request.build_absolute_uri(re.sub(r"\{[^}]+\}", "12", read.path))
        read_example = f'curl -H "Authorization: Bearer {shown}" {url}'
    return render(
        request,
        "flows/token_secret.html",
        {
            "member": member,
            "token": token,
            "flow": FlowType(token.flow),
            "secret": secret,
            "deposit": deposit,
            "deposit_example": deposit_example,
            "read_example": read_example,
            "endpoints": endpoints,
        },
    )


@login_required
def token_revoke(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """GET asks for confirmation; POST revokes: the API refuses the token from then on."""
    require_operator_staff(request.user)
    member = _member(request, slug)
    token = selectors.flow_token_get(request.user, member, pk)
    if request.method == "POST":
        if services.flow_token_revoke(actor=signed_in(request), token=token):
            messages.success(
                request, _("Jeton « %(name)s » révoqué : l'API le refuse désormais.") % {"name": token.name}
            )
        else:
            messages.info(request, _("Le jeton « %(name)s » était déjà révoqué.") % {"name": token.name})
        return redirect("flows:tokens", slug=member.slug)
    return render(request, "flows/token_revoke.html", {"member": member, "token": token, "flow": FlowType(token.flow)})
