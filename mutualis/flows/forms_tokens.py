"""The form that creates a flow token: its name, its flow, the member's account it acts as.

The form only reads the fields; services.flow_token_create checks them and its messages are shown
next to their field, so the command and the page refuse the same things in the same words."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from mutualis.accounts.models import User
from mutualis.flows.enums import FlowType


class AccountChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        """« Jeanne Martin (jmartin) — agent adhérent », or the login alone when the account has no name."""
        name = obj.get_full_name()
        who = f"{name} ({obj.username})" if name else obj.username
        return f"{who} — {obj.get_role_display()}"


class FlowTokenForm(forms.Form):
    name = forms.CharField(
        label=_("Nom du jeton"),
        max_length=100,
        help_text=_("L'application qui l'utilisera : « Logiciel d'actes », « Logiciel financier »…"),
        error_messages={
            "required": _("Donnez un nom au jeton : l'application qui l'utilisera."),
            "max_length": _("Le nom fait %(show_value)d caractères : %(limit_value)d au plus."),
        },
    )
    flow = forms.ChoiceField(
        label=_("Flux"),
        choices=FlowType.choices,
        error_messages={
            "required": _("Choisissez le flux dans lequel l'application déposera."),
            "invalid_choice": _("Flux inconnu : « %(value)s »."),
        },
    )
    user = AccountChoiceField(
        label=_("Compte de service"),
        queryset=User.objects.none(),
        empty_label=_("— choisir un compte —"),
        help_text=_(
            "Le compte de l'adhérent au nom duquel l'application dépose : le journal d'audit le nomme. "
            "Seuls les comptes actifs de l'adhérent pouvant déposer sont proposés."
        ),
        error_messages={
            "required": _("Choisissez le compte de service de l'adhérent."),
            "invalid_choice": _("Ce compte n'est pas un compte actif de l'adhérent : choisissez-en un dans la liste."),
        },
    )

    def __init__(self, *args: Any, accounts: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["user"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = accounts
