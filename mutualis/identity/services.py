"""Writes on the directory: the HR sync, organisation units, accounts made or refreshed by single
sign-on, and the attribute release register. Each runs in one transaction with its audit entries."""

from __future__ import annotations

import datetime as dt
import operator
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mutualis.accounts.models import Role, User
from mutualis.catalog.models import Application
from mutualis.core.audit import AuditDraft, audit_many, audit_record, diff, snapshot
from mutualis.core.bulk import insert_rows
from mutualis.core.models import AuditAction, AuditEntry
from mutualis.identity.hr_files import Row
from mutualis.identity.models import Agent, AgentStatus, AttributeRelease, Civility, OrganisationUnit
from mutualis.members.models import Organisation

# The attributes a sync compares and writes; `department` and `manager` as unit code and HR id.
SYNCED = ("civility", "last_name", "first_name", "mail", "login", "function", "start_on", "end_on", "status")
_synced = operator.itemgetter(*SYNCED)  # a target's values as a tuple, in SYNCED order
_DATES = {"start_on", "end_on"}
# An agent as the sync reads it: one tuple per agent, compared with the file's row in memory.
CURRENT = ("pk", "hr_id", "department_id", "manager_id", *SYNCED)
_PK, _HR_ID, _DEPARTMENT, _MANAGER, _SYNCED_FROM = 0, 1, 2, 3, 4
_LAST_NAME, _FIRST_NAME, _STATUS = (CURRENT.index(name) for name in ("last_name", "first_name", "status"))
CIVILITIES = {
    "mme": Civility.MADAME,
    "madame": Civility.MADAME,
    "mlle": Civility.MADAME,
    "m": Civility.MONSIEUR,
    "m.": Civility.MONSIEUR,
    "mr": Civility.MONSIEUR,
    "monsieur": Civility.MONSIEUR,
}


# An ASCII subset of what `validate_email` accepts (its dot-atom local part, hostname, labels and
# TLD rules), matched in one go; anything else (IDN, quoted local part, literal address) is left to
# `validate_email`, so the verdict is Django's either way at a fifth of the cost per row.
_PLAIN_MAIL = re.compile(
    r"[-!#$%&'*+/=?^_`{}|~0-9a-z]+(?:\.[-!#$%&'*+/=?^_`{}|~0-9a-z]+)*"
    r"@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.(?!-)[a-z0-9-]{1,63}(?<!-))*\.(?!-)[a-z-]{2,63}(?<!-)\Z",
    re.IGNORECASE | re.ASCII,
)


def _valid_mail(mail: str) -> bool:
    if len(mail) <= 320 and _PLAIN_MAIL.match(mail):
        return True
    try:
        validate_email(mail)
    except ValidationError:
        return False
    return True


class DirectorySyncRefused(Exception):
    """The file would deactivate too many agents; nothing was written."""


@dataclass
class Rejection:
    line: int
    hr_id: str
    reason: str

    def __str__(self) -> str:
        who = f" (matricule {self.hr_id})" if self.hr_id else ""
        return _("ligne %(line)s%(who)s : %(reason)s") % {"line": self.line, "who": who, "reason": self.reason}


@dataclass
class SyncResult:
    created: int = 0
    updated: int = 0
    deactivated: int = 0
    unchanged: int = 0
    accounts_disabled: int = 0
    units: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    dry_run: bool = False

    @property
    def writes(self) -> int:
        return self.created + self.updated + self.deactivated + self.units

    def summary(self) -> str:
        text = _(
            "%(created)s créé(s), %(updated)s mis à jour, %(deactivated)s désactivé(s), "
            "%(unchanged)s inchangé(s), %(rejected)s rejeté(s)"
        ) % {
            "created": self.created,
            "updated": self.updated,
            "deactivated": self.deactivated,
            "unchanged": self.unchanged,
            "rejected": len(self.rejected),
        }
        if self.accounts_disabled:
            text += _(" ; %(n)s compte(s) désactivé(s)") % {"n": self.accounts_disabled}
        if self.dry_run:
            text += _(" (simulation : rien n'a été enregistré)")
        return text


def _date(text: str) -> dt.date:
    # fast paths for the two usual shapes; strptime costs ~50 µs a call on 30,000 rows
    if len(text) == 10 and text[4] == "-":
        return dt.date.fromisoformat(text)
    if len(text) == 10 and text[2] == "/" and text[5] == "/":
        return dt.date(int(text[6:]), int(text[3:5]), int(text[:2]))
    for pattern in ("%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y"):
        try:
            return dt.datetime.strptime(text, pattern).date()  # noqa: DTZ007 (a calendar date)
        except ValueError:
            continue
    raise ValueError(text)


@dataclass
class _Target:
    hr_id: str
    line: int
    values: dict[str, Any]
    unit: str
    manager: str


def _parse(
    rows: Iterable[Row], units: set[str], today: dt.date
) -> tuple[dict[str, _Target], list[Rejection], set[str]]:
    """Validate every row; returns the targets by HR id, the rejections, every HR id named."""
    rows = list(rows)
    counts = Counter(r.values.get("matricule", "") for r in rows)
    lines: dict[str, list[int]] = defaultdict(list)
    for r in rows:
        lines[r.values.get("matricule", "")].append(r.line)
    targets: dict[str, _Target] = {}
    rejected: list[Rejection] = []
    named: set[str] = set()
    for row in rows:
        v = row.values
        hr_id = v.get("matricule", "")
        named.add(hr_id)
        mail = v.get("mail", "")
        unit = v.get("service", "")
        civility_text = v.get("civilite", "").strip().lower()
        reason = None
        if row.short:
            reason = _("ligne incomplète : %(fields)s champ(s) pour %(expected)s colonnes (export tronqué ?)") % {
                "fields": row.fields,
                "expected": row.expected,
            }
        elif not hr_id:
            reason = _("matricule manquant")
        elif counts[hr_id] > 1:
            others = ", ".join(str(n) for n in lines[hr_id] if n != row.line)
            reason = _("matricule en double dans le fichier (aussi ligne %(lines)s)") % {"lines": others}
        elif not v.get("nom") or not v.get("prenom"):
            reason = _("nom ou prénom manquant")
        elif civility_text and civility_text not in CIVILITIES:
            reason = _("civilité inconnue : %(value)s") % {"value": v.get("civilite")}
        elif unit and unit not in units:
            reason = _("service inconnu : %(code)s") % {"code": unit}
        if reason is None and mail and not _valid_mail(mail):
            reason = _("courriel invalide : %(mail)s") % {"mail": mail}
        dates: dict[str, dt.date | None] = {}
        if reason is None:
            for column, name in (("date_entree", "start_on"), ("date_sortie", "end_on")):
                text = v.get(column, "")
                try:
                    dates[name] = _date(text) if text else None
                except ValueError:
                    reason = _("date invalide (%(column)s) : %(value)s") % {"column": column, "value": text}
                    break
        if reason is not None:
            rejected.append(Rejection(row.line, hr_id, reason))
            continue
        end_on = dates.get("end_on")
        targets[hr_id] = _Target(
            hr_id=hr_id,
            line=row.line,
            values={
                "civility": CIVILITIES.get(civility_text, ""),
                "last_name": v["nom"][:100],
                "first_name": v["prenom"][:100],
                "mail": mail.lower(),
                "login": v.get("identifiant", "")[:100],
                "function": v.get("fonction", "")[:200],
                "start_on": dates.get("start_on"),
                "end_on": end_on,
                "status": AgentStatus.INACTIVE if end_on and end_on < today else AgentStatus.ACTIVE,
            },
            unit=unit,
            manager=v.get("matricule_responsable", ""),
        )
    return targets, rejected, named


def _sync_units(
    actor: User | None, collectivity: Organisation, rows: list[Row], dry_run: bool
) -> tuple[dict[str, int], int]:
    """Upsert the units file (code, libelle, parent); returns code → id and the number written."""
    short = [str(r.line) for r in rows if r.short]
    if short:
        raise DirectorySyncRefused(
            _("fichier des services : ligne(s) incomplète(s) %(lines)s ; rien n'a été enregistré")
            % {"lines": ", ".join(short)}
        )
    existing = {u.code: u for u in OrganisationUnit.objects.filter(collectivity=collectivity)}
    codes = {u.code: u.pk for u in existing.values()}
    wanted = {r.values["code"]: r for r in rows if r.values.get("code")}
    written = 0
    for code, row in wanted.items():
        name = row.values.get("libelle") or code
        unit = existing.get(code)
        if unit is None:
            written += 1
            if not dry_run:
                unit = OrganisationUnit.objects.create(collectivity=collectivity, code=code, name=name)
                existing[code] = unit
                audit_record(
                    actor=actor, action=AuditAction.CREATE, obj=unit, changes=diff({}, snapshot(unit)), via="cli"
                )
            codes[code] = unit.pk if unit else -1
        elif unit.name != name:
            written += 1
            if not dry_run:
                before = snapshot(unit)
                unit.name = name
                unit.save(update_fields=["name", "updated_at"])
                audit_record(
                    actor=actor, action=AuditAction.UPDATE, obj=unit, changes=diff(before, snapshot(unit)), via="cli"
                )
    if not dry_run:
        for code, row in wanted.items():
            parent = existing.get(row.values.get("parent", ""))
            unit = existing[code]
            if (parent.pk if parent else None) != unit.parent_id and parent is not unit:
                before = snapshot(unit)
                unit.parent = parent
                unit.save(update_fields=["parent", "updated_at"])
                audit_record(
                    actor=actor, action=AuditAction.UPDATE, obj=unit, changes=diff(before, snapshot(unit)), via="cli"
                )
    return codes, written


DEACTIVATION_WINDOW = dt.timedelta(days=30)


def _recent_deactivations(collectivity: Organisation, *, among: set[str]) -> int:
    """Agents of the collectivity deactivated within the window (by any sync, forced or not, or by
    hand) and still inactive, read from the audit log."""
    if not among:
        return 0
    deactivated = AuditEntry.objects.filter(
        organisation=collectivity,
        content_type=ContentType.objects.get_for_model(Agent),
        action=AuditAction.UPDATE,
        created_at__gte=timezone.now() - DEACTIVATION_WINDOW,
        changes__status=[AgentStatus.ACTIVE, AgentStatus.INACTIVE],
    ).values_list("object_id", flat=True)
    return len(set(deactivated) & among)


def directory_sync(
    *,
    actor: User | None,
    collectivity: Organisation,
    rows: Iterable[Row],
    units: list[Row] | None = None,
    dry_run: bool = False,
    force: bool = False,
    today: dt.date | None = None,
    max_deactivation: float | None = None,
) -> SyncResult:
    """Bring the collectivity's directory in line with an HR export.

    Creates new agents, writes only the attributes that changed (bulk, grouped by the set of
    changed fields), marks leavers (absent from the file, or past their end date) inactive and
    disables their account; never deletes. An agent whose row was rejected (a row cut short
    included) is not a leaver. Refuses (DirectorySyncRefused, nothing written) a file that would
    bring the deactivations of the last 30 days above the configured share of the staff, unless
    `force`. Writes nothing at all when nothing changed.
    """
    today = today or timezone.localdate()
    share = settings.DIRECTORY_MAX_DEACTIVATION if max_deactivation is None else max_deactivation
    result = SyncResult(dry_run=dry_run)
    with transaction.atomic():
        unit_ids = dict(OrganisationUnit.objects.filter(collectivity=collectivity).values_list("code", "pk"))
        if units:
            unit_ids, result.units = _sync_units(actor, collectivity, units, dry_run)
        targets, result.rejected, named = _parse(rows, set(unit_ids), today)
        # the directory read once, as tuples in CURRENT order; the comparison happens in memory
        current = {row[1]: row for row in Agent.objects.filter(collectivity=collectivity).values_list(*CURRENT)}
        hr_of = {row[0]: hr for hr, row in current.items()}
        code_of = {pk: code for code, pk in unit_ids.items()}

        # a manager must be in the file or already in the directory
        for hr_id, target in list(targets.items()):
            if target.manager and target.manager not in targets and target.manager not in current:
                result.rejected.append(
                    Rejection(target.line, hr_id, _("responsable inconnu : %(hr)s") % {"hr": target.manager})
                )
                del targets[hr_id]
        result.rejected.sort(key=lambda r: r.line)

        creates: list[_Target] = []
        updates: dict[str, dict[str, list[Any]]] = {}  # hr_id → {field: [before, after]}
        deactivated: list[int] = []
        for hr_id, target in targets.items():
            row = current.get(hr_id)
            if row is None:
                creates.append(target)
                continue
            # the usual case, an agent that did not change: one tuple comparison, no dict built
            if (
                row[_SYNCED_FROM:] == _synced(target.values)
                and row[_DEPARTMENT] == (unit_ids[target.unit] if target.unit else None)
                and (hr_of.get(row[_MANAGER], "") if row[_MANAGER] else "") == target.manager
            ):
                result.unchanged += 1
                continue
            before = dict(zip(SYNCED, row[_SYNCED_FROM:], strict=True))
            changes = {name: [before[name], value] for name, value in target.values.items() if before[name] != value}
            unit_before = code_of.get(row[_DEPARTMENT], "") if row[_DEPARTMENT] else ""
            if unit_before != target.unit:
                changes["department"] = [unit_before, target.unit]
            manager_before = hr_of.get(row[_MANAGER], "") if row[_MANAGER] else ""
            if manager_before != target.manager:
                changes["manager"] = [manager_before, target.manager]
            if not changes:
                result.unchanged += 1
            elif changes.get("status") == [AgentStatus.ACTIVE, AgentStatus.INACTIVE]:
                deactivated.append(row[_PK])
                updates[hr_id] = changes
            else:
                updates[hr_id] = changes
        leavers = [row for hr_id, row in current.items() if hr_id not in named and row[_STATUS] == AgentStatus.ACTIVE]
        for row in leavers:
            deactivated.append(row[_PK])
            updates[row[_HR_ID]] = {"status": [AgentStatus.ACTIVE, AgentStatus.INACTIVE]}
        result.created = len(creates)
        result.deactivated = len(deactivated)
        result.updated = len(updates) - len(deactivated)
        result.unchanged += sum(1 for hr_id, row in current.items() if hr_id not in targets and hr_id not in updates)

        active = sum(1 for row in current.values() if row[_STATUS] == AgentStatus.ACTIVE)
        if deactivated and not force:
            # The share counts the window's earlier deactivations too (over the staff as it was),
            # so a quarter of a town cannot leave through successive small files either.
            inactive = {str(row[_PK]) for row in current.values() if row[_STATUS] == AgentStatus.INACTIVE}
            recent = _recent_deactivations(collectivity, among=inactive)
            staff = active + recent
            if staff and (len(deactivated) + recent) / staff > share:
                raise DirectorySyncRefused(
                    _(
                        "ce fichier désactiverait %(n)s agent(s) sur %(active)s actif(s) (%(pct).0f %%, en comptant "
                        "les %(recent)s désactivé(s) ces %(days)s derniers jours), au-delà du seuil de %(max).0f %% : "
                        "un export tronqué ne doit pas bloquer une collectivité. Vérifiez le fichier, ou relancez "
                        "avec --force."
                    )
                    % {
                        "n": len(deactivated),
                        "active": active,
                        "recent": recent,
                        "days": DEACTIVATION_WINDOW.days,
                        "pct": 100 * (len(deactivated) + recent) / staff,
                        "max": 100 * share,
                    }
                )
        if dry_run or not (creates or updates):
            if dry_run:
                transaction.set_rollback(True)
            return result
        result.accounts_disabled = _write(actor, collectivity, creates, updates, current, unit_ids, deactivated)
        audit_record(
            actor=actor,
            action=AuditAction.IMPORT,
            obj=collectivity,
            object_repr=_("annuaire %(name)s : %(summary)s")
            % {"name": collectivity.label, "summary": result.summary()},
            changes={
                "created": [None, result.created],
                "updated": [None, result.updated],
                "deactivated": [None, result.deactivated],
                "rejected": [None, len(result.rejected)],
            },
            via="cli",
        )
    return result


def _write(
    actor: User | None,
    collectivity: Organisation,
    creates: list[_Target],
    updates: dict[str, dict[str, list[Any]]],
    current: dict[str, tuple[Any, ...]],
    unit_ids: dict[str, int],
    deactivated: list[int],
) -> int:
    now = timezone.now()
    at = connection.ops.adapt_datetimefield_value(now)
    date = connection.ops.adapt_datefield_value
    pk_of = {hr: row[_PK] for hr, row in current.items()}
    # Insert by levels of the hierarchy (managers before their reports) so each new agent's
    # manager id is known at insert time: no UPDATE pass over 30,000 rows afterwards.
    new: list[tuple[int, _Target]] = []
    waiting = list(creates)
    while waiting:
        ready = [t for t in waiting if not t.manager or t.manager in pk_of]
        cycle = not ready
        if cycle:  # managers that manage each other: insert them, managers set just after
            ready = waiting
        # ids come from a sequence (AUTOINCREMENT on SQLite): this level's rows are the
        # collectivity's agents above every id known so far
        top = max(pk_of.values(), default=0)
        insert_rows(
            Agent,
            ("created_at", "updated_at", "collectivity", "hr_id", "department", "manager", *SYNCED),
            [
                (
                    at,
                    at,
                    collectivity.pk,
                    t.hr_id,
                    unit_ids.get(t.unit) if t.unit else None,
                    pk_of.get(t.manager) if t.manager else None,
                    *(date(v) if name in _DATES else v for name, v in zip(SYNCED, _synced(t.values), strict=True)),
                )
                for t in ready
            ],
        )
        level = {t.hr_id for t in ready}
        pk_of.update(
            (hr_id, pk)
            for hr_id, pk in Agent.objects.filter(collectivity=collectivity, pk__gt=top).values_list("hr_id", "pk")
            if hr_id in level
        )
        if cycle:
            late = [Agent(pk=pk_of[t.hr_id], manager_id=pk_of.get(t.manager)) for t in ready]
            Agent.objects.bulk_update([a for a in late if a.manager_id], ["manager"], batch_size=500)
        new += [(pk_of[t.hr_id], t) for t in ready]
        waiting = [t for t in waiting if t.hr_id not in level]

    # updates grouped by the set of fields that changed: each UPDATE writes only those columns
    groups: dict[tuple[str, ...], list[Agent]] = defaultdict(list)
    for hr_id, changes in updates.items():
        agent = Agent(pk=pk_of[hr_id], updated_at=now)
        for name, (_before, after) in changes.items():
            if name == "department":
                agent.department_id = unit_ids.get(after) if after else None
            elif name == "manager":
                agent.manager_id = pk_of.get(after) if after else None
            else:
                setattr(agent, name, after)
        groups[tuple(sorted(changes))].append(agent)
    for names, agents in groups.items():
        Agent.objects.bulk_update(agents, [*names, "updated_at"], batch_size=500)

    disabled = list(User.objects.filter(agent_id__in=deactivated, is_active=True).values_list("pk", "username"))
    if disabled:
        User.objects.filter(pk__in=[pk for pk, _name in disabled]).update(is_active=False)

    # The history: one entry per created or changed agent, as audit_record would write it, in one batch.
    org = collectivity.pk
    entries = [
        AuditDraft(
            action=AuditAction.CREATE,
            model=Agent,
            object_id=pk,
            object_repr=f"{t.values['last_name'].upper()} {t.values['first_name']}",  # str(agent)
            changes={
                name: [None, _json(value)]
                for name, value in {**t.values, "department": t.unit, "manager": t.manager}.items()
                if value
            },
            organisation_id=org,
        )
        for pk, t in new
    ]
    entries += [
        AuditDraft(
            action=AuditAction.UPDATE,
            model=Agent,
            object_id=pk_of[hr_id],
            object_repr=f"{current[hr_id][_LAST_NAME].upper()} {current[hr_id][_FIRST_NAME]}",
            changes={name: [_json(b), _json(a)] for name, (b, a) in changes.items()},
            organisation_id=org,
        )
        for hr_id, changes in updates.items()
    ]
    entries += [
        AuditDraft(
            action=AuditAction.UPDATE,
            model=User,
            object_id=pk,
            object_repr=_("%(name)s : compte désactivé (agent sorti de l'annuaire)") % {"name": username},
            changes={"is_active": [True, False]},
            organisation_id=org,
        )
        for pk, username in disabled
    ]
    audit_many(actor=actor, entries=entries, via="import")
    return len(disabled)


def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


# --- accounts met through single sign-on ---------------------------------------------------------


def account_for_sso(*, agent: Agent, username: str, claims: Mapping[str, Any]) -> User:
    """The named account of `agent`: its linked account, else an unlinked account of the same
    collectivity with the provider's login (then linked), else a new member-agent account.
    Name and mail are refreshed from the claims; every change is audited."""
    with transaction.atomic():
        user = User.objects.select_related("organisation", "service").filter(agent=agent).first()
        if user is None and username:
            candidate = User.objects.filter(
                username=username, agent__isnull=True, organisation_id=agent.collectivity_id
            ).first()
            if candidate is not None:
                candidate.agent = agent
                candidate.save(update_fields=["agent"])
                audit_record(
                    actor=candidate,
                    action=AuditAction.UPDATE,
                    obj=candidate,
                    changes={"agent": [None, agent.pk]},
                    organisation_id=agent.collectivity_id,
                    via="sso",
                )
                user = candidate
        if user is None:
            name = username or agent.uid
            if User.objects.filter(username=name).exists():
                name = agent.uid
            user = User(
                username=name,
                first_name=agent.first_name,
                last_name=agent.last_name,
                email=agent.mail,
                organisation_id=agent.collectivity_id,
                role=Role.MEMBER_AGENT,
                agent=agent,
            )
            user.set_unusable_password()  # signs in through the provider only
            user.save()
            audit_record(
                actor=user,
                action=AuditAction.CREATE,
                obj=user,
                changes=diff({}, snapshot(user, ["username", "organisation", "role", "agent"])),
                organisation_id=agent.collectivity_id,
                via="sso",
            )
        account_refresh_from_claims(user=user, claims=claims)
    return user


def account_refresh_from_claims(*, user: User, claims: Mapping[str, Any]) -> dict[str, list[Any]]:
    """The provider is the authority on a person's name and mail: copy them when they differ."""
    wanted = {
        "first_name": str(claims.get("given_name") or "")[:150],
        "last_name": str(claims.get("family_name") or "")[:150],
        "email": str(claims.get("email") or "")[:254],
    }
    wanted = {k: v for k, v in wanted.items() if v}
    changes = {k: [getattr(user, k), v] for k, v in wanted.items() if getattr(user, k) != v}
    if changes:
        with transaction.atomic():
            for name, (_before, after) in changes.items():
                setattr(user, name, after)
            user.save(update_fields=list(changes))
            audit_record(
                actor=user,
                action=AuditAction.UPDATE,
                obj=user,
                changes=changes,
                organisation_id=user.organisation_id,
                via="sso",
            )
    return changes


# --- the attribute release register ----------------------------------------------------------------


def attribute_release_create(
    *, actor: User, application: Application, attribute: str, purpose: str
) -> AttributeRelease:
    purpose = purpose.strip()
    if not purpose:
        raise ValidationError({"purpose": _("indiquez la finalité du traitement (RGPD)")})
    if AttributeRelease.objects.filter(application=application, attribute=attribute).exists():
        raise ValidationError({"attribute": _("cet attribut est déjà transmis à cette application")})
    release = AttributeRelease(application=application, attribute=attribute, purpose=purpose[:300])
    release.full_clean()
    with transaction.atomic():
        release.save()
        audit_record(actor=actor, action=AuditAction.CREATE, obj=release, changes=diff({}, snapshot(release)))
    return release


def attribute_release_delete(*, actor: User, release: AttributeRelease) -> None:
    with transaction.atomic():
        audit_record(actor=actor, action=AuditAction.DELETE, obj=release, changes=diff(snapshot(release), {}))
        release.delete()
