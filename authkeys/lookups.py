"""The two queries of the authentication path, compiled to SQL once per process.

Django compiles a queryset to SQL every time it runs. For a select_related lookup by a unique key
that compilation costs several times the query itself (bench/auth.py: about 1 ms of CPU against
150 µs on this machine), and it runs on every API request. A `CompiledLookup` compiles its queryset
once per database, then executes the SQL with new parameters and builds the objects the way
QuerySet does (converters, `from_db`, the select_related populators), so the result is the same
model instances, joined objects included.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured
from django.db import connections, router
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators


@dataclass(frozen=True)
class _Compiled:
    sql: str
    compiler: object
    converters: list
    fields: slice
    attnames: list[str]
    populators: list


class CompiledLookup:
    """`make_queryset(*params)` must filter by exactly `params`, in that order."""

    def __init__(self, model: type[Model], make_queryset: Callable[..., QuerySet], sentinels):
        self.model = model
        self._make_queryset = make_queryset
        self._sentinels = tuple(sentinels)
        self._by_alias: dict[str, _Compiled] = {}

    def _compile(self, alias: str) -> _Compiled:
        compiler = self._make_queryset(*self._sentinels).query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        if tuple(params) != self._sentinels:
            raise ImproperlyConfigured(f"{self.model.__name__} lookup: parameters out of order")
        select, klass_info = compiler.select, compiler.klass_info
        first, last = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        compiled = _Compiled(
            sql=sql,
            compiler=compiler,
            converters=compiler.get_converters([column for column, _, _ in select]),
            fields=slice(first, last),
            attnames=[column.target.attname for column, _, _ in select[first:last]],
            populators=get_related_populators(klass_info, select, alias),
        )
        self._by_alias[alias] = compiled
        return compiled

    def get(self, *params) -> Model | None:
        alias = router.db_for_read(self.model)
        compiled = self._by_alias.get(alias) or self._compile(alias)
        with connections[alias].cursor() as cursor:
            cursor.execute(compiled.sql, params)
            row = cursor.fetchone()
        if row is None:
            return None
        if compiled.converters:
            [row] = compiled.compiler.apply_converters([row], compiled.converters)
        instance = self.model.from_db(alias, compiled.attnames, row[compiled.fields])
        for populator in compiled.populators:
            populator.populate(row, instance)
        return instance
