"""What every helpdesk page shares, whoever reads it: a service's refusal as messages, the capped
paginator of long ticket lists, and the ticket's URL."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.http import HttpRequest
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.functional import cached_property

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
