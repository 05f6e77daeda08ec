"""Home page and the audit log. The home page's parts come from the apps above (core.panels):
first what the account's role needs today (`core.home.role`: the helpdesk's requests and queue,
quality's indicators and reports, each panel with its role predicate), then the cards (members
shows its count, catalog its applications and subscriptions) and the sections (notices, the
service commitments)."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from mutualis.core.audit import organisation_model
from mutualis.core.models import AuditAction
from mutualis.core.pagination import page_or_404
from mutualis.core.panels import panels_render
from mutualis.core.selectors import audit_change_rows, audit_entry_list
from mutualis.core.widgets import DateInput


@login_required
def home(request: HttpRequest) -> HttpResponse:
    context = {
        "role_panels": panels_render("core.home.role", request),
        "cards": panels_render("core.home.cards", request),
        "sections": panels_render("core.home.sections", request),
    }
    return render(request, "core/home.html", context)


def _type_label(ct: ContentType) -> str:
    """A content type's French name, or its model name if the model is gone."""
    model = ct.model_class()
    return str(model._meta.verbose_name) if model is not None else ct.model


class AuditFilterForm(forms.Form):
    who = forms.CharField(label=_("Auteur"), required=False)
    action = forms.ChoiceField(label=_("Action"), required=False, choices=[("", "—"), *AuditAction.choices])
    model = forms.ChoiceField(label=_("Type d'objet"), required=False)
    organisation = forms.ChoiceField(label=_("Organisation"), required=False)
    since = forms.DateField(label=_("Du"), required=False, widget=DateInput())
    until = forms.DateField(label=_("Au"), required=False, widget=DateInput())

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        types = ContentType.objects.filter(app_label__in=["members", "catalog", "governance", "accounts", "core"])
        self.fields["model"].choices = [("", "—")] + [  # type: ignore[attr-defined]
            (f"{ct.app_label}.{ct.model}", _type_label(ct)) for ct in types.order_by("app_label", "model")
        ]
        organisations = organisation_model()._default_manager.order_by("name").values_list("slug", "name")
        self.fields["organisation"].choices = [("", "—"), *organisations]  # type: ignore[attr-defined]


@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    entries = audit_entry_list(actor=request.user, **{k: v for k, v in filters.items() if v})
    page = page_or_404(Paginator(entries, 50), request.GET.get("page"))
    for entry in page:
        entry.change_rows = audit_change_rows(entry)
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "core/audit.html", {"form": form, "page": page, "query": query.urlencode()})
