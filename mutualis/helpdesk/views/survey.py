"""The satisfaction survey, answered by the ticket's requester from the closure mail's signed link,
without logging in."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy

from mutualis.core.forms import add_service_errors
from mutualis.helpdesk import services as ticket_services
from mutualis.helpdesk.enums import Status
from mutualis.helpdesk.survey import SurveyLinkError, survey_ticket


class SurveyForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=gettext_lazy("Votre satisfaction"),
        coerce=int,
        choices=[
            (1, gettext_lazy("1 — très insatisfait")),
            (2, gettext_lazy("2 — insatisfait")),
            (3, gettext_lazy("3 — moyennement satisfait")),
            (4, gettext_lazy("4 — satisfait")),
            (5, gettext_lazy("5 — très satisfait")),
        ],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=gettext_lazy("Commentaire (facultatif)"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )


SURVEY_ERRORS = {"expired": 410, "tampered": 400, "unknown": 400, "used": 409, "not_closed": 409}


def survey(request: HttpRequest, token: str) -> HttpResponse:
    try:
        ticket = survey_ticket(token)
    except SurveyLinkError as error:
        return _survey_problem(request, error.kind)
    if ticket.satisfaction_at is not None:
        return _survey_problem(request, "used", ticket=ticket)
    if ticket.status != Status.CLOSED:
        return _survey_problem(request, "not_closed", ticket=ticket)
    form = SurveyForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            ticket_services.satisfaction_record(
                ticket=ticket, rating=form.cleaned_data["rating"], comment=form.cleaned_data["comment"]
            )
        except ValidationError as error:
            if ticket.__class__.objects.filter(pk=ticket.pk, satisfaction_at__isnull=False).exists():
                return _survey_problem(request, "used", ticket=ticket)
            add_service_errors(form, error)
        else:
            return render(request, "helpdesk/survey_thanks.html", {"ticket": ticket})
    return render(request, "helpdesk/survey.html", {"ticket": ticket, "form": form})


def _survey_problem(request: HttpRequest, kind: str, *, ticket: Any = None) -> HttpResponse:
    return render(request, "helpdesk/survey_problem.html", {"kind": kind, "ticket": ticket}, status=SURVEY_ERRORS[kind])
