"""What members shows on pages it does not own (the home page's count of members) and the contacts
part of its member page, registered in MembersConfig.ready (core.panels)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from mutualis.accounts.requests import signed_in
from mutualis.core.panels import panel_register
from mutualis.members import services
from mutualis.members.forms import ContactForm
from mutualis.members.models import Organisation
from mutualis.members.selectors import collectivity_list


def home_card(request: HttpRequest) -> dict[str, Any]:
    members = collectivity_list(actor=signed_in(request)).filter(kind__in=["commune", "ccas", "epci", "syndicate"])
    return {"member_count": members.count()}


def member_contacts(request: HttpRequest, *, organisation: Organisation) -> dict[str, Any]:
    return {
        "organisation": organisation,
        "contacts": organisation.contacts.all(),
        "can_edit": services.can_edit_organisation(signed_in(request), organisation),
        "contact_form": ContactForm(),
    }


def register() -> None:
    panel_register("core.home.cards", order=10, template="members/panels/home_card.html", context=home_card)
    # between the subscriptions (catalog, 10) and the seats in the bodies (governance, 30)
    panel_register("members.detail", order=20, template="members/panels/contacts.html", context=member_contacts)
