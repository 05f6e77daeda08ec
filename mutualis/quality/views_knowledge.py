"""The knowledge base's figures under /qualite/connaissances/: deflected requests next to the
tickets filed, and the most read articles with their votes. Operator staff see every member; a
member's managers and elected officials their own collectivity. Thin: knowledge_figures reads."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from mutualis.accounts.requests import signed_in
from mutualis.core.tenancy import is_operator
from mutualis.quality import selectors
from mutualis.quality.knowledge_figures import deflection_by_month, deflection_totals, most_read_articles
from mutualis.quality.reports import month_label
from mutualis.quality.views import _month


@login_required
def knowledge_page(request: HttpRequest) -> HttpResponse:
    user = signed_in(request)
    if not is_operator(user) and not (user.organisation and selectors.can_see_member(user, user.organisation)):
        raise Http404("page réservée")
    last = _month(request)
    first = selectors.month_shift(last, -(selectors.TREND_MONTHS - 1))
    rows = deflection_by_month(actor=user, first=first, last=last)
    context = {
        "rows": [(month_label(row.month), row) for row in rows],
        "total": deflection_totals(rows),
        "articles": most_read_articles(actor=user),
        "first_label": month_label(first),
        "last_label": month_label(last),
        "month_value": str(last),
    }
    return render(request, "quality/knowledge.html", context)
