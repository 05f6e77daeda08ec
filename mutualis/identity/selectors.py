"""Reads on the directory, scoped by the acting account (mutualis.core.tenancy)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from fnmatch import fnmatch
from itertools import groupby

from django.conf import settings
from django.db.models import Q, QuerySet
from django.db.models.functions import Lower

from mutualis.accounts.models import User
from mutualis.catalog.models import ACTIVE_STATUSES, Application, Domain
from mutualis.core.models import AuditEntry
from mutualis.core.tenancy import is_operator
from mutualis.identity.models import Agent, AttributeRelease
from mutualis.members.models import Organisation


def agent_for_sso(*, username: str, mail: str) -> Agent | None:
    """The directory entry a provider's user is: the account or agent login first, then the mail.
    Several agents with that mail (one person in two collectivities) → the active one, if alone."""
    base = Agent.objects.select_related("collectivity")
    if username:
        found = base.filter(account__username=username).first() or base.filter(login=username).first()
        if found is None and "." in username:  # the default uid, <collectivity>.<HR id>
            slug, hr_id = username.split(".", 1)
            found = base.filter(login="", collectivity__slug=slug, hr_id__iexact=hr_id).first()
        if found is not None:
            return found
    if mail:
        candidates = list(base.annotate(m=Lower("mail")).filter(m=mail.lower())[:3])
        active = [a for a in candidates if a.is_active]
        if len(active) == 1:
            return active[0]
        if len(candidates) == 1:
            return candidates[0]
    return None


def is_generic(name: str) -> bool:
    name = name.strip().lower()
    return bool(name) and any(fnmatch(name, p.lower()) for p in settings.GENERIC_ACCOUNT_PATTERNS)


def is_generic_account(user: User) -> bool:
    """A shared account, by its login or its mail's local part matching a configured pattern."""
    local_part = (user.email or "").split("@", 1)[0]
    return is_generic(user.username) or is_generic(local_part)


def agent_list(
    *, actor: User, collectivity: str | None = None, search: str | None = None, status: str | None = None
) -> QuerySet[Agent]:
    qs = Agent.objects.visible_to(actor).select_related("collectivity", "department", "account")
    if collectivity:
        qs = qs.filter(collectivity__slug=collectivity)
    if status:
        qs = qs.filter(status=status)
    if search:
        qs = qs.filter(
            Q(last_name__icontains=search)
            | Q(first_name__icontains=search)
            | Q(mail__icontains=search)
            | Q(hr_id=search)
        )
    return qs.order_by("collectivity__name", "last_name", "first_name", "pk")


def agent_get(*, actor: User, pk: int) -> Agent:
    return Agent.objects.select_related("collectivity", "department", "manager", "account").get_visible(actor, pk=pk)


def agent_history(*, agent: Agent) -> QuerySet[AuditEntry]:
    from django.contrib.contenttypes.models import ContentType

    return AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Agent), object_id=str(agent.pk)
    ).order_by("-created_at", "-id")


@dataclass
class AccountIssue:
    user: User
    generic: bool
    unlinked: bool


def account_audit_list(*, actor: User) -> list[AccountIssue]:
    """Accounts that are not named persons: generic by pattern, or without a directory entry."""
    # Accounts keep Django's own manager (migrations record it), so they are read through the
    # gate of their organisation; operator staff also see the accounts without one.
    accounts = User.objects.select_related("organisation", "agent")
    if not is_operator(actor):
        accounts = accounts.filter(organisation__in=Organisation.objects.visible_to(actor))
    issues = []
    for user in accounts.order_by("organisation__name", "username"):
        generic = is_generic_account(user)
        if generic or user.agent_id is None:
            issues.append(AccountIssue(user=user, generic=generic, unlinked=user.agent_id is None))
    return issues


@dataclass
class DomainGroup:
    domain: Domain
    applications: list[Application] = field(default_factory=list)


def portal_applications(*, actor: User) -> list[DomainGroup]:
    """The applications the account's own collectivity subscribes to (deploying or in production),
    grouped by domain. Operator staff see their own organisation's, like anyone else."""
    if actor.organisation_id is None:
        return []
    apps = (
        Application.objects.filter(
            subscriptions__collectivity_id=actor.organisation_id, subscriptions__status__in=ACTIVE_STATUSES
        )
        .select_related("domain", "support_group")
        .distinct()
        .order_by("domain__position", "domain__name", "position", "name")
    )
    return [DomainGroup(domain, list(items)) for domain, items in groupby(apps, key=lambda a: a.domain)]


def release_register(*, actor: User) -> QuerySet[AttributeRelease]:
    """The register is the operator's and public to every account (GDPR transparency)."""
    return AttributeRelease.objects.select_related("application", "application__domain").order_by(
        "application__name", "attribute"
    )


def exported_agents(*, actor: User, collectivities: Iterable[Organisation] | None = None) -> QuerySet[Agent]:
    """Active agents, for the LDIF and the LDAP push."""
    qs = Agent.objects.visible_to(actor).filter(status="active").select_related("collectivity", "department", "account")
    if collectivities is not None:
        qs = qs.filter(collectivity__in=list(collectivities))
    return qs.order_by("collectivity__slug", "hr_id")
