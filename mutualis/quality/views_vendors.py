"""The vendor compliance page under /qualite/ (operator staff): per vendor, maintenance contract
and month, with its CSV and XLSX export. Thin: quality.vendor_clocks does the reading."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from mutualis.accounts.requests import signed_in
from mutualis.core.tenancy import require_operator_staff
from mutualis.lib.tabular import CSV_CONTENT_TYPE, PEOPLE, XLSX_CONTENT_TYPE, to_csv, to_xlsx
from mutualis.quality import selectors
from mutualis.quality.reports import month_label
from mutualis.quality.vendor_clocks import HEADER, export_rows, vendor_compliance
from mutualis.quality.views import _month


@login_required
def vendor_compliance_page(request: HttpRequest) -> HttpResponse:
    """Compliance of the vendors with their maintenance contracts' commitments over the trend's
    twelve months ending with ?month=AAAA-MM; ?format=csv|xlsx downloads the table. Vendor
    clocks are the operator's contract management: members get 404."""
    require_operator_staff(signed_in(request))
    last = _month(request)
    first = selectors.month_shift(last, -(selectors.TREND_MONTHS - 1))
    rows = vendor_compliance(first=first, last=last)
    export = request.GET.get("format")
    name = f"delais-editeurs-{first}-{last}"
    if export == "csv":
        response = HttpResponse(to_csv(HEADER, export_rows(rows), dialect=PEOPLE), content_type=CSV_CONTENT_TYPE)
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return response
    if export == "xlsx":
        response = HttpResponse(
            to_xlsx(HEADER, export_rows(rows), title=_("Délais des éditeurs")), content_type=XLSX_CONTENT_TYPE
        )
        response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
        return response
    context = {
        "rows": rows,
        # Medians and percentiles do not add up month to month: the period's own grouped query.
        "totals": vendor_compliance(first=first, last=last, by_month=False),
        "first_label": month_label(first),
        "last_label": month_label(last),
        "month_value": str(last),
    }
    return render(request, "quality/vendors.html", context)
