"""Forms of the knowledge base: the search box and its filters, an article's edit form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from mutualis.catalog.models import Application
from mutualis.helpdesk.models import Category
from mutualis.knowledge.models import Article


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Rechercher"), required=False, max_length=200)
    application = forms.ModelChoiceField(
        label=_("Application"), queryset=Application.objects.none(), required=False, empty_label=_("Toutes")
    )
    category = forms.ModelChoiceField(
        label=_("Catégorie"), queryset=Category.objects.none(), required=False, empty_label=_("Toutes")
    )

    def __init__(self, *args: Any, applications: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["application"].queryset = applications  # type: ignore[attr-defined]
        self.fields["category"].queryset = Category.objects.all()  # type: ignore[attr-defined]


class ArticleForm(forms.ModelForm):
    class Meta:
        model = Article
        fields = ["title", "application", "category", "audience", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 18})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["application"].queryset = Application.objects.order_by("name")  # type: ignore[attr-defined]
        self.fields["application"].empty_label = _("Aucune (article général)")  # type: ignore[attr-defined]
        self.fields["category"].empty_label = _("Aucune")  # type: ignore[attr-defined]

    def _post_clean(self) -> None:
        # The service validates (and builds the slug); the form only reads the fields.
        pass
