"""Re-encrypt every ciphertext column under the active key, in batches, resumably.

Every model with an EncryptedTextField is covered (history tables included), found through the app
registry, so a new encrypted column can never be forgotten. A batch is one transaction; an interrupted run
leaves finished batches finished, and the next run picks up the values still on old keys. Each row is written
only if it still holds the value that was read, so an edit made during the rotation is never reverted.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.apps import apps
from django.db import connection, models, transaction
from django.db.models import Q

from casemgmt.crypto import cipher as crypto
from casemgmt.crypto.fields import EncryptedTextField, encrypted_fields


@dataclass(frozen=True)
class Column:
    model: type[models.Model]
    field: EncryptedTextField

    @property
    def label(self) -> str:
        return f"{self.model._meta.db_table}.{self.field.column}"


def encrypted_columns() -> list[Column]:
    return [Column(model, field) for model in apps.get_models() for field in encrypted_fields(model)]


def _on_old_key(column: Column, active: str) -> Q:
    name = column.field.name
    return ~Q(**{name: ""}) & ~Q(**{f"{name}__startswith": f"{crypto.TOKEN_VERSION}.{active}."})


def remaining(ring: crypto.KeyRing | None = None) -> dict[str, int]:
    """Values per column not yet on the active key."""
    ring = ring or crypto.get_keyring()
    return {
        column.label: column.model._default_manager.filter(_on_old_key(column, ring.active)).count()
        for column in encrypted_columns()
    }


def _reencrypt(token: str, *, table: str, column: str, row_uuid: object, ring: crypto.KeyRing) -> str:
    plaintext = crypto.decrypt(token, table=table, column=column, row_uuid=row_uuid, ring=ring)
    return crypto.encrypt(plaintext, table=table, column=column, row_uuid=row_uuid, ring=ring)


def _rotate_batch(column: Column, after_pk: object, batch_size: int, ring: crypto.KeyRing) -> tuple[int, object]:
    model, field = column.model, column.field
    rows = list(
        model._default_manager.filter(_on_old_key(column, ring.active), pk__gt=after_pk)
        .order_by("pk")
        .values_list("pk", "uuid", field.name)[:batch_size]
    )
    if not rows:
        return 0, after_pk
    table, column_name = model._meta.db_table, field.column
    updates = [
        (_reencrypt(sealed.token, table=table, column=column_name, row_uuid=row_uuid, ring=ring), pk, sealed.token)
        for pk, row_uuid, sealed in rows
    ]
    quote = connection.ops.quote_name
    # Compare-and-set: a row is rewritten only if it still holds the token that was read. A value a user saved in
    # the meantime is already on the active key and is left as it is (never reverted to the value read).
    # Identifiers come from model metadata; values are parameters.
    sql = (
        f"UPDATE {quote(table)} SET {quote(column_name)} = %s "  # noqa: S608
        f"WHERE {quote(model._meta.pk.column)} = %s AND {quote(column_name)} = %s"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(sql, updates)
    return len(rows), rows[-1][0]


def rotate(
    batch_size: int = 500, max_batches: int | None = None, ring: crypto.KeyRing | None = None
) -> Iterator[tuple[str, int]]:
    """Yield (column label, values re-encrypted) per batch until done or *max_batches* is reached."""
    ring = ring or crypto.get_keyring()
    batches = 0
    for column in encrypted_columns():
        after_pk: object = 0
        while max_batches is None or batches < max_batches:
            done, after_pk = _rotate_batch(column, after_pk, batch_size, ring)
            if not done:
                break
            batches += 1
            yield column.label, done
