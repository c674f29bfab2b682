"""The bulk sealer: encrypt a model instance's identity fields before a bulk write.

``bulk_create`` and COPY skip ``Model.save``, so nothing would call the encrypted fields' ``pre_save``. Every bulk
writer (the workbook import, the demo and synthetic loaders) seals its rows here, so a bulk path stores exactly
the tokens a form save stores: same key id, same associated data (table, column, row UUID).
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import models

from casemgmt.crypto.cipher import BulkSealer
from casemgmt.crypto.fields import Sealed, encrypted_fields


def seal(instance: models.Model) -> None:
    """Encrypt every encrypted field in place, exactly as a ``save()`` would (the field's own pre_save)."""
    for enc_field in encrypted_fields(type(instance)):
        enc_field.pre_save(instance, add=True)


def seal_all(instances: Sequence[models.Model], sealer: BulkSealer) -> None:
    """Encrypt every encrypted field of *instances* (all of one model) in place, with one sealer: the tokens a
    ``save()`` stores (same key, same associated data: table, column, row UUID), without building a cipher
    per value."""
    if not instances:
        return
    fields = encrypted_fields(type(instances[0]))
    for instance in instances:
        values = instance.__dict__
        for enc_field in fields:
            value = values.get(enc_field.attname, "")
            if isinstance(value, Sealed) or not value:
                values[enc_field.attname] = value or ""
                continue
            context = enc_field.context_for(instance)
            values[enc_field.attname] = Sealed(sealer.encrypt(str(value), **context), str(value))
