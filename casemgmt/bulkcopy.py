"""Inserting many model instances at once: PostgreSQL ``COPY ... FROM STDIN``, ``bulk_create`` elsewhere.

A drop-in for ``Model.objects.bulk_create(instances)`` for bulk writers of the product (the registry-workbook
import) that write hundreds of thousands of rows in one transaction. On PostgreSQL the primary keys are taken
from the table's sequence first (one query per batch, safe beside other writers) and set on the instances, as
``bulk_create`` does; the rows then go through COPY, whose values psycopg adapts in C. What ``save()`` would
do before writing is done here too: ``auto_now``/``auto_now_add`` timestamps are set, and encrypted identity
fields are sealed through one :class:`~casemgmt.crypto.cipher.BulkSealer` (the same tokens a form save stores,
see ``casemgmt.crypto.bulk``). Elsewhere (SQLite: the demo and some tests) the instances are sealed the same way
and handed to ``bulk_create``.

Triggers, constraints and foreign keys are checked by the database as for any insert: a duplicate or a row
that refers to nothing fails the statement, and so the caller's transaction.
"""

from __future__ import annotations

import contextlib
import functools
import json
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Never, TypeAlias

from django.db import connection, models
from django.utils import timezone
from psycopg import Copy, pq
from psycopg import errors as pg_errors
from psycopg.abc import PQGen
from psycopg.copy import LibpqWriter
from psycopg.generators import fetch_many
from psycopg.waiting import Wait

from casemgmt.crypto.bulk import seal_all
from casemgmt.crypto.cipher import BulkSealer
from casemgmt.crypto.fields import EncryptedTextField, Sealed

ANALYZE_AT_LEAST = 10_000  # rows written to a table before its statistics are refreshed
Convert = Callable[[object], object] | None  # None: the attribute's value goes to COPY as it is
ModelField: TypeAlias = "models.Field[Never, object]"  # any field: Field[set type (contravariant), get type]

# Field classes whose Python values psycopg adapts exactly as Django's own preparation would.
_AS_IS: tuple[type[ModelField], ...] = (
    models.IntegerField,
    models.CharField,
    models.TextField,
    models.DateField,  # DateTimeField too (a subclass); aware datetimes stay aware
    models.BooleanField,
    models.UUIDField,
    models.DecimalField,
    models.ForeignKey,  # by its attname: the referenced key
)


def _token(value: object) -> object:
    return value.token if isinstance(value, Sealed) else value


_JSON_TEXTS: dict[object, str] = {}  # a JSON value's text, by the value (made hashable), for the repeated ones
_JSON_TEXTS_AT_MOST = 4096


def _json(value: object) -> object:
    """A JSON column's value as its text: COPY sends text, and PostgreSQL parses it as the column's type.

    The lists of a follow-up (symptoms, contacts, rehabilitation) repeat a few hundred values over a load's
    hundreds of thousands of rows: each distinct one is serialised once (as ``psycopg.types.json.Jsonb`` would,
    with ``json.dumps``).
    """
    if value is None:
        return None
    try:
        key = tuple(value) if isinstance(value, list) else None
        text = _JSON_TEXTS.get(key) if key is not None else None
    except TypeError:  # a list of unhashable values
        key = text = None
    if text is None:
        text = json.dumps(value)
        if key is not None and len(_JSON_TEXTS) < _JSON_TEXTS_AT_MOST:
            _JSON_TEXTS[key] = text
    return text


def _converter(field: ModelField) -> Convert:
    if isinstance(field, EncryptedTextField):
        return _token
    if isinstance(field, models.JSONField):
        return _json
    if isinstance(field, _AS_IS) and not isinstance(field, models.DurationField):
        return None
    return lambda value: field.get_db_prep_save(value, connection)


@functools.cache
def _plan(model: type[models.Model]) -> tuple[list[ModelField], list[Convert], list[str]]:
    """The columns COPY writes (every concrete field, the primary key included), how each value is prepared,
    and the timestamps ``save()`` would set."""
    fields = list(model._meta.concrete_fields)
    stamped = [
        f.attname
        for f in fields
        if isinstance(f, models.DateField) and (getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False))
    ]
    return fields, [_converter(f) for f in fields], stamped


class _Layout:
    """The COPY columns of ``insert_rows``: the primary key, the given ones, the constant defaults, the ones made
    per row; and how a given row becomes a COPY row."""

    def __init__(
        self,
        fields: Sequence[ModelField],
        converters: Sequence[Convert],
        stamped: Sequence[str],
        names: Sequence[str],
        now: object,
    ) -> None:
        by_name = {f.attname: (f, convert) for f, convert in zip(fields, converters, strict=True)}
        pk = next(f for f in fields if f.primary_key)
        given = [by_name[name] for name in names]
        rest = [f for f in fields if f is not pk and f.attname not in names]
        constant = [f for f in rest if f.attname in stamped or not (f.has_default() and callable(f.default))]
        made = [f for f in rest if f not in constant]
        self.fields = [pk, *(f for f, _convert in given), *constant, *made]
        self.converted = [(index, convert) for index, (_f, convert) in enumerate(given) if convert is not None]

        def prepared(field: ModelField, value: object) -> object:
            convert = by_name[field.attname][1]
            return value if convert is None else convert(value)

        self.constants = tuple(prepared(f, now if f.attname in stamped else f.get_default()) for f in constant)
        self.makers = [(f.get_default, by_name[f.attname][1]) for f in made]

    def row(self, key: int, given: Sequence[object]) -> tuple[object, ...]:
        if self.converted:
            values = list(given)
            for index, convert in self.converted:
                values[index] = convert(values[index])
            given = values
        made = [make() if convert is None else convert(make()) for make, convert in self.makers]
        return (key, *given, *self.constants, *made)


class _Unsettled(threading.local):
    """Per thread (Django's connections are): whether COPYs end early, and the one whose result is not read."""

    overlapping = False
    copy: _EndedEarly | None = None


_unsettled = _Unsettled()


class _EndedEarly(LibpqWriter):
    """Ends a COPY without waiting for the server to finish it.

    After the last row the server still checks the rows' foreign keys and unique keys (the statement's end):
    meanwhile the loader builds its next rows. The result, and any error in it (an ``IntegrityError``), is read
    before the connection's next statement (:func:`settle`).
    """

    def finish(self, exc: BaseException | None = None) -> None:
        if exc is not None:
            super().finish(exc)
            return
        self.connection.wait(_end_sent(self._pgconn))
        _unsettled.copy = self

    def result(self) -> None:
        for result in self.connection.wait(fetch_many(self._pgconn)):
            if result.status != pq.ExecStatus.COMMAND_OK:
                raise pg_errors.error_from_result(result, encoding=self._pgconn._encoding)


def _end_sent(pgconn: pq.abc.PGconn) -> PQGen[None]:
    """psycopg's ``copy_end`` up to the end message flushed to the server, without waiting for the result."""
    while pgconn.put_copy_end(None) == 0:
        yield Wait.W
    while True:
        yield Wait.W
        if pgconn.flush() == 0:
            return


def settle() -> None:
    """Read the result of a COPY that ended early (raising its error as Django's, e.g. ``IntegrityError``)."""
    copy, _unsettled.copy = _unsettled.copy, None
    if copy is not None:
        with connection.wrap_database_errors:
            copy.result()


def _settled_first(execute: Callable[..., object], sql: str, params: object, many: bool, context: object) -> object:
    settle()
    return execute(sql, params, many, context)


@contextlib.contextmanager
def copies_overlapping() -> Iterator[None]:
    """Inside the block every ``BulkInserter`` COPY on this thread's connection ends early (``_EndedEarly``).

    The next statement on the connection reads its result first: a COPY, or any query through Django's cursors;
    the block's end reads the last one. For a loader that writes many batches in one transaction: each batch's
    checks at the server overlap the building of the next batch in Python. On leaving with an exception the
    result is still read (the connection must be free for the rollback), its own error then left aside.
    """
    if _unsettled.overlapping or connection.vendor != "postgresql":
        yield
        return
    _unsettled.overlapping = True
    try:
        with connection.execute_wrapper(_settled_first):
            yield
    except BaseException:
        with contextlib.suppress(Exception):
            settle()
        raise
    else:
        settle()
    finally:
        _unsettled.overlapping = False
        _unsettled.copy = None


class BulkInserter:
    """Inserts lists of instances of any model; one per load (it owns the sealer and its nonce pool)."""

    def __init__(self) -> None:
        self.copy = connection.vendor == "postgresql"
        self.now = timezone.now()
        self.written: Counter[str] = Counter()  # rows written per table

    @functools.cached_property
    def sealer(self) -> BulkSealer:
        """One sealer (and its nonce pool) for the load, made when a model with encrypted fields comes."""
        return BulkSealer()

    def analyze(self, *, at_least: int = ANALYZE_AT_LEAST) -> None:
        """Refresh the planner's statistics of the tables that received at least *at_least* rows (PostgreSQL).

        Inside the load's transaction the planner still sees the tables as they were: a query of the upkeep
        that follows (the care states, the cases the rule opens) then scans a whole table per batch of patients
        where an index would find a few rows (the cases of 100,000 new patients: 27.8 s before, see
        docs/performance.md). ANALYZE samples each table (some 30,000 rows) and sees the transaction's own rows.
        """
        if not self.copy:
            return
        tables = [table for table, count in self.written.items() if count >= at_least]
        with connection.cursor() as cursor:
            for table in tables:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")

    def insert(self, instances: Sequence[models.Model]) -> None:
        """Write *instances* (all of one model) and set their primary keys."""
        if not instances:
            return
        model = type(instances[0])
        fields, converters, stamped = _plan(model)
        seal_all(instances, self.sealer)
        for instance in instances:
            for attname in stamped:
                instance.__dict__[attname] = self.now
        if not self.copy:
            model._default_manager.bulk_create(instances, batch_size=500)
            return
        self._reserve_keys(model, instances)
        self.written[model._meta.db_table] += len(instances)
        pairs = [(f.attname, convert) for f, convert in zip(fields, converters, strict=True)]
        with self._copy(model, fields) as copy:
            for instance in instances:
                values = instance.__dict__
                copy.write_row([values[name] if convert is None else convert(values[name]) for name, convert in pairs])
        for instance in instances:
            instance._state.adding = False
            instance._state.db = connection.alias

    def insert_rows(
        self, model: type[models.Model], names: Sequence[str], rows: Iterable[Sequence[object]]
    ) -> list[int]:
        """Write rows given as tuples of the columns *names* (attnames), in that order, without building model
        instances (the cost that dominates for the most numerous rows); returns their primary keys, in order.

        The columns left out take their defaults as ``Model()`` gives them: a constant once for all rows, a
        callable default (``uuid4``) called per row; the timestamps ``save()`` sets are set. Each row goes to
        COPY as one tuple, with no work per column in Python but the conversions a column needs (JSON). For
        models without encrypted fields (those need the instance's UUID).
        """
        rows = list(rows)
        if not rows:
            return []
        fields, converters, stamped = _plan(model)
        if any(isinstance(f, EncryptedTextField) for f in fields):
            raise TypeError(f"{model.__name__} has encrypted fields: insert instances")
        if not self.copy:
            instances = [model(**dict(zip(names, row, strict=True))) for row in rows]
            model._default_manager.bulk_create(instances, batch_size=500)
            return [int(instance.pk) for instance in instances]
        keys = self.reserve_keys(model, len(rows))
        self.written[model._meta.db_table] += len(rows)
        layout = _Layout(fields, converters, stamped, names, self.now)
        with self._copy(model, layout.fields) as copy:
            for key, row in zip(keys, rows, strict=True):
                copy.write_row(layout.row(key, row))
        return keys

    @contextlib.contextmanager
    def _copy(self, model: type[models.Model], fields: Sequence[ModelField]) -> Iterator[Copy]:
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        table = connection.ops.quote_name(model._meta.db_table)
        settle()  # the previous COPY's result, when it ended early
        # Errors come out as Django's (IntegrityError for a duplicate), like those of bulk_create.
        with connection.wrap_database_errors, connection.cursor() as cursor:
            writer = _EndedEarly(cursor.cursor) if _unsettled.overlapping else None
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN", writer=writer) as copy:
                yield copy

    @staticmethod
    def reserve_keys(model: type[models.Model], count: int) -> list[int]:
        """*count* primary keys from the table's sequence (PostgreSQL), safe beside other writers."""
        pk = model._meta.pk
        assert pk is not None  # noqa: S101  (every concrete model has one)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [model._meta.db_table, pk.column, count],
            )
            return [int(key) for (key,) in cursor.fetchall()]

    @classmethod
    def _reserve_keys(cls, model: type[models.Model], instances: Sequence[models.Model]) -> None:
        missing = [instance for instance in instances if instance.pk is None]
        for instance, key in zip(missing, cls.reserve_keys(model, len(missing)) if missing else [], strict=True):
            instance.pk = key
