"""A comité syndical of five voting members (and one substitute) and helpers to plan, convene and
hold its sittings through the services."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

import pytest
from django.utils.text import slugify

from mutualis.conftest import World
from mutualis.governance import services
from mutualis.governance.enums import Attendance
from mutualis.governance.models import Body, BodyKind, Mandate, MandateRole, Sitting
from mutualis.testing import factories as f

PARIS = zoneinfo.ZoneInfo("Europe/Paris")


def at(year: int, month: int, day: int, hour: int = 18) -> dt.datetime:
    return dt.datetime(year, month, day, hour, 0, tzinfo=PARIS)


@dataclass
class Committee:
    world: World
    body: Body
    members: list[Mandate]  # voting, by name: Anne, Bruno, Chloé, David, Emma
    substitute: Mandate

    def plan(self, starts_at: dt.datetime, *, items: int = 2, follows: Sitting | None = None) -> Sitting:
        sitting = services.sitting_create(
            actor=self.world.staff,
            body=self.body,
            data={"starts_at": starts_at, "place": "Salle du conseil"},
            follows=follows,
        )
        if follows is None:
            for n in range(items):
                services.agenda_item_add(
                    actor=self.world.staff,
                    sitting=sitting,
                    data={"title": f"Point {n + 1}", "rapporteur": "Anne Présidente", "draft": "Le comité…"},
                )
        return sitting

    def convened(self, starts_at: dt.datetime, **kwargs: object) -> Sitting:
        sitting = self.plan(starts_at, **kwargs)  # type: ignore[arg-type]
        return services.sitting_convene(actor=self.world.staff, sitting=sitting, now=starts_at - dt.timedelta(days=10))

    def everyone(self, status: str = Attendance.PRESENT) -> dict[int, tuple[str, int | None]]:
        return {m.pk: (status, None) for m in self.members}

    def held(self, starts_at: dt.datetime, **kwargs: object) -> Sitting:
        sitting = self.convened(starts_at, **kwargs)
        return services.sitting_hold(actor=self.world.staff, sitting=sitting, attendance=self.everyone())


@pytest.fixture
def committee(world: World) -> Committee:
    body = f.BodyFactory(slug="comite", name="Comité syndical", kind=BodyKind.COMMITTEE, position=1)
    start = dt.date(2020, 7, 15)
    roles = [
        MandateRole.PRESIDENT,
        MandateRole.VICE_PRESIDENT,
        MandateRole.TITULAR,
        MandateRole.TITULAR,
        MandateRole.TITULAR,
    ]
    names = ["Anne Présidente", "Bruno Vice", "Chloé Titulaire", "David Titulaire", "Emma Titulaire"]
    members = [
        f.MandateFactory(
            person=f.PersonFactory(slug=slugify(name), full_name=name, email=f"{name.split()[0].lower()}@example.org"),
            body=body,
            role=role,
            organisation=world.member_a if n % 2 == 0 else world.member_b,
            start_on=start,
        )
        for n, (name, role) in enumerate(zip(names, roles, strict=True))
    ]
    substitute = f.MandateFactory(
        person=f.PersonFactory(slug="sam-suppleant", full_name="Sam Suppléant"),
        body=body,
        role=MandateRole.SUBSTITUTE,
        organisation=world.member_a,
        start_on=start,
    )
    return Committee(world=world, body=body, members=members, substitute=substitute)
