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
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import cache
from typing import Never, TypeAlias

from django.db import connection, models
from django.utils import timezone
from psycopg import Copy
from psycopg.types.json import Jsonb

from casemgmt.crypto.bulk import seal_all
from casemgmt.crypto.cipher import BulkSealer
from casemgmt.crypto.fields import EncryptedTextField, Sealed

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


def _json(value: object) -> object:
    return None if value is None else Jsonb(value)


def _converter(field: ModelField) -> Convert:
    if isinstance(field, EncryptedTextField):
        return _token
    if isinstance(field, models.JSONField):
        return _json
    if isinstance(field, _AS_IS) and not isinstance(field, models.DurationField):
        return None
    return lambda value: field.get_db_prep_save(value, connection)


@cache
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


class BulkInserter:
    """Inserts lists of instances of any model; one per load (it owns the sealer and its nonce pool)."""

    def __init__(self) -> None:
        self.copy = connection.vendor == "postgresql"
        self.sealer = BulkSealer()
        self.now = timezone.now()

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
        pairs = [(f.attname, convert) for f, convert in zip(fields, converters, strict=True)]
        with self._copy(model, fields) as copy:
            for instance in instances:
                values = instance.__dict__
                copy.write_row([values[name] if convert is None else convert(values[name]) for name, convert in pairs])
        for instance in instances:
            instance._state.adding = False
            instance._state.db = connection.alias

    def insert_values(self, model: type[models.Model], rows: Sequence[Mapping[str, object]]) -> list[int]:
        """Write rows given as ``{attname: value}`` (the fields left out take their defaults, as ``Model()``
        gives them) without building model instances, the cost that dominates for the most numerous rows; returns
        their primary keys, in order. For models without encrypted fields (those need the instance's UUID)."""
        if not rows:
            return []
        fields, converters, stamped = _plan(model)
        if any(isinstance(f, EncryptedTextField) for f in fields):
            raise TypeError(f"{model.__name__} has encrypted fields: insert instances")
        if not self.copy:
            instances = [model(**row) for row in rows]
            model._default_manager.bulk_create(instances, batch_size=500)
            return [int(instance.pk) for instance in instances]
        keys = self.reserve_keys(model, len(rows))
        pk_name = model._meta.pk.attname if model._meta.pk is not None else "id"
        columns = [self._column(f, convert, pk_name, stamped) for f, convert in zip(fields, converters, strict=True)]
        with self._copy(model, fields) as copy:
            for key, row in zip(keys, rows, strict=True):
                out = []
                for name, convert, fixed, make in columns:
                    if name is None:  # the primary key
                        value: object = key
                    elif name in row:
                        value = row[name]
                    else:
                        value = fixed if make is None else make()
                    out.append(value if convert is None else convert(value))
                copy.write_row(out)
        return keys

    def _column(
        self, field: ModelField, convert: Convert, pk_name: str, stamped: Sequence[str]
    ) -> tuple[str | None, Convert, object, Callable[[], object] | None]:
        """How ``insert_values`` fills one column: (attname, or None for the primary key; the conversion; the
        value when the row leaves it out, or a callable making one per row: a callable default such as uuid4).
        The constant defaults are computed once, not once per row; the timestamps override the row, as ``save()``
        would."""
        if field.attname == pk_name:
            return None, convert, None, None
        if field.attname in stamped:
            return "", convert, self.now, None  # "" is in no row: the timestamp always
        if field.has_default() and callable(field.default):
            return field.attname, convert, None, field.get_default
        return field.attname, convert, field.get_default(), None

    @contextlib.contextmanager
    def _copy(self, model: type[models.Model], fields: Sequence[ModelField]) -> Iterator[Copy]:
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        table = connection.ops.quote_name(model._meta.db_table)
        # Errors come out as Django's (IntegrityError for a duplicate), like those of bulk_create.
        with (
            connection.wrap_database_errors,
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
        ):
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
