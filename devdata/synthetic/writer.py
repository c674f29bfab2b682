"""Writing generated rows: PostgreSQL ``COPY ... FROM STDIN`` (text format), or ``bulk_create`` elsewhere.

Rows are plain tuples in the order of the columns given (attnames: ``patient_id``, not ``patient``), with
encrypted columns already holding their tokens and UUIDs as hyphenated strings. The most numerous rows (the
follow-ups) can instead come already rendered as COPY text lines (see :func:`cells`), which the generator builds
in one step from pre-rendered parts; elsewhere those lines are read back into values for ``bulk_create``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.db import connection, models

from casemgmt.crypto.fields import EncryptedTextField, Sealed

NULL = "\\N"
_ESCAPES = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"}
_UNESCAPES = {"\\": "\\", "t": "\t", "n": "\n", "r": "\r"}
_ESCAPED = re.compile(r"\\(.)")


def _text(value: object) -> str:  # noqa: PLR0911  (one return per type, the fast way)
    """One value in COPY text format."""
    if value is None:
        return NULL
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
            return "".join(_ESCAPES.get(ch, ch) for ch in value)
        return value
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def cells(values: Iterable[object]) -> str:
    """Values as tab-separated COPY text (no line break): for the parts of a rendered line."""
    return "\t".join(map(_text, values))


def _read_line(line: str) -> list[object]:
    """A rendered line back into values: strings (the fields turn them into their types) and None."""
    return [
        None if cell == NULL else _ESCAPED.sub(lambda m: _UNESCAPES[m.group(1)], cell)
        for cell in line.rstrip("\n").split("\t")
    ]


def _fast_payload(rows: Sequence[Sequence[object]]) -> str:
    """``str()`` of every value, ``\\N`` for None: right for numbers, dates, timestamps, booleans (PostgreSQL
    reads ``True``) and for strings without a backslash, tab or line break, which :func:`_well_formed` checks."""
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


def _careful_payload(rows: Sequence[Sequence[object]]) -> str:
    lines = ["\t".join(map(_text, row)) for row in rows]
    lines.append("")
    return "\n".join(lines)


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

    def commit_without_waiting(self) -> None:
        """Inside a transaction: let its commit return before the WAL reaches the disk (PostgreSQL's
        ``synchronous_commit = off``, for this transaction only). A crash may lose the last batches of a run,
        never corrupt what is written; generated data can always be made again."""
        if self.copy:
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit = off")

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

    def write(self, model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
        """Insert *rows* (tuples of values in the order of *columns*)."""
        if not rows:
            return
        if self.copy:
            payload = _fast_payload(rows)
            if not _well_formed(payload, len(rows), len(columns)):  # a value needed escaping: render carefully
                payload = _careful_payload(rows)
            self._copy(model, columns, payload)
        else:
            self._bulk_create(model, columns, rows)

    def write_lines(self, model: type[models.Model], columns: Sequence[str], lines: Sequence[str]) -> None:
        """Insert rows already rendered as COPY text lines (tab-separated, escaped, each ending in a line
        break) by their builder, which knows its values need no further checking."""
        if not lines:
            return
        if self.copy:
            self._copy(model, columns, "".join(lines))
        else:
            self._bulk_create(model, columns, [_read_line(line) for line in lines])

    def _copy(self, model: type[models.Model], columns: Sequence[str], payload: str) -> None:
        by_attname = {f.attname: f.column for f in model._meta.concrete_fields}
        names = ", ".join(connection.ops.quote_name(by_attname[c]) for c in columns)
        table = connection.ops.quote_name(model._meta.db_table)
        with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            copy.write(payload)

    @staticmethod
    def _bulk_create(model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        meta = model._meta
        by_attname = {f.attname: f for f in meta.concrete_fields}
        sealed = {i for i, name in enumerate(columns) if isinstance(by_attname[name], EncryptedTextField)}
        as_json = {i for i, name in enumerate(columns) if isinstance(by_attname[name], models.JSONField)}
        instances = []
        for row in rows:
            values = list(row)
            for i in sealed:
                values[i] = Sealed(values[i]) if values[i] else ""
            for i in as_json:
                values[i] = json.loads(values[i])
            instance = model()
            instance.__dict__.update(zip(columns, values, strict=True))
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
