"""The personal-data pages: operator admins set the retention rules, look a person up, export and
erase their data and read the register of requests; a member's manager looks up and exports the
data of its own organisation's people. Everyone else gets 404."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from mutualis.accounts.requests import signed_in
from mutualis.core.pagination import page_or_404
from mutualis.core.tenancy import require_operator_admin
from mutualis.privacy.export import SECTION_LABELS, count_rows, export_sections
from mutualis.privacy.forms import EraseForm, RetentionRuleForm, SearchForm
from mutualis.privacy.selectors import (
    privacy_request_list,
    require_looker,
    retention_rule_list,
    subject_contacts,
    subject_counts,
    subject_get,
    subject_persons,
    subject_search,
)
from mutualis.privacy.services import erasure_refusals, retention_rule_update, subject_erase, subject_export


@login_required
def index(request: HttpRequest) -> HttpResponse:
    actor = signed_in(request)
    require_looker(actor)
    rules = list(retention_rule_list(actor=actor)) if actor.is_operator_admin else []
    rule_forms = [
        (rule, RetentionRuleForm(initial={"months": rule.months, "enabled": rule.enabled}, prefix=rule.kind))
        for rule in rules
    ]
    form = SearchForm(request.GET or None)
    users, agents = subject_search(actor=actor, query=form.cleaned_data["q"]) if form.is_valid() else ([], [])
    context = {"rule_forms": rule_forms, "form": form, "users": users, "agents": agents, "searched": form.is_bound}
    return render(request, "privacy/index.html", context)


@login_required
@require_POST
def rule_edit(request: HttpRequest, kind: str) -> HttpResponse:
    actor = signed_in(request)
    rule = retention_rule_list(actor=actor).filter(kind=kind).first()
    if rule is None:
        raise Http404("règle inconnue")
    form = RetentionRuleForm(request.POST, prefix=kind)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, f"{rule.get_kind_display()} : {error}")
        return redirect("privacy:index")
    changes = retention_rule_update(
        actor=actor, rule=rule, months=form.cleaned_data["months"], enabled=form.cleaned_data["enabled"]
    )
    if changes:
        messages.success(request, _("Règle « %(rule)s » enregistrée.") % {"rule": rule.get_kind_display()})
    return redirect("privacy:index")


@login_required
def subject(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    actor = signed_in(request)
    person = subject_get(actor=actor, kind=kind, pk=pk)
    counts = [(SECTION_LABELS.get(key, key), n) for key, n in subject_counts(person).items()]
    refusals = erasure_refusals(actor=actor, subject=person) if actor.is_operator_admin else []
    return render(request, "privacy/subject.html", {"person": person, "counts": counts, "refusals": refusals})


@login_required
@require_POST
def export(request: HttpRequest, kind: str, pk: int, fmt: str) -> HttpResponse:
    if fmt not in {"json", "html", "pdf"}:
        raise Http404("format inconnu")
    actor = signed_in(request)
    person = subject_get(actor=actor, kind=kind, pk=pk)
    data, recorded = subject_export(actor=actor, subject=person)
    name = f"donnees-personnelles-{recorded.subject_label.lower()}"
    if fmt == "json":
        body = json.dumps(data, ensure_ascii=False, indent=2, cls=DjangoJSONEncoder)
        response = HttpResponse(body, content_type="application/json; charset=utf-8")
    else:
        html = render_to_string("privacy/export.html", {"sections": export_sections(data), "data": data})
        if fmt == "pdf":
            from weasyprint import HTML  # heavy to import: only when a PDF is asked

            response = HttpResponse(HTML(string=html).write_pdf(), content_type="application/pdf")
        else:
            response = HttpResponse(html, content_type="text/html; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


@login_required
def erase(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    actor = signed_in(request)
    require_operator_admin(actor)
    person = subject_get(actor=actor, kind=kind, pk=pk)
    form = EraseForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            done = subject_erase(actor=actor, subject=person)
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(
                request,
                _(
                    "Données effacées : la personne apparaît désormais sous le pseudonyme %(label)s "
                    "(%(entries)d entrée(s) du journal réécrite(s))."
                )
                % {"label": done.subject_label, "entries": done.counts.get("audit_entries", 0)},
            )
            return redirect("privacy:requests")
    refusals = erasure_refusals(actor=actor, subject=person)
    context = {
        "person": person,
        "form": form,
        "refusals": refusals,
        "contacts": list(subject_contacts(person).select_related("organisation")),
        "persons": list(subject_persons(person)),
    }
    return render(request, "privacy/erase.html", context)


@login_required
def request_list(request: HttpRequest) -> HttpResponse:
    actor = signed_in(request)
    page = page_or_404(Paginator(privacy_request_list(actor=actor), 50), request.GET.get("page"))
    rows = [(entry, count_rows(entry.counts)) for entry in page]
    return render(request, "privacy/requests.html", {"page": page, "rows": rows, "query": ""})
