"""The governance page: bodies and their current members."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from mutualis.governance.selectors import body_list_with_current_mandates
from mutualis.members.models import Organisation


@login_required
def governance_index(request: HttpRequest) -> HttpResponse:
    bodies = list(body_list_with_current_mandates())
    member_count = Organisation.objects.members().count()
    for body in bodies:
        if body.titular_seats_per_member:
            body.seats_total = body.titular_seats_per_member * member_count  # type: ignore[attr-defined]
    leaders = {m.commission_led_id: m.person for b in bodies for m in b.current_mandates if m.commission_led_id}  # type: ignore[attr-defined]
    for body in bodies:
        body.leader = leaders.get(body.pk)  # type: ignore[attr-defined]
    return render(request, "governance/index.html", {"bodies": bodies})
