"""The failed notifications page: operator admins see the mail that gave up and send it again."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from mutualis.helpdesk import outbox


@login_required
def notification_failures(request: HttpRequest) -> HttpResponse:
    page = Paginator(outbox.notification_failed_list(actor=request.user), 50).get_page(request.GET.get("page"))
    return render(request, "helpdesk/notification_failures.html", {"page": page, "query": ""})


@login_required
@require_POST
def notification_retry(request: HttpRequest, pk: int) -> HttpResponse:
    notification = outbox.notification_failed_list(actor=request.user).filter(pk=pk).first()
    if notification is None:
        raise Http404("notification introuvable")
    outbox.notification_retry(actor=request.user, notification=notification)
    messages.success(
        request,
        _("La notification du ticket %(reference)s est remise en file d'envoi.")
        % {"reference": notification.ticket.reference},
    )
    return redirect("helpdesk:notification_failures")
