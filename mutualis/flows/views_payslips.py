"""Pages of the payslips (a member's batches, a batch's payslips and those not matched) and the secure
mail's public receipt page (no account: the link's token is the key)."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from mutualis.accounts.throttle import client_ip
from mutualis.core.forms import add_service_errors
from mutualis.core.pagination import page_or_404
from mutualis.core.widgets import MONTH_INPUT_FORMATS, MonthInput
from mutualis.flows import mailsec, payslips, selectors
from mutualis.flows.enums import FlowType
from mutualis.flows.mailsec_models import MailState
from mutualis.flows.payslip_models import Payslip, PayslipBatch
from mutualis.flows.rights import may_see_flow

PAGE_SIZE = 100


class BatchForm(forms.Form):
    period = forms.DateField(
        label=gettext_lazy("Mois de paie"),
        widget=MonthInput(),
        input_formats=MONTH_INPUT_FORMATS,
    )
    source = forms.FileField(
        label=gettext_lazy("Fichier de paie"),
        help_text=gettext_lazy(
            "Un PDF de paie (un bulletin par agent, le matricule imprimé sur chaque bulletin) ou un ZIP de PDF "
            "nommés par matricule."
        ),
    )


@login_required
def batch_list(request: HttpRequest, slug: str) -> HttpResponse:
    member = selectors.member_get(request.user, slug)
    if not may_see_flow(request.user, FlowType.PAYSLIP):
        raise Http404(_("page introuvable"))
    form = BatchForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            batch = payslips.payslip_batch_create(
                actor=request.user,  # type: ignore[arg-type]
                member=member,
                period=form.cleaned_data["period"],
                upload=form.cleaned_data["source"],
            )
        except PermissionDenied:
            raise Http404(_("page introuvable")) from None
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Fichier déposé : les bulletins sont découpés et envoyés."))
            return redirect("flows:payslip_batch", batch.pk)
    batches = PayslipBatch.objects.visible_to(request.user).filter(member=member)
    return render(request, "flows/payslips/batch_list.html", {"member": member, "form": form, "batches": batches})


@login_required
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    batch = PayslipBatch.objects.visible_to(request.user).select_related("member").filter(pk=pk).first()
    if batch is None:  # another member's, or not a manager of the payslips: as if it did not exist
        raise Http404(_("lot introuvable"))
    rows = Payslip.objects.visible_to(request.user).filter(batch=batch)
    states = dict(
        rows.filter(document__isnull=False)
        .values_list("document__state")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("document__state", "n")
    )
    unmatched = rows.filter(document__isnull=True).order_by("position")
    page = page_or_404(
        Paginator(
            rows.filter(document__isnull=False).select_related("document", "agent").order_by("position"), PAGE_SIZE
        ),
        request.GET.get("page"),
    )
    from mutualis.flows.enums import State

    return render(
        request,
        "flows/payslips/batch_detail.html",
        {
            "batch": batch,
            "states": [(State(s).label, n) for s, n in sorted(states.items())],
            "unmatched": unmatched,
            "page": page,
            "month": payslips.month_label(batch.period),
        },
    )


# --- the public receipt page ------------------------------------------------------------------------


def mailsec_receipt(request: HttpRequest, token: str) -> HttpResponse:
    """Who sent what, and a download button: opening the page records nothing (mail scanners open links)."""
    mail = mailsec.secure_mail_by_token(token)
    if mail is None or mail.state in {MailState.NEW, MailState.SENDING, MailState.UNCERTAIN}:
        raise Http404(_("lien inconnu"))
    response = render(
        request,
        "flows/mailsec/receipt.html",
        {"mail": mail, "withdrawn": mail.state == MailState.WITHDRAWN, "token": token},
        status=410 if mail.state == MailState.WITHDRAWN else 200,
    )
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "no-store"
    return response


@require_POST
def mailsec_download(request: HttpRequest, token: str) -> FileResponse:
    """The file; the first download records the receipt."""
    mail = mailsec.secure_mail_by_token(token)
    if mail is None or mail.state not in {MailState.SENT, MailState.RECEIVED, MailState.NOT_RECEIVED}:
        raise Http404(_("lien inconnu"))
    mailsec.secure_mail_receipt_record(mail=mail, ip=client_ip(request), now=dt.datetime.now(dt.UTC))
    response = FileResponse(mail.file.open("rb"), as_attachment=True, filename=mail.file_name)
    response["Cache-Control"] = "no-store"
    return response
