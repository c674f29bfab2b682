"""The bulk sealer: encrypt a model instance's identity fields before a bulk write.

``bulk_create`` and COPY skip ``Model.save``, so nothing would call the encrypted fields' ``pre_save``. Every bulk
writer (the workbook import, the demo and synthetic loaders) seals its rows here, so a bulk path stores exactly
the tokens a form save stores: same key id, same associated data (table, column, row UUID).
"""

from __future__ import annotations

from django.db import models

from casemgmt.crypto.fields import encrypted_fields


def seal(instance: models.Model) -> None:
    """Encrypt every encrypted field in place, exactly as a ``save()`` would (the field's own pre_save)."""
    for enc_field in encrypted_fields(type(instance)):
        enc_field.pre_save(instance, add=True)
