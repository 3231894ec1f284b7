"""Small query helpers for the hot paths."""

from django.db.models import Model, QuerySet


def unique_or_none(queryset: QuerySet) -> Model | None:
    """The row a lookup on a unique key finds, or None.

    Unlike `.first()`, it adds no ORDER BY (a unique lookup has one row at most), which spares the
    database a sort and Django the compiling of the model's default ordering on every request.
    """
    return next(iter(queryset.order_by()[:1]), None)
