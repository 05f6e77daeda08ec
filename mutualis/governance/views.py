"""The governance page: bodies and their current members; operator staff seat and unseat people."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from mutualis.accounts.requests import signed_in
from mutualis.core.forms import add_service_errors
from mutualis.core.tenancy import is_operator, require_operator_staff
from mutualis.governance import services
from mutualis.governance.forms import MandateEndForm, MandateForm
from mutualis.governance.models import Mandate
from mutualis.governance.selectors import body_list_with_current_mandates
from mutualis.members import selectors as members_selectors


@login_required
def governance_index(request: HttpRequest) -> HttpResponse:
    bodies = list(body_list_with_current_mandates())
    member_count = members_selectors.member_count()
    leaders = {m.commission_led_id: m.person for b in bodies for m in b.current_mandates if m.commission_led_id}  # type: ignore[attr-defined]
    for body in bodies:
        body.leader = leaders.get(body.pk)  # type: ignore[attr-defined]
        if body.titular_seats_per_member:
            body.seats_total = body.titular_seats_per_member * member_count  # type: ignore[attr-defined]
    can_write = is_operator(request.user) and not signed_in(request).is_read_only
    return render(
        request,
        "governance/index.html",
        {
            "bodies": bodies,
            "can_write": can_write,
            "form": MandateForm() if can_write else None,
            "today": timezone.localdate(),
        },
    )


@login_required
def mandate_create(request: HttpRequest) -> HttpResponse:
    require_operator_staff(request.user)
    form = MandateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "person_name"}
        try:
            services.mandate_appoint(actor=signed_in(request), person_name=form.cleaned_data["person_name"], data=data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Mandat enregistré."))
            return redirect("governance:index")
    return render(request, "governance/form.html", {"form": form, "title": _("Nouveau mandat")})


@login_required
@require_POST
def mandate_end(request: HttpRequest, pk: int) -> HttpResponse:
    require_operator_staff(request.user)
    mandate = get_object_or_404(Mandate, pk=pk)
    form = MandateEndForm(request.POST)
    if form.is_valid():
        try:
            services.mandate_end(actor=signed_in(request), mandate=mandate, end_on=form.cleaned_data["end_on"])
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("Mandat clos."))
    else:
        messages.error(request, _("Date de fin invalide."))
    return redirect("governance:index")
