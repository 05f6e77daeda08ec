"""The governance part of the demo that runs through the services: a sitting of the comité
syndical convened, held and closed a few weeks ago with two adopted deliberations, and the
bureau's delegation for contracts below the European thresholds (loaded after the accounts: the
services need an operator staff actor). Loading twice adds nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from mutualis.accounts.models import Role, User
from mutualis.governance import services
from mutualis.governance.enums import Attendance, Delegate
from mutualis.governance.models import Body, Delegation, Sitting
from mutualis.governance.selectors import sitting_members
from mutualis.procurement.enums import ThresholdKind
from mutualis.procurement.selectors import thresholds_in_force

PLACE = "Siège du syndicat, salle du comité"
ITEMS = [
    (
        "Rapport d'activité de l'année écoulée",
        "Le comité syndical prend acte du rapport d'activité, adressé au maire de chaque commune "
        "membre (article L.5211-39 du CGCT).",
    ),
    (
        "Renouvellement du marché de maintenance du logiciel de gestion du courrier",
        "Le comité syndical autorise le président à signer le marché et ses éventuels avenants.",
    ),
]


def _at(now: dt.datetime, days: int, hour: int) -> dt.datetime:
    local = timezone.localtime(now) + dt.timedelta(days=days)
    return local.replace(hour=hour, minute=0, second=0, microsecond=0)


def load_sittings(now: dt.datetime | None = None) -> None:
    now = now or timezone.now()
    staff = User.objects.filter(role=Role.OPERATOR_STAFF, is_active=True).order_by("pk").first()
    committee = Body.objects.filter(slug="comite-syndical").first()
    if staff is None or committee is None or Sitting.objects.filter(body=committee, place=PLACE).exists():
        return
    sitting = services.sitting_create(
        actor=staff, body=committee, data={"starts_at": _at(now, -21, 18), "place": PLACE, "kind": "ordinaire"}
    )
    for title, draft in ITEMS:
        services.agenda_item_add(
            actor=staff,
            sitting=sitting,
            data={"title": title, "rapporteur": "Pierre Alain Millet", "kind": "deliberation", "draft": draft},
        )
    sitting = services.sitting_convene(actor=staff, sitting=sitting, now=_at(now, -30, 10))
    members = list(sitting_members(sitting=sitting))
    # All present but two: one excused, one giving a proxy to the first member present.
    attendance: dict[int, tuple[str, int | None]] = {m.pk: (Attendance.PRESENT, None) for m in members}
    if len(members) >= 4:
        attendance[members[-1].pk] = (Attendance.EXCUSED, None)
        attendance[members[-2].pk] = (Attendance.REPRESENTED, members[0].pk)
    sitting = services.sitting_hold(actor=staff, sitting=sitting, attendance=attendance)
    voices = (sitting.present or 0) + (sitting.represented or 0)
    for n, item in enumerate(sitting.items.order_by("position")):
        abstaining = min(n, voices - 1)
        services.item_vote(
            actor=staff,
            item=item,
            votes_for=voices - abstaining,
            votes_against=0,
            abstentions=abstaining,
            not_voting=0,
        )
    services.sitting_close(
        actor=staff,
        sitting=sitting,
        minutes=(
            "Le président ouvre la séance à 18 h, constate le quorum et désigne le secrétaire de séance. "
            "Le comité syndical prend acte du rapport d'activité et autorise le renouvellement du marché "
            "de maintenance du logiciel de gestion du courrier. La séance est levée à 19 h 30."
        ),
    )
    if not Delegation.objects.filter(delegate=Delegate.BUREAU).exists():
        eu = thresholds_in_force(on=timezone.localdate(now)).get(ThresholdKind.EU_SUPPLIES_SERVICES)
        services.delegation_create(
            actor=staff,
            data={
                "delegate": Delegate.BUREAU,
                "scope": (
                    "Préparation, passation, exécution et règlement des marchés de travaux, de fournitures "
                    "et de services, et leurs avenants, d'un montant inférieur aux seuils européens"
                ),
                "deliberation_reference": "comité syndical du 05/07/2020",
                "threshold_ht": eu.amount_ht if eu is not None else Decimal("216000"),
                "valid_from": dt.date(2020, 7, 5),
            },
        )
