"""A model field that stores an encrypted token and hands out plaintext to code that reads the attribute.

The row's ``uuid`` is part of the associated data, so every model using this field has a ``uuid`` that is
assigned at construction time. Values read from the database stay sealed until first accessed; a plaintext
string can never be written by ``QuerySet.update`` or used in a filter (it raises), because neither knows
which row the value belongs to.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypedDict

from django.db import models
from django.db.models.query_utils import DeferredAttribute

from casemgmt.crypto import cipher as crypto

if TYPE_CHECKING:
    from collections.abc import Sequence

    from django import forms
    from django.db.models import Model


class Sealed:
    """A stored token, with its plaintext once decrypted."""

    __slots__ = ("plaintext", "token")

    def __init__(self, token: str, plaintext: str | None = None) -> None:
        self.token = token
        self.plaintext = plaintext

    def __repr__(self) -> str:  # never show plaintext in tracebacks or logs
        return "<Sealed>"


class EncryptionContext(TypedDict):
    table: str
    column: str
    row_uuid: object


class EncryptedDescriptor(DeferredAttribute):
    """A data descriptor (it defines __set__), so reads always pass through decryption."""

    field: EncryptedTextField

    def __set__(self, instance: Model, value: object) -> None:
        instance.__dict__[self.field.attname] = value

    def __get__(self, instance: Model | None, cls: type[Model] | None = None) -> object:
        if instance is None:
            return self
        value = super().__get__(instance, cls)
        if isinstance(value, Sealed):
            if value.plaintext is None:
                value.plaintext = crypto.decrypt(value.token, **self.field.context_for(instance))
            return value.plaintext
        return value


class EncryptedTextField(models.TextField):  # type: ignore[type-arg]  # the class is not subscriptable at run time
    """Encrypted text. Empty means unknown and is stored as ``''`` (emptiness is not a secret)."""

    descriptor_class = EncryptedDescriptor

    def __init__(self, *args: Any, max_plaintext_length: int | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        self.max_plaintext_length = max_plaintext_length
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> tuple[str, str, Sequence[object], dict[str, object]]:
        name, path, args, kwargs = super().deconstruct()
        if self.max_plaintext_length is not None:
            kwargs["max_plaintext_length"] = self.max_plaintext_length
        return name, path, args, kwargs

    def context_for(self, instance: Any) -> EncryptionContext:
        return {"table": instance._meta.db_table, "column": self.column, "row_uuid": instance.uuid}

    def from_db_value(self, value: str | None, expression: object, connection: object) -> Sealed | str:
        return Sealed(value) if value else ""

    def pre_save(self, model_instance: Model, add: bool) -> Sealed | str:
        value = model_instance.__dict__.get(self.attname, "")
        if isinstance(value, Sealed) or not value:
            return value or ""
        sealed = Sealed(crypto.encrypt(str(value), **self.context_for(model_instance)), str(value))
        model_instance.__dict__[self.attname] = sealed
        return sealed

    def get_prep_value(self, value: object) -> object:
        if isinstance(value, Sealed):
            return value.token
        if value in (None, ""):
            return value
        raise TypeError("plaintext cannot be written or queried without its row; save the model instance")

    def formfield(
        self,
        form_class: type[forms.Field] | None = None,
        choices_form_class: type[forms.ChoiceField] | None = None,
        **kwargs: object,
    ) -> forms.Field | None:
        kwargs.setdefault("max_length", self.max_plaintext_length)
        return super().formfield(form_class=form_class, choices_form_class=choices_form_class, **kwargs)


def encrypted_fields(model: type[models.Model]) -> list[EncryptedTextField]:
    return [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
