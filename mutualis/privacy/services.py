"""Writes of the personal-data pages: a retention rule changed, a person's data exported (the
request recorded), a person erased by pseudonymisation. Each in one transaction, audited."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_otp.plugins.otp_totp.models import TOTPDevice

from mutualis.accounts.models import ApiToken, Role, User
from mutualis.core.audit import audit_create, audit_pseudonymise, terms_pattern
from mutualis.core.services import model_update
from mutualis.core.tenancy import require_operator_admin
from mutualis.governance.models import Person
from mutualis.helpdesk.enums import Status
from mutualis.helpdesk.models import Followup, InboundMail, Notification, Ticket, TicketTask, TransitionLog
from mutualis.identity.models import Agent, AgentStatus
from mutualis.members.models import Contact
from mutualis.privacy.models import PrivacyRequest, RequestKind, RetentionRule
from mutualis.privacy.pseudonyms import NEUTRAL_TEXT, pseudonym_mail
from mutualis.privacy.selectors import (
    Subject,
    data_counts,
    require_looker,
    subject_contacts,
    subject_data,
    subject_erasure,
    subject_persons,
)

PHONE_ERASED = "[téléphone effacé]"


def retention_rule_update(*, actor: User, rule: RetentionRule, months: int, enabled: bool) -> dict[str, list[Any]]:
    """Change a rule's duration or switch it off (operator admins; audited with the diff)."""
    require_operator_admin(actor)
    _, changes = model_update(
        actor=actor, instance=rule, data={"months": months, "enabled": enabled}, fields=["months", "enabled"]
    )
    return changes


def subject_export(*, actor: User, subject: Subject) -> tuple[dict[str, Any], PrivacyRequest]:
    """Everything held about the person, and the request recorded in the register and the audit
    log (by pseudonym and counts: neither keeps a copy of the data handed out)."""
    require_looker(actor)
    data = subject_data(subject)
    with transaction.atomic():
        request = PrivacyRequest.objects.create(
            kind=RequestKind.EXPORT,
            subject_label=subject.pseudonym,
            user=subject.user,
            agent=subject.agent,
            organisation_id=subject.organisation_id,
            handled_by=actor,
            counts=data_counts(data),
        )
        audit_create(actor=actor, obj=request)
    return data, request


# --- erasure ---------------------------------------------------------------------------------------


def _open_count(**lookup: Any) -> int:
    return Ticket.objects.filter(**lookup).exclude(status=Status.CLOSED).count()


def erasure_refusals(*, actor: User, subject: Subject) -> list[str]:
    """Why the person may not be erased now, in French, for the confirmation page; empty: go."""
    refusals = []
    done = subject_erasure(subject)
    if done is not None:
        refusals.append(
            _("Les données de cette personne ont déjà été effacées (pseudonyme %(label)s).")
            % {"label": done.subject_label}
        )
    user, agent = subject.user, subject.agent
    if user is not None:
        if user.pk == actor.pk:
            refusals.append(
                _("Vous ne pouvez pas effacer vos propres données : demandez-le à un autre administrateur.")
            )
        if user.is_superuser or user.role == Role.OPERATOR_ADMIN:
            refusals.append(_("Ce compte administre la plateforme : retirez-lui d'abord ce rôle."))
        assigned = _open_count(technician=user)
        if assigned:
            refusals.append(
                ngettext(
                    "%(count)d demande non close lui est attribuée : attribuez-la d'abord à quelqu'un d'autre.",
                    "%(count)d demandes non closes lui sont attribuées : attribuez-les d'abord à quelqu'un d'autre.",
                    assigned,
                )
                % {"count": assigned}
            )
        requested = _open_count(requester=user)
        if requested:
            refusals.append(
                ngettext(
                    "%(count)d demande non close est à son nom : clôturez-la d'abord.",
                    "%(count)d demandes non closes sont à son nom : clôturez-les d'abord.",
                    requested,
                )
                % {"count": requested}
            )
    if agent is not None and agent.status == AgentStatus.ACTIVE:
        refusals.append(
            _(
                "L'agent est encore actif dans l'annuaire : la prochaine synchronisation RH rétablirait son nom. "
                "Effacez ses données une fois sa sortie enregistrée dans l'annuaire."
            )
        )
    today = timezone.localdate()
    current = [
        person.full_name
        for person in subject_persons(subject)
        .filter(Q(mandates__end_on__isnull=True) | Q(mandates__end_on__gte=today), mandates__isnull=False)
        .distinct()
    ]
    if current:
        refusals.append(
            _(
                "Une personne de ce nom détient un mandat en cours dans les instances : un mandat public ne "
                "s'efface pas. Mettez-y fin d'abord, ou vérifiez qu'il s'agit d'une autre personne."
            )
        )
    return refusals


def _rewrite(
    rows: Iterable[models.Model], fields: list[str], pattern: re.Pattern[str], replacements: Mapping[str, str]
) -> list[models.Model]:
    changed = []
    for row in rows:
        before = [getattr(row, name) for name in fields]
        after = [_replace(value, pattern, replacements) for value in before]
        if after != before:
            for name, value in zip(fields, after, strict=True):
                setattr(row, name, value)
            changed.append(row)
    return changed


def _replace(value: Any, pattern: re.Pattern[str], replacements: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return pattern.sub(lambda match: replacements[match.group(0).casefold()], value)
    if isinstance(value, list):
        return [_replace(item, pattern, replacements) for item in value]
    if isinstance(value, dict):
        return {key: _replace(item, pattern, replacements) for key, item in value.items()}
    return value


# The free texts where a person's name, address or login may be written by someone else: each
# (model, text fields, JSON fields) is searched in SQL, then rewritten where a term is found.
TEXTS: list[tuple[type[models.Model], list[str], list[str]]] = [
    (Ticket, ["title", "description", "satisfaction_comment"], ["form_answers"]),
    (Followup, ["body"], []),
    (TicketTask, ["description"], []),
    (TransitionLog, ["comment"], []),
    (Notification, ["summary", "last_error"], ["recipients", "sent_to"]),
    (InboundMail, ["sender", "subject", "reason"], []),
]


def _texts_pseudonymise(replacements: Mapping[str, str], pattern: re.Pattern[str]) -> dict[str, int]:
    counts = {}
    for model, texts, jsons in TEXTS:
        query = Q(pk__in=[])
        annotations = {f"{name}_text": Cast(name, models.TextField()) for name in jsons}
        for term in replacements:
            for name in texts:
                query |= Q(**{f"{name}__icontains": term})
            for name in jsons:
                query |= Q(**{f"{name}_text__icontains": term})
                escaped = json.dumps(term)[1:-1]
                if escaped != term:
                    query |= Q(**{f"{name}_text__icontains": escaped})
        fields = [*texts, *jsons]
        rows = model._default_manager.annotate(**annotations).filter(query).only("pk", *fields)
        changed = _rewrite(rows.iterator(chunk_size=500), fields, pattern, replacements)
        model._default_manager.bulk_update(changed, fields, batch_size=500)
        counts[model._meta.model_name or model.__name__] = len(changed)
    return counts


def subject_erase(*, actor: User, subject: Subject, now: dt.datetime | None = None) -> PrivacyRequest:
    """Erase the person by pseudonymisation (GDPR art. 17): their name, address, login and phone
    become their pseudonym wherever Mutualis holds them (account, directory entry, member contacts,
    governance persons, tickets, followups, tasks, mails, the audit log), the account is closed
    (inactive, no password, tokens revoked, second factor removed). What they did stays, dated and
    counted, under the pseudonym: tickets, indicators, the log's entries. Operator admins only;
    refused with the reasons of `erasure_refusals`."""
    require_operator_admin(actor)
    now = now or timezone.now()
    with transaction.atomic():
        # Lock the person's records, then judge: two admins erasing the same person, or a ticket
        # given to them meanwhile, are decided on what is committed.
        if subject.user is not None:
            User.objects.select_for_update().filter(pk=subject.user.pk).first()
        if subject.agent is not None:
            Agent.objects.select_for_update().filter(pk=subject.agent.pk).first()
        refusals = erasure_refusals(actor=actor, subject=subject)
        if refusals:
            raise ValidationError(refusals)
        label = subject.pseudonym
        mail = pseudonym_mail(label)
        login = label.lower()
        contacts = list(subject_contacts(subject))
        persons = list(subject_persons(subject))
        replacements: dict[str, str] = {}
        for name in subject.names():
            replacements[name] = label
        for address in subject.mails():
            replacements[address] = mail
        for name in subject.logins():
            replacements[name] = login
        for contact in contacts:
            if contact.phone.strip():
                replacements[contact.phone.strip()] = PHONE_ERASED
            if contact.email.strip():
                replacements[contact.email.strip()] = mail
        replacements = {term.casefold(): text for term, text in replacements.items() if len(term.strip()) >= 3}
        pattern = terms_pattern(replacements)
        counts = _texts_pseudonymise(replacements, pattern)
        user, agent = subject.user, subject.agent
        if user is not None:
            username = (
                login if not User.objects.filter(username=login).exclude(pk=user.pk).exists() else f"{login}-{user.pk}"
            )
            user.username, user.first_name, user.last_name, user.email = username, "", label, ""
            user.is_active = False
            user.set_unusable_password()
            user.save(update_fields=["username", "first_name", "last_name", "email", "is_active", "password"])
            counts["api_tokens_revoked"] = ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(
                revoked_at=now
            )
            counts["second_factor_devices"] = TOTPDevice.objects.filter(user=user).delete()[0]
            login = username
        if agent is not None:
            Agent.objects.filter(pk=agent.pk).update(
                last_name=label, first_name="", civility="", mail="", login="", function="", updated_at=now
            )
        counts["member_contacts"] = Contact.objects.filter(pk__in=[c.pk for c in contacts]).update(
            full_name=label, email="", phone="", updated_at=now
        )
        for person in persons:
            Person.objects.filter(pk=person.pk).update(
                full_name=label, slug=f"{login}-{person.pk}"[:80], updated_at=now
            )
        counts["governance_persons"] = len(persons)
        # The log last, so that it is rewritten from the same terms and the erasure's own entry
        # (below, naming the pseudonym only) is not read again.
        personal_keys = {
            "first_name": "",
            "last_name": label,
            "full_name": label,
            "email": mail,
            "mail": mail,
            "username": login,
            "login": login,
            "phone": PHONE_ERASED,
            "civility": "",
            "function": NEUTRAL_TEXT,
        }
        objects: list[tuple[type[models.Model], list[int]]] = [
            (Contact, [c.pk for c in contacts]),
            (Person, [p.pk for p in persons]),
        ]
        if user is not None:
            objects.append((User, [user.pk]))
        if agent is not None:
            objects.append((Agent, [agent.pk]))
        counts["audit_entries"] = audit_pseudonymise(
            replacements=replacements,
            actor_id=user.pk if user is not None else None,
            actor_label=login,
            objects=objects,
            object_keys=personal_keys,
        )
        request = PrivacyRequest.objects.create(
            kind=RequestKind.ERASURE,
            subject_label=label,
            user=user,
            agent=agent,
            organisation_id=subject.organisation_id,
            handled_by=actor,
            counts=counts,
        )
        audit_create(actor=actor, obj=request)
    return request
