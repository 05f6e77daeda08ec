"""Page-numbered lists of the API: a page past the end is 404, not an empty list (and never an
OFFSET the database cannot hold: SQLite overflows above 2**63)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from ninja import Field, Schema
from ninja.pagination import PageNumberPagination


class PagePagination(PageNumberPagination):
    class Input(Schema):
        page: int = Field(1, ge=1, description="numéro de page, à partir de 1")
        page_size: int | None = Field(None, ge=1, description="éléments par page")

    def paginate_queryset(self, queryset: QuerySet, pagination: Any, request: HttpRequest, **params: Any) -> Any:
        page_size = self._get_page_size(pagination.page_size)
        count = self._items_count(queryset)
        pages = max(1, -(-count // page_size))
        if pagination.page > pages:
            raise Http404(f"page {pagination.page} introuvable : la liste compte {pages} page(s)")
        offset = (pagination.page - 1) * page_size
        return {self.items_attribute: queryset[offset : offset + page_size], "count": count}
