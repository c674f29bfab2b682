"""Writing generated rows: PostgreSQL ``COPY ... FROM STDIN`` (text format), or ``bulk_create`` elsewhere.

Rows are plain tuples in the order of the columns given (attnames: ``patient_id``, not ``patient``), with
encrypted columns already holding their tokens and UUIDs as hyphenated strings. Columns that every row of a
kind shares can be passed as a :class:`Fixed` last element: its values are rendered once, not per row.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, models

from casemgmt.fields import EncryptedTextField, Sealed


def _text(value: Any) -> str:  # noqa: PLR0911  (one return per type, the fast way)
    """One value in COPY text format."""
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
            return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
        return value
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


NULL = "\\N"


def _fast_payload(rows: Sequence[Sequence[Any]], fixed: bool) -> str:
    """``str()`` of every value, ``\\N`` for None: right for numbers, dates, timestamps, booleans (PostgreSQL
    reads ``True``) and for strings without a backslash, tab or line break, which :func:`_well_formed` checks."""
    if fixed:
        lines = ["\t".join([NULL if v is None else str(v) for v in row[:-1]]) + "\t" + row[-1].text for row in rows]
    else:
        lines = ["\t".join([NULL if v is None else str(v) for v in row]) for row in rows]
    lines.append("")
    return "\n".join(lines)


def _well_formed(payload: str, rows: int, columns: int) -> bool:
    """Every backslash starts a NULL marker, and tabs and line breaks are exactly the separators."""
    return (
        payload.count("\\") == payload.count(NULL)
        and payload.count("\n") == rows
        and payload.count("\t") == rows * (columns - 1)
        and "\r" not in payload
    )


def _careful_payload(rows: Sequence[Sequence[Any]], fixed: bool) -> str:
    if fixed:
        lines = ["\t".join([*map(_text, row[:-1]), row[-1].text]) for row in rows]
    else:
        lines = ["\t".join(map(_text, row)) for row in rows]
    lines.append("")
    return "\n".join(lines)


@dataclass(frozen=True)
class Fixed:
    """Trailing column values shared by many rows (a follow-up template), pre-rendered for COPY."""

    values: tuple[Any, ...]
    text: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "text", "\t".join(_text(v) for v in self.values))


def uses_copy() -> bool:
    return connection.vendor == "postgresql"


class Writer:
    """Reserves primary keys and inserts rows, through COPY on PostgreSQL and bulk_create otherwise."""

    def __init__(self, *, copy: bool | None = None) -> None:
        self.copy = uses_copy() if copy is None else copy
        if self.copy and connection.vendor != "postgresql":
            raise ValueError("COPY needs PostgreSQL")
        self._next_id: dict[str, int] = {}
        self._is_superuser: bool | None = None

    @contextlib.contextmanager
    def consistent_rows(self) -> Iterator[None]:
        """Inside a transaction: skip PostgreSQL's per-row foreign-key checks while the block writes.

        Every reference the generator writes points at a row it wrote earlier in the same run (or at the areas
        and users it created first), so the checks cannot fail; at commit they cost about a fifth of the whole
        run. ``session_replication_role = replica`` (what ``pg_restore --disable-triggers`` uses) needs a
        superuser: other roles simply keep the checks. Set back to ``origin`` at the end of the block, so the
        audit event written after it passes every trigger as usual.
        """
        if not self.copy or not self._superuser():
            yield
            return
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
            try:
                yield
            finally:
                cursor.execute("SET LOCAL session_replication_role = origin")

    def _superuser(self) -> bool:
        if self._is_superuser is None:
            with connection.cursor() as cursor:
                cursor.execute("SELECT current_setting('is_superuser') = 'on'")
                self._is_superuser = bool(cursor.fetchone()[0])
        return self._is_superuser

    def reserve_ids(self, model: type[models.Model], count: int) -> list[int]:
        """Primary keys for *count* new rows, taken from the table's sequence (safe beside other writers)."""
        if count == 0:
            return []
        table = model._meta.db_table
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count]
                )
                return [row[0] for row in cursor.fetchall()]
            if table not in self._next_id:  # other databases: the demo and tests, a single writer
                cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {connection.ops.quote_name(table)}")  # noqa: S608
                self._next_id[table] = cursor.fetchone()[0] + 1
        start = self._next_id[table]
        self._next_id[table] = start + count
        return list(range(start, start + count))

    def write(
        self,
        model: type[models.Model],
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
        fixed: Sequence[str] = (),
    ) -> None:
        """Insert *rows*; when *fixed* names trailing columns, each row ends with a :class:`Fixed`."""
        if self.copy:
            self._copy(model, [*columns, *fixed], rows, bool(fixed))
        else:
            self._bulk_create(model, columns, fixed, rows)

    def _copy(
        self, model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence[Any]], fixed: bool
    ) -> None:
        if not rows:
            return
        by_attname = {f.attname: f.column for f in model._meta.concrete_fields}
        names = ", ".join(connection.ops.quote_name(by_attname[c]) for c in columns)
        payload = _fast_payload(rows, fixed)
        if not _well_formed(payload, len(rows), len(columns)):  # a value needed escaping: render it carefully
            payload = _careful_payload(rows, fixed)
        table = connection.ops.quote_name(model._meta.db_table)
        with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            copy.write(payload)

    @staticmethod
    def _bulk_create(
        model: type[models.Model], columns: Sequence[str], fixed: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        meta = model._meta
        by_attname = {f.attname: f for f in meta.concrete_fields}
        names = [*columns, *fixed]
        sealed = {i for i, name in enumerate(names) if isinstance(by_attname[name], EncryptedTextField)}
        as_json = {i for i, name in enumerate(names) if isinstance(by_attname[name], models.JSONField)}
        instances = []
        for row in rows:
            values = [*row[:-1], *row[-1].values] if fixed else list(row)
            for i in sealed:
                values[i] = Sealed(values[i]) if values[i] else ""
            for i in as_json:
                values[i] = json.loads(values[i])
            instance = model()
            instance.__dict__.update(zip(names, values, strict=True))
            instances.append(instance)
        model._default_manager.bulk_create(instances, batch_size=500)


class IdPool:
    """Primary keys handed out one at a time, reserved from the table's sequence in chunks (increasing)."""

    def __init__(self, writer: Writer, model: type[models.Model], chunk: int = 20_000) -> None:
        self.writer, self.model, self.chunk = writer, model, chunk
        self._ids: list[int] = []

    def __call__(self) -> int:
        if not self._ids:
            self._ids = self.writer.reserve_ids(self.model, self.chunk)[::-1]
        return self._ids.pop()
