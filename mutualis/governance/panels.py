"""What governance shows on a member's page (its seats in the bodies), registered in
GovernanceConfig.ready (core.panels)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from mutualis.core.panels import panel_register
from mutualis.governance.selectors import mandates_of_organisation
from mutualis.members.models import Organisation


def member_mandates(request: HttpRequest, *, organisation: Organisation) -> dict[str, Any]:
    return {"mandates": mandates_of_organisation(organisation_id=organisation.pk)}


def register() -> None:
    panel_register(
        "members.detail", order=30, template="governance/panels/member_mandates.html", context=member_mandates
    )
