"""Page-number pagination with the answer shape of the contract (section 6).

    {"<items>": [...], "pagination": {"page": 1, "pageSize": 12, "total": 240}}

Two queries: the count and the page; a page past the last is empty and costs only the count.
"""

from dataclasses import dataclass

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from .query_params import QueryIntegerField
from .serializers import FieldsBuiltOnce

DEFAULT_PAGE_SIZE = 12
MAX_PAGE_SIZE = 500


@dataclass(frozen=True)
class Page:
    rows: list
    page: int
    page_size: int
    total: int

    @property
    def meta(self) -> dict:
        return {"page": self.page, "pageSize": self.page_size, "total": self.total}


def paginate(queryset, *, page: int, page_size: int) -> Page:
    """`queryset` must already be in a total order, so pages never repeat or skip a row."""
    total = queryset.count()
    offset = (page - 1) * page_size
    rows = list(queryset[offset : offset + page_size]) if offset < total else []
    return Page(rows=rows, page=page, page_size=page_size, total=total)


class PageParamsSerializer(FieldsBuiltOnce):
    """`page` and `pageSize` (or `page_size`), shared by every paginated list."""

    page = QueryIntegerField(required=False, default=1, min_value=1, help_text="Page, from 1.")
    pageSize = QueryIntegerField(
        required=False,
        default=DEFAULT_PAGE_SIZE,
        min_value=1,
        max_value=MAX_PAGE_SIZE,
        help_text=f"Rows per page, at most {MAX_PAGE_SIZE}. Also `page_size`.",
    )


@extend_schema_serializer(component_name="Pagination")
class PaginationSerializer(serializers.Serializer):
    page = serializers.IntegerField()
    pageSize = serializers.IntegerField()
    total = serializers.IntegerField(help_text="Rows matching the query, on every page.")
