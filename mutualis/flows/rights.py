"""Rights per flow: who of a member sees a flow's documents and who acts in it. The rules live here only.

- **Restricted flows** (`RESTRICTED_FLOWS`: payslips, and Hélios, whose PES files carry payees'
  names and bank details): their documents, files and log are seen by operator staff and by the
  member's managers of THAT flow; nobody else of the member, its IT director included. Only those
  managers (and operator staff) deposit, retry or cancel in them.
- **Open flows** (acts, documents to sign): every account of the member sees their documents.
  When the member has named managers for such a flow, only those managers (and operator staff)
  deposit, retry or cancel in it, and its other accounts read; with no manager named, every writer
  of the member acts (elected officials read, as everywhere).

A manager (`FlowManager`, « gestionnaire du flux ») is one of the member's accounts, named per flow
by operator staff on /flux/<adhérent>/droits/ or with `mutualis flows_manager`. Accounts have no HR
or finance role (accounts.Role knows operator, member manager — the IT director or the DGS —, agent
and elected), hence named accounts rather than a role.

Querysets apply the reading rule through `hide_restricted` (FlowDocument, FlowFile, ActionLog,
PayslipBatch, Payslip `visible_to`); services ask `require_flow_writer` before a write, pages and
the API ask `may_see_flow`, `hidden_flows` and `write_refusal`, so a page never offers what the
service would refuse.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mutualis.accounts.models import User
from mutualis.core.actors import Visitor, signed_in_actor
from mutualis.core.audit import audit_record
from mutualis.core.models import AuditAction, BaseModel
from mutualis.core.tenancy import TenantQuerySet, require_operator_staff, require_writer
from mutualis.flows.enums import FlowType
from mutualis.members.models import Organisation

Q = TypeVar("Q", bound=models.QuerySet[Any])

RESTRICTED_FLOWS: frozenset[str] = frozenset({FlowType.PAYSLIP, FlowType.HELIOS})

# What a refused account was trying to do, for the message that names it.
DEPOSIT, RETRY, CANCEL = "deposit", "retry", "cancel"


class FlowManagerQuerySet(TenantQuerySet["FlowManager"]):
    tenant_field = "member"


class FlowManager(BaseModel):
    """One of a member's accounts named manager of one of its flows (« gestionnaire du flux »): it
    sees a restricted flow's documents, and acts in a flow whose member named managers."""

    member = models.ForeignKey(
        Organisation, verbose_name=gettext_lazy("adhérent"), on_delete=models.CASCADE, related_name="flow_managers"
    )
    flow = models.CharField(gettext_lazy("flux"), max_length=40, choices=FlowType.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=gettext_lazy("compte"),
        on_delete=models.CASCADE,
        related_name="flow_rights",
    )

    objects = FlowManagerQuerySet.as_manager()

    class Meta:
        verbose_name = gettext_lazy("gestionnaire du flux")
        verbose_name_plural = gettext_lazy("gestionnaires des flux")
        ordering = ["member", "flow", "created_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["member", "flow", "user"], name="flows_manager_unique")]

    def __str__(self) -> str:
        return f"{self.user} ({self.member}, {self.flow})"


# --- reading --------------------------------------------------------------------------------------


def managed_flows(user: Visitor | None) -> frozenset[str]:
    """The flows a member's account manages for its own member, read once per request (cached on the
    account object; `flow_manager_grant` and `flow_manager_revoke` drop the cache they change)."""
    actor = signed_in_actor(user)
    if actor is None or actor.organisation_id is None:
        return frozenset()
    cached = getattr(actor, "_managed_flows", None)
    if cached is None:
        cached = frozenset(
            FlowManager.objects.filter(user_id=actor.pk, member_id=actor.organisation_id).values_list("flow", flat=True)
        )
        setattr(actor, "_managed_flows", cached)  # noqa: B010 - a per-request cache on the account
    return frozenset(cached)


def hidden_flows(user: Visitor | None) -> frozenset[str]:
    """The restricted flows `user` may not see: none for operator staff, all for an anonymous visitor."""
    actor = signed_in_actor(user)
    if actor is not None and actor.is_operator:
        return frozenset()
    return RESTRICTED_FLOWS - managed_flows(actor)


def may_see_flow(user: Visitor | None, flow: str) -> bool:
    """Whether `user` sees `flow`'s documents among those of the members it sees (tenancy scopes the
    member: this answers for the flow only)."""
    return flow not in hidden_flows(user)


def hide_restricted(rows: Q, user: Visitor | None, *, via: str = "") -> Q:
    """`rows` without the documents (or their files, log: `via="document__"`) of the restricted flows
    `user` does not manage."""
    hidden = hidden_flows(user)
    return rows.exclude(**{f"{via}flow__in": sorted(hidden)}) if hidden else rows


def managers_of(member: Organisation, flow: str) -> set[int]:
    """The ids of the accounts named managers of the member's flow."""
    return set(FlowManager.objects.filter(member=member, flow=flow).values_list("user_id", flat=True))


# --- acting ---------------------------------------------------------------------------------------


def _only_managers(member: Organisation, flow: str, action: str, *, none_named: bool) -> str:
    names = {"flow": FlowType(flow).label, "member": member.name}
    if action == RETRY:
        message = _("Seuls les gestionnaires du flux « %(flow)s » de %(member)s peuvent relancer un document.")
    elif action == CANCEL:
        message = _("Seuls les gestionnaires du flux « %(flow)s » de %(member)s peuvent annuler un document.")
    else:
        message = _("Seuls les gestionnaires du flux « %(flow)s » de %(member)s peuvent déposer.")
    message %= names
    if none_named:
        message += " " + _("Aucun n'est nommé : l'opérateur les nomme sur la page « Droits par flux ».")
    return message


def _manager_may(flow: str, managers: set[int], user_id: Any) -> bool:
    """The flow's rule for one of its member's writers, given the ids of the flow's managers."""
    if flow in RESTRICTED_FLOWS:
        return user_id in managers
    return not managers or user_id in managers


def write_refusal(user: Visitor | None, member: Organisation, flow: str, *, action: str = DEPOSIT) -> str | None:
    """Why `user` may not deposit, retry or cancel (`action`) in `member`'s `flow`, in French; None
    when it may. Operator staff writers always may; a member's writer may in its own member's flow
    when it is one of the flow's managers, or when the flow is open and names no manager."""
    actor = signed_in_actor(user)
    if actor is None or actor.is_read_only:
        return _("votre rôle est en lecture seule")
    if actor.is_operator:
        return None
    if actor.organisation_id != member.pk:
        return _("ce document appartient à un autre adhérent")
    managers = managers_of(member, flow)
    if _manager_may(flow, managers, actor.pk):
        return None
    return _only_managers(member, flow, action, none_named=not managers)


def acting_flows(user: Visitor | None, member: Organisation) -> frozenset[str]:
    """The flows of `member` in which `user` may deposit, retry or cancel, in one query (the pages'
    buttons); `write_refusal` says why not for one flow."""
    actor = signed_in_actor(user)
    if actor is None or actor.is_read_only:
        return frozenset()
    if actor.is_operator:
        return frozenset(FlowType.values)
    if actor.organisation_id != member.pk:
        return frozenset()
    managers: dict[str, set[int]] = {flow: set() for flow in FlowType.values}
    for flow, user_id in FlowManager.objects.filter(member=member).values_list("flow", "user_id"):
        managers.setdefault(flow, set()).add(user_id)
    return frozenset(flow for flow in FlowType.values if _manager_may(flow, managers[flow], actor.pk))


def may_act(user: Visitor | None, member: Organisation, flow: str) -> bool:
    """Whether a page may offer `user` to deposit, retry or cancel in the member's flow."""
    return write_refusal(user, member, flow) is None


def require_flow_writer(actor: Visitor | None, member: Organisation, flow: str, *, action: str = DEPOSIT) -> None:
    """The services' check before a write in a flow: PermissionDenied with the reason."""
    refusal = write_refusal(actor, member, flow, action=action)
    if refusal is not None:
        raise PermissionDenied(refusal)


# --- naming managers (operator staff, or the command) ---------------------------------------------


def _forget_cache(user: Any) -> None:
    user.__dict__.pop("_managed_flows", None)


def flow_manager_grant(
    *, actor: User | None, member: Organisation, flow: str, user: User, via: str = "web"
) -> FlowManager:
    """Name one of the member's active accounts manager of one of its flows. `actor` None: the command
    `mutualis flows_manager`, run by the operator on the server. Naming an account twice changes
    nothing (and records nothing)."""
    if actor is not None:
        require_operator_staff(actor)
        require_writer(actor)
    if flow not in FlowType.values:
        raise ValidationError({"flow": _("flux inconnu : %(flow)s") % {"flow": flow}})
    if user.organisation_id != member.pk:
        raise ValidationError(
            {"user": _("le compte doit appartenir à l'adhérent %(member)s") % {"member": member.name}}
        )
    if not user.is_active:
        raise ValidationError({"user": _("le compte « %(user)s » est désactivé") % {"user": user.get_username()}})
    if user.is_read_only:
        # A manager deposits; an elected official's account reads only, and would close the flow.
        raise ValidationError(
            {
                "user": _("le compte « %(user)s » est en lecture seule : il ne peut pas gérer un flux")
                % {"user": user.get_username()}
            }
        )
    with transaction.atomic():
        existing = FlowManager.objects.filter(member=member, flow=flow, user=user).first()
        if existing is not None:
            return existing
        try:
            with transaction.atomic():
                row = FlowManager.objects.create(member=member, flow=flow, user=user)
        except IntegrityError:  # named at the same moment by someone else
            return FlowManager.objects.get(member=member, flow=flow, user=user)
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            obj=row,
            changes={"flow": [None, flow], "user": [None, user.pk]},
            organisation_id=member.pk,
            object_repr=f"{member} : {user.username} gestionnaire du flux {FlowType(flow).label}",
            via=via,
        )
    _forget_cache(user)
    return row


def flow_manager_revoke(*, actor: User | None, member: Organisation, flow: str, user: User, via: str = "web") -> int:
    """Remove an account from a flow's managers; the number of rows removed (0 or 1)."""
    if actor is not None:
        require_operator_staff(actor)
        require_writer(actor)
    removed = 0
    with transaction.atomic():
        for row in FlowManager.objects.select_for_update().filter(member=member, flow=flow, user=user):
            audit_record(
                actor=actor,
                action=AuditAction.DELETE,
                obj=row,
                changes={"flow": [flow, None], "user": [user.pk, None]},
                organisation_id=member.pk,
                object_repr=f"{member} : {user.username} gestionnaire du flux {FlowType(flow).label}",
                via=via,
            )
            row.delete()
            removed += 1
    _forget_cache(user)
    return removed


# --- the page's reads -----------------------------------------------------------------------------


def managers_by_flow(user: Visitor | None, member: Organisation) -> dict[str, list[FlowManager]]:
    """Each flow's managers among the member's (scoped by `user`), oldest first, in one query."""
    rows: dict[str, list[FlowManager]] = {flow: [] for flow in FlowType.values}
    for row in FlowManager.objects.visible_to(user).filter(member=member).select_related("user"):
        rows.setdefault(row.flow, []).append(row)
    return rows


def member_accounts(member: Organisation) -> models.QuerySet[User]:
    """The accounts that may be named: the member's active ones (the caller has scoped the member)."""
    return User.objects.filter(organisation=member, is_active=True).order_by("last_name", "first_name", "username")
