"""The helpdesk mailbox seen by operator admins: the messages it refused and why."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from mutualis.core.pagination import page_or_404
from mutualis.helpdesk.selectors import inbound_refused_list


@login_required
def inbound_refused(request: HttpRequest) -> HttpResponse:
    page = page_or_404(Paginator(inbound_refused_list(user=request.user), 50), request.GET.get("page"))
    return render(request, "helpdesk/config/inbound_refused.html", {"page": page, "query": ""})
