"""What operator admins watch over the helpdesk's mail and background work: the inbound messages the
mailbox refused and why, the notifications that gave up and the jobs that failed, run again from
here. Both pages are reached from the configuration index; the selectors refuse anyone else."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from mutualis.accounts.requests import signed_in
from mutualis.core import jobs
from mutualis.core.pagination import page_or_404
from mutualis.helpdesk import outbox
from mutualis.helpdesk.selectors import inbound_refused_list


@login_required
def notification_failures(request: HttpRequest) -> HttpResponse:
    page = Paginator(outbox.notification_failed_list(actor=signed_in(request)), 50).get_page(request.GET.get("page"))
    failed_jobs = jobs.job_failed_list(actor=request.user)[:50]
    return render(request, "helpdesk/notification_failures.html", {"page": page, "query": "", "jobs": failed_jobs})


@login_required
@require_POST
def notification_retry(request: HttpRequest, pk: int) -> HttpResponse:
    notification = outbox.notification_failed_list(actor=signed_in(request)).filter(pk=pk).first()
    if notification is None:
        raise Http404("notification introuvable")
    outbox.notification_retry(actor=signed_in(request), notification=notification)
    messages.success(
        request,
        _("La notification du ticket %(reference)s est remise en file d'envoi.")
        % {"reference": notification.ticket.reference},
    )
    return redirect("helpdesk:notification_failures")


@login_required
@require_POST
def job_retry(request: HttpRequest, job_id: str) -> HttpResponse:
    try:
        jobs.job_retry(actor=signed_in(request), job_id=job_id)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("La tâche est remise en file."))
    return redirect("helpdesk:notification_failures")


@login_required
def inbound_refused(request: HttpRequest) -> HttpResponse:
    page = page_or_404(Paginator(inbound_refused_list(user=signed_in(request)), 50), request.GET.get("page"))
    return render(request, "helpdesk/config/inbound_refused.html", {"page": page, "query": ""})
