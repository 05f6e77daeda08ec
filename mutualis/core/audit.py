"""Recording writes in the audit log, the only module that inserts entries: services call
`audit_record` (one entry) or `audit_many` (a batch) inside their transaction."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import json
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import NotSupportedError, connection, models
from django.db.models import Case, F, Func, Q, Value, When
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from mutualis.core.actors import Actor, signed_in_actor
from mutualis.core.bulk import insert_rows
from mutualis.core.models import AuditAction, AuditEntry

_ACTIONS = frozenset(AuditAction.values)


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dt.datetime) and timezone.is_aware(value):
        # Read by people on the audit page: the same instant, written in Paris time.
        return timezone.localtime(value).isoformat()
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)


def snapshot(obj: models.Model, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """The concrete field values of `obj`, JSON-ready; foreign keys as their ids."""
    names = set(fields) if fields is not None else None
    data: dict[str, Any] = {}
    for field in obj._meta.concrete_fields:
        if field.name in {"created_at", "updated_at"}:
            continue
        if names is not None and field.name not in names:
            continue
        data[field.name] = _jsonable(getattr(obj, field.attname))
    return data


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """Fields whose value changed, as {field: [before, after]}."""
    return {
        key: [before.get(key), after.get(key)]
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    }


def actor_label(actor: Actor | None) -> str:
    user = signed_in_actor(actor)
    if user is None:
        return "système"
    return user.get_username()


@dataclasses.dataclass(frozen=True, slots=True)
class AuditDraft:
    """One entry of a batch for `audit_many`: the object by its model and id (bulk paths hold
    ids, not instances), its text, the changes and the organisation concerned."""

    action: str
    model: type[models.Model] | None = None
    object_id: str | int = ""
    object_repr: str = ""
    changes: dict[str, list[Any]] = dataclasses.field(default_factory=dict)
    organisation_id: int | None = None


def _columns(
    *,
    actor: Actor | None,
    action: str,
    content_type: ContentType | None,
    object_id: str | int,
    object_repr: str,
    changes: dict[str, list[Any]] | None,
    organisation_id: int | None,
    via: str,
) -> dict[str, Any]:
    """The row both writers insert: one place checks the action and trims what the columns hold."""
    if action not in _ACTIONS:
        raise ValueError(f"unknown audit action: {action!r}")
    if not via or len(via) > 16:
        raise ValueError(f"bad audit channel: {via!r}")
    user = signed_in_actor(actor)
    return {
        "actor_id": user.pk if user is not None else None,
        "actor_label": actor_label(actor)[:200],
        "action": action,
        "content_type_id": content_type.pk if content_type is not None else None,
        "object_id": str(object_id)[:64],
        "object_repr": object_repr[:300],
        "changes": changes or {},
        "organisation_id": organisation_id,
        "via": via,
    }


def audit_record(
    *,
    actor: Actor | None,
    action: str,
    obj: models.Model | None = None,
    changes: dict[str, list[Any]] | None = None,
    organisation_id: int | None = None,
    object_repr: str | None = None,
    via: str = "web",
) -> AuditEntry:
    """Append one entry; call it inside the service's transaction so both commit together."""
    if organisation_id is None and obj is not None:
        organisation_id = _organisation_of(obj)
    return AuditEntry.objects.create(
        **_columns(
            actor=actor,
            action=action,
            content_type=ContentType.objects.get_for_model(obj) if obj is not None else None,
            object_id=str(obj.pk) if obj is not None else "",
            object_repr=object_repr if object_repr is not None else str(obj) if obj is not None else "",
            changes=changes,
            organisation_id=organisation_id,
            via=via,
        )
    )


def audit_many(*, actor: Actor | None, entries: Iterable[AuditDraft], via: str = "web") -> int:
    """Append a batch of entries by one actor, as `audit_record` would write each one, in one
    INSERT (COPY on PostgreSQL): the directory sync writes 30,000 at a time. Returns the count."""
    at = connection.ops.adapt_datetimefield_value(timezone.now())
    adapt_json = connection.ops.adapt_json_value
    encoder = AuditEntry._meta.get_field("changes").encoder
    types: dict[type[models.Model], ContentType] = {}
    rows: list[tuple[Any, ...]] = []
    for draft in entries:
        content_type = None
        if draft.model is not None:
            content_type = types.get(draft.model)
            if content_type is None:
                content_type = types[draft.model] = ContentType.objects.get_for_model(draft.model)
        row = _columns(
            actor=actor,
            action=draft.action,
            content_type=content_type,
            object_id=draft.object_id,
            object_repr=draft.object_repr,
            changes=draft.changes,
            organisation_id=draft.organisation_id,
            via=via,
        )
        row["changes"] = adapt_json(row["changes"], encoder)
        rows.append((at, *(row[column] for column in _BATCH_COLUMNS.values())))
    insert_rows(AuditEntry, ("created_at", *_BATCH_COLUMNS), rows)
    return len(rows)


# field name -> key of the row `_columns` returns
_BATCH_COLUMNS = {
    "actor": "actor_id",
    "actor_label": "actor_label",
    "action": "action",
    "content_type": "content_type_id",
    "object_id": "object_id",
    "object_repr": "object_repr",
    "changes": "changes",
    "organisation": "organisation_id",
    "via": "via",
}


def audit_create(*, actor: Actor | None, obj: models.Model, via: str = "web") -> AuditEntry:
    return audit_record(actor=actor, action=AuditAction.CREATE, obj=obj, changes=diff({}, snapshot(obj)), via=via)


def audit_delete(*, actor: Actor | None, obj: models.Model, via: str = "web") -> AuditEntry:
    return audit_record(actor=actor, action=AuditAction.DELETE, obj=obj, changes=diff(snapshot(obj), {}), via=via)


def organisation_model() -> type[models.Model]:
    """The tenant model (members' Organisation), read from the entry's own foreign key: core, the
    base layer, names it only by that key's "members.Organisation" and imports nothing above it."""
    model = AuditEntry._meta.get_field("organisation").related_model
    assert isinstance(model, type)
    return model


def _organisation_of(obj: models.Model) -> int | None:
    """The tenant an object belongs to, so a member's entries can be filtered."""
    if isinstance(obj, organisation_model()):
        return obj.pk
    for attname in ("organisation_id", "collectivity_id"):
        value = getattr(obj, attname, None)
        if value is not None:
            return int(value)
    return None


# --- Personal data: the only rewrites of existing entries ---------------------------------------
# The log is append-only for every other purpose. These three functions serve the personal-data
# rules (mutualis/privacy): an entry keeps what happened, when, by which account id and to which
# object, and loses a name, an address or a free text the law says must go. Entries carry no hash
# chain: rewriting their text leaves every other entry as it was (docs/privacy.md).


class _JSONWithoutKeys(Func):
    """`changes` minus the top-level `keys` (absent keys are ignored)."""

    output_field = models.JSONField()

    def __init__(self, expression: Any, keys: Sequence[str]) -> None:
        super().__init__(expression)
        self.keys = list(keys)

    def as_sql(
        self,
        compiler: Any,
        connection: Any,
        function: str | None = None,
        template: str | None = None,
        arg_joiner: str | None = None,
        **extra_context: Any,
    ) -> Any:  # pragma: no cover
        raise NotSupportedError("only SQLite and PostgreSQL are supported")

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        sql, params = compiler.compile(self.source_expressions[0])
        paths = ", ".join(["%s"] * len(self.keys))
        return f"json_remove({sql}, {paths})", [*params, *(f'$."{key}"' for key in self.keys)]

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        sql, params = compiler.compile(self.source_expressions[0])
        return f"({sql} - %s::text[])", [*params, self.keys]


class _JSONReplaceKeys(Func):
    """`changes` with each of `keys` that it holds set to `value` (a JSON text); absent keys stay
    absent, so an entry never gains a field it did not have."""

    output_field = models.JSONField()

    def __init__(self, expression: Any, keys: Sequence[str], value: str) -> None:
        super().__init__(expression)
        self.keys, self.value = list(keys), value

    def as_sql(
        self,
        compiler: Any,
        connection: Any,
        function: str | None = None,
        template: str | None = None,
        arg_joiner: str | None = None,
        **extra_context: Any,
    ) -> Any:  # pragma: no cover
        raise NotSupportedError("only SQLite and PostgreSQL are supported")

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        sql, params = compiler.compile(self.source_expressions[0])
        pairs = ", ".join(["%s, json(%s)"] * len(self.keys))
        values = [part for key in self.keys for part in (f'$."{key}"', self.value)]
        return f"json_replace({sql}, {pairs})", [*params, *values]

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        sql, params = compiler.compile(self.source_expressions[0])
        for key in self.keys:
            sql = f"jsonb_set({sql}, %s::text[], %s::jsonb, false)"
            params = [*params, [key], self.value]
        return sql, params


def audit_redact_objects(
    *, model: type[models.Model], object_ids: Iterable[object], keys: Sequence[str], text: str
) -> int:
    """Replace, in every entry about these objects, the values of `keys` by `text` (before and
    after) and the object's text by its kind and id (« ticket n° 12 »), in one UPDATE. For records
    anonymised after their retention period: the entries still say who did what and when."""
    ids = [str(pk) for pk in object_ids]
    if not ids:
        return 0
    content_type = ContentType.objects.get_for_model(model)
    label = f"{model._meta.verbose_name} n° "
    return AuditEntry.objects.filter(content_type=content_type, object_id__in=ids).update(
        changes=_JSONReplaceKeys(F("changes"), keys, json.dumps([text, text])) if keys else F("changes"),
        object_repr=Concat(Value(label), F("object_id"), output_field=models.CharField()),
    )


def audit_drop_keys(*, entry_ids: Sequence[int], keys: Sequence[str], clear_unlinked_text: bool = False) -> int:
    """Remove `keys` (an IP address, a name typed) from these entries' changes, in one UPDATE; with
    `clear_unlinked_text`, also blank the text of those tied to no object (a failed login's text
    is the name typed, not an account)."""
    if not entry_ids:
        return 0
    update: dict[str, Any] = {"changes": _JSONWithoutKeys(F("changes"), keys)}
    if clear_unlinked_text:
        update["object_repr"] = Case(When(content_type__isnull=True, then=Value("")), default=F("object_repr"))
    return AuditEntry.objects.filter(pk__in=list(entry_ids)).update(**update)


def terms_pattern(terms: Iterable[str]) -> re.Pattern[str]:
    """One case-blind pattern for `terms`, longest first, matching a term only as a whole: « jdupont »
    is not the start of « jdupont2 », nor « Jean Dupont » of « Jean Dupont-Martin »."""
    alternatives = "|".join(re.escape(term) for term in sorted(set(terms), key=len, reverse=True))
    if not alternatives:
        return re.compile(r"(?!)")
    return re.compile(rf"(?<![\w.@-])(?:{alternatives})(?![\w@-])", re.IGNORECASE)


def _replace_in(value: Any, pattern: re.Pattern[str], replacements: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return pattern.sub(lambda match: replacements[match.group(0).casefold()], value)
    if isinstance(value, list):
        return [_replace_in(item, pattern, replacements) for item in value]
    if isinstance(value, dict):
        return {key: _replace_in(item, pattern, replacements) for key, item in value.items()}
    return value


def audit_pseudonymise(
    *,
    replacements: Mapping[str, str],
    actor_id: int | None = None,
    actor_label: str = "",
    objects: Iterable[tuple[type[models.Model], Iterable[object]]] = (),
    object_keys: Mapping[str, str] | None = None,
) -> int:
    """Erase a person from the log, keeping the entries: those the account `actor_id` wrote take
    `actor_label` (its pseudonym) as author, and every occurrence of a term of `replacements`
    (a name, an address, a login; matched without regard to case) in an author, an object's text
    or a value of `changes` becomes its replacement. Entries about `objects` are read whether or
    not they hold a term, and in those the non-empty values under a key of `object_keys` (their
    own `first_name`, `mail`…: a first name alone is no term, others share it) become that key's
    replacement. Returns how many entries changed.

    The candidates are found in SQL (one scan of the log, text searches); each is rewritten in
    Python, since a term may sit anywhere in the JSON, and saved in batches."""
    terms = {term.casefold(): text for term, text in replacements.items() if term.strip()}
    query = Q(pk__in=[])
    if actor_id is not None:
        query |= Q(actor_id=actor_id)
    about: set[tuple[int, str]] = set()
    for model, ids in objects:
        keys = [str(pk) for pk in ids]
        if keys:
            content_type = ContentType.objects.get_for_model(model)
            about |= {(content_type.pk, key) for key in keys}
            query |= Q(content_type=content_type, object_id__in=keys)
    for term in terms:
        # SQLite keeps JSON with non-ASCII characters escaped (\u00e9): look for both spellings.
        escaped = json.dumps(term)[1:-1]
        query |= Q(actor_label__icontains=term) | Q(object_repr__icontains=term) | Q(changes_text__icontains=term)
        if escaped != term:
            query |= Q(changes_text__icontains=escaped)
    pattern = terms_pattern(terms)
    candidates = (
        AuditEntry.objects.annotate(changes_text=Cast("changes", models.TextField()))
        .filter(query)
        .only("actor_id", "actor_label", "content_type", "object_id", "object_repr", "changes")
        .order_by("pk")
    )
    changed: list[AuditEntry] = []
    count = 0
    for entry in candidates.iterator(chunk_size=500):
        before = (entry.actor_label, entry.object_repr, entry.changes)
        if actor_id is not None and entry.actor_id == actor_id and actor_label:
            entry.actor_label = actor_label[:200]
        else:
            entry.actor_label = _replace_in(entry.actor_label, pattern, terms)[:200]
        entry.object_repr = _replace_in(entry.object_repr, pattern, terms)[:300]
        entry.changes = _replace_in(entry.changes, pattern, terms)
        if object_keys and (entry.content_type_id, entry.object_id) in about and isinstance(entry.changes, dict):
            for key, replacement in object_keys.items():
                values = entry.changes.get(key)
                if isinstance(values, list):
                    entry.changes[key] = [replacement if value not in (None, "") else value for value in values]
        if (entry.actor_label, entry.object_repr, entry.changes) != before:
            changed.append(entry)
        if len(changed) >= 500:
            count += len(changed)
            AuditEntry.objects.bulk_update(changed, ["actor_label", "object_repr", "changes"])
            changed = []
    if changed:
        count += len(changed)
        AuditEntry.objects.bulk_update(changed, ["actor_label", "object_repr", "changes"])
    return count
