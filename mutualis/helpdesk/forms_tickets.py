"""Forms of the ticket pages (member and staff). They only shape input: the services decide."""

from __future__ import annotations

from typing import Any, TypeVar

from django import forms
from django.conf import settings
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from mutualis.accounts.models import OPERATOR_ROLES, User
from mutualis.catalog.models import Application
from mutualis.catalog.selectors import applications_subscribed
from mutualis.core.widgets import DateInput
from mutualis.helpdesk.enums import OWN_SERVICE_ACTIONS, Action, PendingReason, Status, TicketType
from mutualis.helpdesk.models import Category
from mutualis.helpdesk.selectors import QUEUE_VIEWS
from mutualis.members.models import OperatorService, Organisation

VIEW_LABELS = {
    "open": _("ouverts"),
    "mine": _("mes tickets"),
    "my_group": _("mon groupe"),
    "unassigned": _("non attribués"),
    "at_risk": _("délai menacé"),
    "breached": _("délai dépassé"),
    "all": _("tous"),
}
assert set(VIEW_LABELS) == set(QUEUE_VIEWS)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; the size and type limits are the service's (check_upload)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        files = data if isinstance(data, list | tuple) else [data] if data else []
        return [super(MultipleFileField, self).clean(item, initial) for item in files]


def _attachments_help() -> str:
    return _("%(mb)d Mo au plus par fichier ; les exécutables sont refusés.") % {
        "mb": settings.HELPDESK_MAX_ATTACHMENT_BYTES // (1024 * 1024)
    }


_F = TypeVar("_F", bound=forms.Field)


def _field(form: forms.BaseForm, name: str, kind: type[_F]) -> _F:
    """`form.fields[name]` as the field class the form declares (mypy only sees `Field`)."""
    field = form.fields[name]
    if not isinstance(field, kind):
        raise TypeError(f"{type(form).__name__}.{name} is a {type(field).__name__}, not a {kind.__name__}")
    return field


def _blank(choices: Any, label: Any = None) -> list[tuple[str, Any]]:
    label = _("tous") if label is None else label
    return [("", label), *choices]


class MemberFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Statut"), required=False)
    ticket_type = forms.ChoiceField(label=_("Type"), required=False)
    application = forms.ChoiceField(label=_("Application"), required=False)

    def __init__(self, *args: Any, applications: QuerySet[Application], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _field(self, "status", forms.ChoiceField).choices = _blank(Status.choices)
        _field(self, "ticket_type", forms.ChoiceField).choices = _blank(TicketType.choices)
        _field(self, "application", forms.ChoiceField).choices = _blank(
            applications.values_list("slug", "name"), _("toutes")
        )


class QueueFilterForm(MemberFilterForm):
    view = forms.ChoiceField(label=_("Vue"), required=False, choices=list(VIEW_LABELS.items()))
    collectivity = forms.ChoiceField(label=_("Collectivité"), required=False)
    priority = forms.TypedChoiceField(
        label=_("Priorité"), required=False, coerce=int, empty_value=None,
        choices=_blank([(n, str(n)) for n in range(6, 0, -1)], _("toutes")),  # 6: GLPI « majeure »
    )  # fmt: skip
    search = forms.CharField(label=_("Recherche"), required=False, max_length=100,
                             help_text=_("référence ou titre"))  # fmt: skip

    field_order = ["view", "search", "collectivity", "application", "priority", "status", "ticket_type"]

    def __init__(self, *args: Any, organisations: QuerySet[Organisation], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _field(self, "collectivity", forms.ChoiceField).choices = _blank(
            organisations.values_list("slug", "name"), _("toutes")
        )


class FollowupForm(forms.Form):
    body = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 6}),
                           help_text=_("Mise en forme Markdown : **gras**, *italique*, listes, liens."))  # fmt: skip
    attachments = MultipleFileField(label=_("Pièces jointes"))

    def __init__(self, *args: Any, staff: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["attachments"].help_text = _attachments_help()
        if staff:
            self.fields["is_private"] = forms.BooleanField(
                label=_("Note privée (invisible pour la collectivité)"), required=False
            )


class AttachmentForm(forms.Form):
    attachments = MultipleFileField(label=_("Fichiers"), required=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["attachments"].help_text = _attachments_help()


class RefuseForm(forms.Form):
    comment = forms.CharField(label=_("Pourquoi la solution ne convient-elle pas ?"),
                              widget=forms.Textarea(attrs={"rows": 4}))  # fmt: skip


class LinkedTicketForm(forms.Form):
    title = forms.CharField(label=_("Titre"), max_length=250)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 8}),
                                  help_text=_("Mise en forme Markdown."))  # fmt: skip


def staff_choices() -> QuerySet[User]:
    return User.objects.filter(role__in=OPERATOR_ROLES, is_active=True).order_by("last_name", "username")


class AssignForm(forms.Form):
    group = forms.ModelChoiceField(label=_("Groupe"), queryset=OperatorService.objects.none(), required=False)
    technician = forms.ModelChoiceField(label=_("Technicien"), queryset=User.objects.none(), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _field(self, "group", forms.ModelChoiceField).queryset = OperatorService.objects.all()
        _field(self, "technician", forms.ModelChoiceField).queryset = staff_choices()
        # Django's documented per-instance override of the option label; the stubs type it as a method.
        _field(self, "technician", forms.ModelChoiceField).label_from_instance = lambda user: user.display_name  # type: ignore[method-assign,assignment]


# The status changes a form offers: a merge has its own form (MergeForm).
STATUS_ACTIONS = [(value, label) for value, label in Action.choices if value not in OWN_SERVICE_ACTIONS]


class TransitionForm(forms.Form):
    action = forms.ChoiceField(label=_("Action"), choices=STATUS_ACTIONS)
    pending_reason = forms.ChoiceField(
        label=_("Motif d'attente"), required=False, choices=_blank(PendingReason.choices, "—"),
        help_text=_("obligatoire pour mettre en attente"),
    )  # fmt: skip
    comment = forms.CharField(label=_("Commentaire"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
                              help_text=_("obligatoire pour résoudre : c'est la solution proposée"))  # fmt: skip
    is_private = forms.BooleanField(
        label=_("Commentaire privé (invisible pour la collectivité)"), required=False,
        help_text=_("pas pour une solution, adressée au demandeur"),
    )  # fmt: skip

    def __init__(self, *args: Any, actions: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if actions is not None:
            _field(self, "action", forms.ChoiceField).choices = [(a, Action(a).label) for a in actions]


class TaskForm(forms.Form):
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 3}))
    minutes = forms.IntegerField(label=_("Durée (minutes)"), min_value=1, max_value=24 * 60)
    done_on = forms.DateField(label=_("Réalisée le"), required=False, widget=DateInput())


class RequalifyForm(forms.Form):
    title = forms.CharField(label=_("Titre"), max_length=250)
    ticket_type = forms.ChoiceField(label=_("Type"), choices=TicketType.choices)
    application = forms.ModelChoiceField(label=_("Application"), queryset=Application.objects.none(), required=False)
    category = forms.ModelChoiceField(label=_("Catégorie"), queryset=Category.objects.none(), required=False)
    urgency = forms.TypedChoiceField(label=_("Urgence"), coerce=int, choices=[(n, str(n)) for n in range(1, 6)])
    impact = forms.TypedChoiceField(label=_("Impact"), coerce=int, choices=[(n, str(n)) for n in range(1, 6)])
    blocking = forms.BooleanField(label=_("Bloquant"), required=False)
    vendor_reference = forms.CharField(label=_("Référence chez l'éditeur"), max_length=100, required=False)

    def __init__(self, *args: Any, ticket: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The applications the ticket's collectivity subscribes to (the service refuses others),
        # and the ticket's own even if no longer subscribed, so requalifying keeps it.
        subscribed = applications_subscribed(collectivity_id=ticket.collectivity_id)
        current = Application.objects.filter(pk=ticket.application_id)
        _field(self, "application", forms.ModelChoiceField).queryset = Application.objects.filter(
            pk__in=[*subscribed.values_list("pk", flat=True), *current.values_list("pk", flat=True)]
        ).order_by("name")
        _field(self, "category", forms.ModelChoiceField).queryset = Category.objects.all()


class MergeForm(forms.Form):
    into = forms.CharField(label=_("Fusionner ce ticket dans le ticket n°"), max_length=16,
                           help_text=_("référence du ticket conservé, par exemple 2026-000123"))  # fmt: skip


class SavedViewForm(forms.Form):
    name = forms.CharField(label=_("Nom de la vue"), max_length=100)
    query = forms.CharField(widget=forms.HiddenInput, required=False, max_length=500)


class AnswerTemplateForm(forms.Form):
    """A plain form: a ModelForm would write into the instance before the service sees it."""

    name = forms.CharField(label=_("Nom"), max_length=150)
    body = forms.CharField(label=_("Texte"), widget=forms.Textarea(attrs={"rows": 10}),
                           help_text=_("Mise en forme Markdown."))  # fmt: skip


class BulkForm(forms.Form):
    OPERATIONS = [("assign", _("Attribuer")), ("status", _("Changer le statut"))]
    tickets = forms.MultipleChoiceField(label=_("Tickets"), choices=[])
    operation = forms.ChoiceField(label=_("Opération"), choices=OPERATIONS)
    group = forms.ModelChoiceField(label=_("Groupe"), queryset=OperatorService.objects.none(), required=False)
    technician = forms.ModelChoiceField(label=_("Technicien"), queryset=User.objects.none(), required=False)
    action = forms.ChoiceField(label=_("Action"), choices=_blank(STATUS_ACTIONS, "—"), required=False)
    pending_reason = forms.ChoiceField(label=_("Motif d'attente"), required=False,
                                       choices=_blank(PendingReason.choices, "—"))  # fmt: skip
    comment = forms.CharField(label=_("Commentaire"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _field(self, "group", forms.ModelChoiceField).queryset = OperatorService.objects.all()
        _field(self, "technician", forms.ModelChoiceField).queryset = staff_choices()
        # Django's documented per-instance override of the option label; the stubs type it as a method.
        _field(self, "technician", forms.ModelChoiceField).label_from_instance = lambda user: user.display_name  # type: ignore[method-assign,assignment]
        # Any reference is accepted here; each is looked up through the selectors afterwards
        # (a per-instance override the stubs reject, typing valid_value as a method).
        _field(self, "tickets", forms.MultipleChoiceField).valid_value = lambda value: bool(value)  # type: ignore[method-assign]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data is None:  # Form.clean returns cleaned_data; None would only come from an override
            data = self.cleaned_data
        if data.get("operation") == "assign" and not (data.get("group") or data.get("technician")):
            self.add_error("group", _("choisissez un groupe ou un technicien"))
        if data.get("operation") == "status" and not data.get("action"):
            self.add_error("action", _("choisissez l'action à appliquer"))
        return data
