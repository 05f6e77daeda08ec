"""An existing Pastell's documents, read live through a member's Pastell connector.

Nothing is stored and nothing is written, in Pastell or here: the page asks Pastell each time it is
shown, with a short timeout, so it says what Pastell says now or why it could not ask.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from django.utils.translation import gettext as _

from mutualis.core.actors import Visitor
from mutualis.flows import engine
from mutualis.flows.enums import State
from mutualis.flows.models import ConnectorInstance
from mutualis.flows.secrets import decrypt
from mutualis.members.models import Organisation

KIND = "pastell"
# A page waits this long for each of Pastell's answers, not the engine's 30 s.
TIMEOUT = 10
STATE_LABELS = dict(State.choices)


@dataclass(frozen=True)
class PastellDocument:
    id_d: str
    type: str
    title: str
    last_action: str
    last_action_at: dt.datetime | None  # Pastell's local wall-clock time; None when unreadable
    last_action_date: str  # as Pastell gave it

    @property
    def last_action_label(self) -> str:
        """Mutualis's name for the state when Pastell's action is one of the engine's."""
        return str(STATE_LABELS.get(self.last_action, ""))


def connectors(user: Visitor, member: Organisation) -> list[ConnectorInstance]:
    """The member's Pastell connectors the account may read (operator staff, or the member's own)."""
    return list(ConnectorInstance.objects.visible_to(user).filter(member=member, kind=KIND).order_by("label", "pk"))


def members_with_pastell(user: Visitor) -> set[int]:
    """Ids of the members (visible to the account) that have a Pastell connector, in one query."""
    return set(ConnectorInstance.objects.visible_to(user).filter(kind=KIND).values_list("member_id", flat=True))


def documents(instance: ConnectorInstance) -> list[PastellDocument]:
    """The documents of the connector's entity, newest action first; raises the ports' FlowError."""
    adapter_class = engine.adapters().get(instance.kind)
    if adapter_class is None:
        raise engine.NotConfigured(
            _("Le type de connecteur « %(kind)s » n'est pas installé.") % {"kind": instance.kind}
        )
    entity_id = str(instance.config.get("entity_id", "")).strip()
    if not entity_id:
        raise engine.NotConfigured(
            _("Le connecteur « %(label)s » n'indique pas l'entité de l'adhérent dans Pastell (id_e).")
            % {"label": instance.label}
        )
    config = {**{k: str(v) for k, v in instance.config.items()}, **decrypt(instance.secrets)}
    adapter = adapter_class.from_config(config, timeout=TIMEOUT)  # type: ignore[attr-defined]
    return [_document(row) for row in adapter.documents(entity_id)]


def action_counts(rows: list[PastellDocument]) -> list[tuple[str, str, int]]:
    """(last action, Mutualis's label or "", count), the most frequent first."""
    counts = Counter(row.last_action for row in rows)
    return [
        (action, str(STATE_LABELS.get(action, "")), n)
        for action, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]


def type_counts(rows: list[PastellDocument]) -> list[tuple[str, int]]:
    return sorted(Counter(row.type for row in rows).items())


def _document(row: Mapping[str, str]) -> PastellDocument:
    raw = row.get("last_action_date", "")
    try:
        at: dt.datetime | None = dt.datetime.fromisoformat(raw)
    except ValueError:
        at = None
    return PastellDocument(
        id_d=row.get("id_d", ""),
        type=row.get("type", ""),
        title=row.get("titre", ""),
        last_action=row.get("last_action", ""),
        last_action_at=at,
        last_action_date=raw,
    )
