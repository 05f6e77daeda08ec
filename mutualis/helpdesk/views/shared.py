"""What every helpdesk page shares, whoever reads it: a service's refusal as messages, the form
renderer that builds plain widgets in Python, the capped paginator of long ticket lists, and the
ticket's URL."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.forms import BaseForm
from django.forms.renderers import DjangoTemplates
from django.http import HttpRequest
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.functional import cached_property
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

from mutualis.core.pagination import page_or_404
from mutualis.helpdesk.models import Ticket

PAGE_SIZE = 50


def errors_of(error: ValidationError) -> list[str]:
    """A service's ValidationError as sentences for messages.error."""
    if hasattr(error, "error_dict"):
        return [m for items in error.error_dict.values() for item in items for m in item.messages]
    return list(error.messages)


def report(request: HttpRequest, error: ValidationError) -> None:
    for message in errors_of(error):
        messages.error(request, message)


# -- widgets rendered in Python ----------------------------------------------------------------
# The queue's filter and bulk forms hold selects of every collectivity and technician: rendering
# each <option> through Django's widget templates cost about half of the page. The renderer below
# builds the same markup, byte for byte, for the plain widgets (input, textarea, select, option)
# and hands anything else to Django's templates.
def _attrs(attrs: dict[str, Any]) -> str:
    return "".join(
        f" {conditional_escape(name)}"
        if value is True
        else f' {conditional_escape(name)}="{conditional_escape(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


def _input(widget: dict[str, Any]) -> str:
    value = "" if widget["value"] is None else f' value="{conditional_escape(widget["value"])}"'
    kind, name = conditional_escape(widget["type"]), conditional_escape(widget["name"])
    return f'<input type="{kind}" name="{name}"{value}{_attrs(widget["attrs"])}>\n'


def _textarea(widget: dict[str, Any]) -> str:
    value = conditional_escape(widget["value"]) if widget["value"] else ""
    return f'<textarea name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>\n{value}</textarea>\n'


def _option(widget: dict[str, Any]) -> str:
    value, label = conditional_escape(widget["value"]), conditional_escape(widget["label"])
    return f'<option value="{value}"{_attrs(widget["attrs"])}>{label}</option>\n'


def _select(widget: dict[str, Any]) -> str | None:
    parts = [f'<select name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, options, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{conditional_escape(group_name)}">')
        for option in options:
            if option["template_name"] != OPTION_TEMPLATE:
                return None
            parts.append(f"\n  {_option(option)}")
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>\n")
    return "".join(parts)


OPTION_TEMPLATE = "django/forms/widgets/select_option.html"
_PLAIN_WIDGETS = {
    "django/forms/widgets/select.html": _select,
    OPTION_TEMPLATE: _option,
    "django/forms/widgets/textarea.html": _textarea,
    **{
        f"django/forms/widgets/{kind}.html": _input
        for kind in ("input", "text", "email", "number", "url", "password", "hidden", "date", "checkbox")
    },
}


class PlainWidgets(DjangoTemplates):
    """Django's form renderer, with the plain widgets built in Python (same output)."""

    def render(self, template_name: str, context: dict[str, Any], request: HttpRequest | None = None) -> str:
        build = _PLAIN_WIDGETS.get(template_name)
        html = build(context["widget"]) if build is not None and "widget" in context else None
        if html is None:
            return super().render(template_name, context, request)
        return mark_safe(html.strip())  # noqa: S308 — every piece is escaped above (stripped as Django does)


PLAIN_WIDGETS = PlainWidgets()


def with_plain_widgets(context: dict[str, Any]) -> dict[str, Any]:
    """The context's forms rendered by PLAIN_WIDGETS."""
    for value in context.values():
        if isinstance(value, BaseForm):
            value.renderer = PLAIN_WIDGETS
    return context


# -- pagination without counting a million rows -------------------------------------------------
COUNT_CAP = 10_000
# Beyond this an OFFSET overflows SQLite's 64-bit integer: no list is that long anyway.
OFFSET_MAX = 2**62


class OpenEndedPage(Page):
    """A page of a list longer than the cap: whether a next page exists comes from one extra row."""

    def __init__(self, object_list: Any, number: int, paginator: Paginator, *, has_more: bool) -> None:
        super().__init__(object_list, number, paginator)
        self.has_more = has_more

    def has_next(self) -> bool:
        return self.has_more

    def next_page_number(self) -> int:
        return self.number + 1


class CappedPaginator(Paginator):
    """Counts at most COUNT_CAP + 1 rows (`SELECT count(*) FROM (SELECT id … LIMIT 10001)`).
    Up to the cap it is Django's Paginator; beyond it (`capped`) the pages say "more than
    10 000" and offer previous and next, each page reading one row more than it shows."""

    cap = COUNT_CAP

    @cached_property
    def count(self) -> int:
        return self.object_list.order_by().values("pk")[: self.cap + 1].count()  # type: ignore[attr-defined]

    @property
    def capped(self) -> bool:
        return self.count > self.cap

    def cap_display(self) -> str:
        return number_format(self.cap, force_grouping=True)

    def validate_number(self, number: Any) -> int:
        if not self.capped:
            return super().validate_number(number)
        try:
            value = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from None
        if value < 1:
            raise EmptyPage(self.error_messages["min_page"])
        if (value - 1) * self.per_page > OFFSET_MAX:
            raise EmptyPage(self.error_messages["no_results"])
        return value

    def page(self, number: Any) -> Page:
        number = self.validate_number(number)
        if not self.capped:
            return super().page(number)
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        if not rows and number > 1:
            raise EmptyPage(self.error_messages["no_results"])
        return OpenEndedPage(rows[: self.per_page], number, self, has_more=len(rows) > self.per_page)


def paginate(request: HttpRequest, queryset: Any) -> Any:
    return page_or_404(CappedPaginator(queryset, PAGE_SIZE), request.GET.get("page"))


def query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def ticket_url(ticket: Ticket) -> str:
    return reverse("helpdesk:ticket", args=[ticket.reference])
