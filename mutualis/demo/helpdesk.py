"""The helpdesk's part of `load_demo`: a list of small idempotent steps (categories, the policies'
commitments, ...) run in order by `load_helpdesk`. The request forms are `questionnaires.py`'s."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mutualis.catalog.models import ServiceCommitment
from mutualis.helpdesk.models import Category, SlaPolicy
from mutualis.members.models import OperatorService

# slug, name, default group (an operator service of the data set), position
CATEGORIES = [
    ("comptes-acces", "Comptes et accès", "relations-adherents", 1),
    ("incidents-applicatifs", "Incidents sur les applications", "systemes-information", 2),
    ("installations-materiel", "Installations et matériel", "hebergement-proximite", 3),
]


def load_categories(data: dict[str, Any]) -> None:
    groups = {s.slug: s for s in OperatorService.objects.all()}
    for slug, name, group, position in CATEGORIES:
        Category.objects.update_or_create(
            slug=slug, defaults={"name": name, "default_group": groups.get(group), "position": position}
        )


# Which of the data set's service commitments the default policies (migration 0009) measure:
# incidents are about the platforms the operator runs (« Système d'information »), requests about
# its agents' work for the members (« Expertise »). The other commitments (hosting, mail, GDPR,
# archiving) have no ticket rule of their own yet: the quality page says they are not measured.
COMMITMENT_POLICIES = {"systeme-information": "incident", "expertise": "request"}


def load_commitment_policies(data: dict[str, Any]) -> None:
    """Name the policies measuring each commitment; what an operator set by hand is kept (added to)."""
    commitments = {c.slug: c for c in ServiceCommitment.objects.filter(slug__in=COMMITMENT_POLICIES)}
    for slug, ticket_type in COMMITMENT_POLICIES.items():
        commitment = commitments.get(slug)
        if commitment is not None:
            commitment.sla_policies.add(*SlaPolicy.objects.filter(ticket_type=ticket_type))


STEPS: list[Callable[[dict[str, Any]], None]] = [load_categories, load_commitment_policies]


def load_helpdesk(data: dict[str, Any]) -> None:
    for step in STEPS:
        step(data)
