"""The staging table: validated rows land here, and the checks that need the database run set-wise.

On PostgreSQL the rows arrive by COPY; on SQLite by batched inserts. Either way the table is
temporary and lives inside the import's one transaction, so nothing of it outlives the import.
"""

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import connection

from ..fields import CustomerField
from ..models import Customer
from ..services import branch_not_found, customer_code_taken

TABLE = "customer_import_staging"
CUSTOMERS = Customer._meta.db_table
BATCH = 2000


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def model_field(field: CustomerField):
    return Customer._meta.get_field(field.attribute)


@dataclass
class Staging:
    fields: list[CustomerField]  # the file's usable columns, in the table's order
    organization_id: int
    match: str  # "code" or "email"

    @property
    def columns(self) -> list[str]:
        return [model_field(field).column for field in self.fields]

    def column(self, name: str) -> str | None:
        for field in self.fields:
            if field.name == name:
                return model_field(field).column
        return None

    def create(self, cursor) -> None:
        if is_postgres():
            # The staged rows live in this session's local buffers (8 MB by default), set before
            # the session's first temporary table; and enough memory for sorts and hashes.
            cursor.execute("SET LOCAL temp_buffers = '256MB'")
            cursor.execute("SET LOCAL work_mem = '64MB'")
        definitions = ", ".join(
            f"{model_field(field).column} {model_field(field).db_type(connection)}"
            for field in self.fields
        )
        cursor.execute(
            f"CREATE TEMP TABLE {TABLE} (row_number integer NOT NULL, match_key text, "
            f"customer_id bigint, {definitions})"
        )

    def drop(self, cursor) -> None:
        cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")

    @contextmanager
    def loader(self, cursor) -> Iterator:
        """`add((row_number, match_key, *values))` for each valid row."""
        names = ", ".join(["row_number", "match_key", *self.columns])
        if is_postgres():
            with cursor.copy(f"COPY {TABLE} ({names}) FROM STDIN") as copy:
                yield copy.write_row
            cursor.execute(f"ANALYZE {TABLE}")  # temporary tables are never auto-analysed
            return
        preps = [model_field(field) for field in self.fields]
        insert = f"INSERT INTO {TABLE} ({names}) VALUES ({', '.join(['%s'] * (len(preps) + 2))})"
        batch = []

        def add(row):
            batch.append(
                (
                    row[0],
                    row[1],
                    *(
                        prep.get_db_prep_save(value, connection)
                        for prep, value in zip(preps, row[2:], strict=True)
                    ),
                )
            )
            if len(batch) >= BATCH:
                cursor.executemany(insert, batch)
                batch.clear()

        yield add
        if batch:
            cursor.executemany(insert, batch)

    def find_matches(self, cursor) -> None:
        """Fill customer_id from this organization's customers, by code or lower-cased email."""
        key = "c.code" if self.match == "code" else "LOWER(c.email)"
        cursor.execute(
            f"UPDATE {TABLE} SET customer_id = c.id FROM {CUSTOMERS} c "
            f"WHERE c.organization_id = %s AND {key} = {TABLE}.match_key",
            [self.organization_id],
        )

    def checks(self, cursor, mode: str) -> Iterator[tuple[int, str, str]]:
        """(row number, field, message) for every row the database says cannot be written."""
        yield from self._duplicates(cursor, "code", self.column("code"))
        if self.match == "email":
            yield from self._duplicates(cursor, "email", "match_key")
            yield from self._ambiguous_emails(cursor)
        code = self.column("code")
        if mode == "create":
            message = customer_code_taken().message
            yield from self._rows(cursor, "customer_id IS NOT NULL", "code", message)
        if mode == "update":
            message = f"No customer of this organization has this {self.match}."
            yield from self._rows(cursor, "customer_id IS NULL", self.match, message)
        if mode != "create" and code and self.match != "code":
            taken = (
                f"s.{code} IS NOT NULL AND EXISTS (SELECT 1 FROM {CUSTOMERS} c WHERE "
                f"c.organization_id = %s AND c.code = s.{code} "
                "AND (s.customer_id IS NULL OR c.id <> s.customer_id))"
            )
            yield from self._rows(
                cursor, taken, "code", customer_code_taken().message, [self.organization_id]
            )
        branch = self.column("openingBalanceBranchId")
        if branch:
            missing = (
                f"s.customer_id IS NULL AND s.{branch} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "
                f"organizations_branch b WHERE b.id = s.{branch} AND b.organization_id = %s)"
            )
            error = branch_not_found()
            yield from self._rows(
                cursor, missing, error.field, error.message, [self.organization_id]
            )

    def _rows(self, cursor, condition, field, message, params=()):
        cursor.execute(
            f"SELECT s.row_number FROM {TABLE} s WHERE {condition} ORDER BY s.row_number",
            params,
        )
        for (row_number,) in cursor.fetchall():
            yield row_number, field, message

    def _duplicates(self, cursor, name: str, column: str | None):
        if column is None:
            return
        cursor.execute(
            f"SELECT s.row_number, s.{column} FROM {TABLE} s WHERE s.{column} IN "
            f"(SELECT {column} FROM {TABLE} WHERE {column} IS NOT NULL "
            f"GROUP BY {column} HAVING COUNT(*) > 1) ORDER BY s.row_number"
        )
        rows_by_key = defaultdict(list)
        for row_number, key in cursor.fetchall():
            rows_by_key[key].append(row_number)
        for rows in rows_by_key.values():
            listed = ", ".join(map(str, rows))
            for row_number in rows:
                yield row_number, name, f"The same {name} is on rows {listed} of the file."

    def _ambiguous_emails(self, cursor):
        message = "Several customers of this organization have this email: match by code."
        shared = (
            f"s.match_key IN (SELECT LOWER(email) FROM {CUSTOMERS} WHERE organization_id = %s "
            "AND email <> '' GROUP BY LOWER(email) HAVING COUNT(*) > 1)"
        )
        yield from self._rows(cursor, shared, "email", message, [self.organization_id])

    def discard(self, cursor, row_numbers: list[int]) -> None:
        """Take rows out of the staging table (the invalid ones, with --skip-invalid)."""
        for start in range(0, len(row_numbers), BATCH):
            chunk = row_numbers[start : start + BATCH]
            cursor.execute(
                f"DELETE FROM {TABLE} WHERE row_number IN ({', '.join(['%s'] * len(chunk))})",
                chunk,
            )

    def staged(self, cursor, row_numbers: list[int]) -> Iterator[tuple]:
        """The staged values of some rows, for the errors file."""
        for start in range(0, len(row_numbers), BATCH):
            chunk = row_numbers[start : start + BATCH]
            cursor.execute(
                f"SELECT row_number, {', '.join(self.columns)} FROM {TABLE} "
                f"WHERE row_number IN ({', '.join(['%s'] * len(chunk))}) ORDER BY row_number",
                chunk,
            )
            yield from cursor.fetchall()
