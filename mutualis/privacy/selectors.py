"""Reads of the personal-data pages: whose data an account may look up, and everything Mutualis
holds about one person (the export of GDPR articles 15 and 20)."""

from __future__ import annotations

import dataclasses
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from mutualis.accounts.models import ApiToken, Role, User
from mutualis.core.actors import signed_in_actor
from mutualis.core.models import AuditEntry
from mutualis.core.tenancy import require_operator_admin
from mutualis.governance.models import Mandate, Person
from mutualis.helpdesk.models import Attachment, Followup, InboundMail, Ticket, TicketTask
from mutualis.identity.models import Agent
from mutualis.members.models import Contact
from mutualis.privacy.models import PrivacyRequest, RequestKind, RetentionRule
from mutualis.privacy.pseudonyms import pseudonym

SUBJECT_KINDS = {"compte": "user", "agent": "agent"}


def may_look_up(actor: User) -> bool:
    """Operator admins answer for everyone; a member's manager for its own organisation's people."""
    return actor.is_operator_admin or (actor.role == Role.MEMBER_MANAGER and actor.organisation_id is not None)


def require_looker(actor: User) -> None:
    if not may_look_up(actor):
        raise Http404("page réservée aux administrateurs de l'opérateur et aux responsables adhérents")


def retention_rule_list(*, actor: User) -> QuerySet[RetentionRule]:
    require_operator_admin(actor)
    return RetentionRule.objects.order_by("kind")


def privacy_request_list(*, actor: User) -> QuerySet[PrivacyRequest]:
    require_looker(actor)
    requests = PrivacyRequest.objects.select_related("organisation", "handled_by")
    if actor.is_operator_admin or actor.organisation_id is None:
        return requests if actor.is_operator_admin else requests.none()
    return requests.filter(organisation_id=actor.organisation_id)


def _accounts(actor: User) -> QuerySet[User]:
    """The accounts `actor` may answer for: every one for an operator admin, its organisation's
    for a member's manager (never an operator account)."""
    require_looker(actor)
    if actor.is_operator_admin:
        return User.objects.all()
    if actor.organisation_id is None:
        return User.objects.none()
    return User.objects.filter(organisation_id=actor.organisation_id)


@dataclasses.dataclass(frozen=True)
class Subject:
    """A person as Mutualis knows them: an account, a directory entry, or both (linked)."""

    user: User | None
    agent: Agent | None

    @property
    def key(self) -> tuple[str, int]:
        """The record the pseudonym derives from: the account when there is one."""
        if self.user is not None:
            return ("user", self.user.pk)
        assert self.agent is not None
        return ("agent", self.agent.pk)

    @property
    def pseudonym(self) -> str:
        return pseudonym(*self.key)

    @property
    def url_kind(self) -> str:
        return "compte" if self.user is not None else "agent"

    @property
    def url_pk(self) -> int:
        return self.key[1]

    @property
    def organisation_id(self) -> int | None:
        if self.user is not None and self.user.organisation_id is not None:
            return self.user.organisation_id
        return self.agent.collectivity_id if self.agent is not None else None

    @property
    def display_name(self) -> str:
        if self.agent is not None and (self.agent.first_name or self.agent.last_name):
            return self.agent.full_name.strip()
        if self.user is not None:
            return self.user.display_name
        return ""

    def names(self) -> set[str]:
        """The person's full name as it may be written: « Jean Dupont », « Dupont Jean »,
        « DUPONT Jean ». Never a first or last name alone, which other people share."""
        pairs = set()
        if self.user is not None and self.user.first_name and self.user.last_name:
            pairs.add((self.user.first_name.strip(), self.user.last_name.strip()))
        if self.agent is not None and self.agent.first_name and self.agent.last_name:
            pairs.add((self.agent.first_name.strip(), self.agent.last_name.strip()))
        return {form for first, last in pairs for form in (f"{first} {last}", f"{last} {first}")}

    def mails(self) -> set[str]:
        found = {self.user.email if self.user else "", self.agent.mail if self.agent else ""}
        return {mail.strip() for mail in found if mail.strip()}

    def logins(self) -> set[str]:
        found = {self.user.username if self.user else "", self.agent.login if self.agent else ""}
        return {login.strip() for login in found if len(login.strip()) >= 3}


def subject_search(*, actor: User, query: str) -> tuple[list[User], list[Agent]]:
    """Accounts and directory entries whose name, login or address holds `query` (50 of each)."""
    query = query.strip()
    if len(query) < 2:
        require_looker(actor)
        return [], []
    users = (
        _accounts(actor)
        .filter(
            Q(username__icontains=query)
            | Q(first_name__icontains=query)
            | Q(last_name__icontains=query)
            | Q(email__icontains=query)
        )
        .select_related("organisation", "agent")
        .order_by("last_name", "first_name", "username")[:50]
    )
    agents = (
        Agent.objects.visible_to(actor)
        .filter(
            Q(last_name__icontains=query)
            | Q(first_name__icontains=query)
            | Q(mail__icontains=query)
            | Q(login__icontains=query)
            | Q(hr_id__iexact=query)
        )
        .select_related("collectivity")
        .order_by("last_name", "first_name")[:50]
    )
    return list(users), list(agents)


def subject_get(*, actor: User, kind: str, pk: int) -> Subject:
    """The person behind an account (« compte ») or a directory entry (« agent »), with the other
    record when they are linked, among what `actor` may answer for; 404 otherwise."""
    require_looker(actor)
    if SUBJECT_KINDS.get(kind) == "user":
        user = _accounts(actor).select_related("organisation", "service").filter(pk=pk).first()
        if user is None:
            raise Http404("compte introuvable")
        agent = None
        if user.agent_id is not None:
            agent = Agent.objects.visible_to(actor).select_related("collectivity").filter(pk=user.agent_id).first()
        return Subject(user=user, agent=agent)
    if SUBJECT_KINDS.get(kind) == "agent":
        agent = Agent.objects.visible_to(actor).select_related("collectivity").filter(pk=pk).first()
        if agent is None:
            raise Http404("agent introuvable")
        linked = _accounts(actor).select_related("organisation", "service").filter(agent=agent).first()
        return Subject(user=linked, agent=agent)
    raise Http404("type de personne inconnu")


def subject_persons(subject: Subject) -> QuerySet[Person]:
    """Holders of mandates in the governance bodies with the person's full name: a match by name
    only (a mandate names no account), shown as such."""
    names = subject.names()
    if not names:
        return Person.objects.none()
    query = Q(pk__in=[])
    for name in names:
        query |= Q(full_name__iexact=name)
    return Person.objects.filter(query)


def subject_contacts(subject: Subject) -> QuerySet[Contact]:
    """Contacts of a member with the person's address (anywhere) or full name (in their own
    organisation: another town's « Jean Martin » is someone else)."""
    query = Q(pk__in=[])
    for mail in subject.mails():
        query |= Q(email__iexact=mail)
    if subject.organisation_id is not None:
        for name in subject.names():
            query |= Q(organisation_id=subject.organisation_id, full_name__iexact=name)
    return Contact.objects.filter(query)


def _audit_about(subject: Subject) -> QuerySet[AuditEntry]:
    query = Q(pk__in=[])
    if subject.user is not None:
        query |= Q(actor_id=subject.user.pk)
        query |= Q(content_type=ContentType.objects.get_for_model(User), object_id=str(subject.user.pk))
    if subject.agent is not None:
        query |= Q(content_type=ContentType.objects.get_for_model(Agent), object_id=str(subject.agent.pk))
    return AuditEntry.objects.filter(query).select_related("content_type").order_by("created_at", "id")


def _when(value: Any) -> str | None:
    return timezone.localtime(value).isoformat() if value is not None else None


def _day(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _record_sets(subject: Subject) -> dict[str, QuerySet[Any]]:
    """The records of each list-valued kind the export holds, as querysets: read in full by the
    export, counted by the person's page."""
    user = subject.user
    mail_query = Q(pk__in=[])
    for mail in subject.mails():
        mail_query |= Q(sender__icontains=mail)
    sets: dict[str, QuerySet[Any]] = {}
    if user is not None:
        mail_query |= Q(user=user)
        sets |= {
            "api_tokens": ApiToken.objects.filter(user=user).order_by("created_at"),
            "second_factor_devices": TOTPDevice.objects.filter(user=user).order_by("pk"),
            "tickets_requested": Ticket.objects.filter(requester=user)
            .select_related("collectivity", "application")
            .order_by("opened_at"),
            "tickets_watched": Ticket.objects.filter(watchers=user).order_by("opened_at"),
            "tickets_assigned": Ticket.objects.filter(technician=user).order_by("opened_at"),
            "followups_written": Followup.objects.filter(author=user)
            .select_related("ticket")
            .order_by("created_at", "id"),
            "tasks_recorded": TicketTask.objects.filter(author=user).select_related("ticket").order_by("done_on", "id"),
            "attachments_uploaded": Attachment.objects.filter(uploaded_by=user)
            .select_related("ticket")
            .order_by("created_at", "id"),
        }
    return sets | {
        "mail_received": InboundMail.objects.filter(mail_query).order_by("created_at", "id"),
        "member_contacts": subject_contacts(subject).select_related("organisation").order_by("pk"),
        "mandates_matched_by_name": Mandate.objects.filter(person__in=subject_persons(subject))
        .select_related("person", "body", "organisation")
        .order_by("start_on", "pk"),
        "audit_log": _audit_about(subject),
        "requests": _requests_about(subject),
    }


def subject_counts(subject: Subject) -> dict[str, int]:
    """How many records of each kind the export would hold (one COUNT each), for the person's page."""
    counts = {"account": int(subject.user is not None), "directory_entry": int(subject.agent is not None)}
    return counts | {key: records.count() for key, records in _record_sets(subject).items()}


def subject_data(subject: Subject) -> dict[str, Any]:
    """Everything Mutualis holds about the person, as plain data (one query per kind of record,
    whatever the amount): the JSON export, and the readable page is built from it."""
    user, agent = subject.user, subject.agent
    sets = _record_sets(subject)
    data: dict[str, Any] = {
        "generated_at": _when(timezone.now()),
        "subject": subject.pseudonym,
        "account": None,
        "directory_entry": None,
    }
    if user is not None:
        data["account"] = {
            "username": user.username,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "email": user.email,
            "role": str(user.get_role_display()),
            "organisation": user.organisation.name if user.organisation else None,
            "operator_service": user.service.name if user.service else None,
            "active": user.is_active,
            "joined_at": _when(user.date_joined),
            "last_login_at": _when(user.last_login),
        }
        data["api_tokens"] = [
            {
                "name": t.name,
                "prefix": t.prefix,
                "created_at": _when(t.created_at),
                "last_used_at": _when(t.last_used_at),
                "revoked_at": _when(t.revoked_at),
            }
            for t in sets["api_tokens"]
        ]
        data["second_factor_devices"] = [
            {"name": d.name, "confirmed": d.confirmed} for d in sets["second_factor_devices"]
        ]
    if agent is not None:
        agent_row = Agent.objects.select_related("collectivity", "department", "manager").get(pk=agent.pk)
        data["directory_entry"] = {
            "collectivity": agent_row.collectivity.name,
            "hr_id": agent_row.hr_id,
            "civility": agent_row.civility,
            "last_name": agent_row.last_name,
            "first_name": agent_row.first_name,
            "mail": agent_row.mail,
            "login": agent_row.login,
            "function": agent_row.function,
            "department": agent_row.department.name if agent_row.department else None,
            "manager": agent_row.manager.full_name if agent_row.manager else None,
            "start_on": _day(agent_row.start_on),
            "end_on": _day(agent_row.end_on),
            "status": str(agent_row.get_status_display()),
        }
    if user is not None:
        data["tickets_requested"] = [
            {
                "reference": t.reference,
                "title": t.title,
                "description": t.description,
                "status": str(t.get_status_display()),
                "collectivity": t.collectivity.name,
                "application": t.application.name if t.application else None,
                "opened_at": _when(t.opened_at),
                "closed_at": _when(t.closed_at),
                "satisfaction": t.satisfaction,
                "satisfaction_comment": t.satisfaction_comment,
                "form_answers": t.form_answers,
            }
            for t in sets["tickets_requested"]
        ]
        data["tickets_watched"] = list(sets["tickets_watched"].values_list("reference", flat=True))
        data["tickets_assigned"] = list(sets["tickets_assigned"].values_list("reference", flat=True))
        data["followups_written"] = [
            {"ticket": f.ticket.reference, "written_at": _when(f.created_at), "private": f.is_private, "body": f.body}
            for f in sets["followups_written"]
        ]
        data["tasks_recorded"] = [
            {
                "ticket": t.ticket.reference,
                "done_on": _day(t.done_on),
                "duration_seconds": t.duration_seconds,
                "description": t.description,
            }
            for t in sets["tasks_recorded"]
        ]
        data["attachments_uploaded"] = [
            {"ticket": a.ticket.reference, "name": a.name, "size": a.size, "uploaded_at": _when(a.created_at)}
            for a in sets["attachments_uploaded"]
        ]
    data["mail_received"] = [
        {
            "received_at": _when(m.created_at),
            "sender": m.sender,
            "subject": m.subject,
            "outcome": str(m.get_outcome_display()),
        }
        for m in sets["mail_received"]
    ]
    data["member_contacts"] = [
        {
            "organisation": c.organisation.name,
            "full_name": c.full_name,
            "function": c.function,
            "email": c.email,
            "phone": c.phone,
        }
        for c in sets["member_contacts"]
    ]
    data["mandates_matched_by_name"] = [
        {
            "person": m.person.full_name,
            "body_name": m.body.name,
            "role": str(m.get_role_display()),
            "organisation": m.organisation.name if m.organisation else None,
            "title": m.title,
            "start_on": _day(m.start_on),
            "end_on": _day(m.end_on),
        }
        for m in sets["mandates_matched_by_name"]
    ]
    data["audit_log"] = [
        {
            "at": _when(e.created_at),
            "author": e.actor_label,
            "action": e.action,
            "object_type": e.content_type.model if e.content_type else None,
            "object": e.object_repr,
            "changes": e.changes,
            "via": e.via,
        }
        for e in sets["audit_log"]
    ]
    data["requests"] = [{"at": _when(r.created_at), "kind": r.kind, "counts": r.counts} for r in sets["requests"]]
    return data


def _requests_about(subject: Subject) -> QuerySet[PrivacyRequest]:
    query = Q(pk__in=[])
    if subject.user is not None:
        query |= Q(user=subject.user)
    if subject.agent is not None:
        query |= Q(agent=subject.agent)
    return PrivacyRequest.objects.filter(query).order_by("created_at", "id")


def subject_erasure(subject: Subject) -> PrivacyRequest | None:
    """The erasure already done for this person, if any."""
    return _requests_about(subject).filter(kind=RequestKind.ERASURE).first()


def data_counts(data: dict[str, Any]) -> dict[str, int]:
    """How many records of each kind an export holds (the register keeps these, never the values)."""
    counts = {}
    for key, value in data.items():
        if isinstance(value, list):
            counts[key] = len(value)
        elif isinstance(value, dict):
            counts[key] = 1
        elif value is None:  # no account, or no directory entry
            counts[key] = 0
    return counts


def actor_of(request_user: Any) -> User | None:
    actor = signed_in_actor(request_user)
    return actor if isinstance(actor, User) else None
