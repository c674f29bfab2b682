"""rotate_field_keys moves every ciphertext column (history included) to the active key, resumably."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command
from django.test import override_settings

from casemgmt.crypto import cipher as crypto
from casemgmt.crypto import rotation
from registry.models import IdentityRevision, Patient, SupplementaryForm
from tests.base import World, edit_patient, make_patient

OLD = crypto.new_key()
NEW = crypto.new_key()
BLIND = crypto.new_key()


def test_rotation_in_batches_is_resumable_and_covers_history(db: object) -> None:
    with override_settings(
        FIELD_ENCRYPTION_KEYS=f"old:{OLD}", FIELD_ENCRYPTION_ACTIVE_KEY="old", BLIND_INDEX_KEY=BLIND
    ):
        from tests.base import build_world

        world: World = build_world()
        extra = make_patient(world.doctor_a, world.village_a2, guardian_name="监护人甲")
        edit_patient(world.doctor_a, extra, phone="13712345678")
        names = {p.uuid: p.name for p in Patient.objects.all()}

    with override_settings(
        FIELD_ENCRYPTION_KEYS=f"old:{OLD},new:{NEW}", FIELD_ENCRYPTION_ACTIVE_KEY="new", BLIND_INDEX_KEY=BLIND
    ):
        before = rotation.remaining()
        assert before["registry_patient.name"] == 3
        assert before["registry_identityrevision.previous_values"] == 1

        out = StringIO()
        call_command("rotate_field_keys", "--batch-size", "1", "--max-batches", "2", stdout=out)
        assert "Re-encrypted 2 values." in out.getvalue()
        assert sum(rotation.remaining().values()) == sum(before.values()) - 2

        out = StringIO()
        call_command("rotate_field_keys", "--batch-size", "2", stdout=out)
        assert "Values remaining on old keys: 0" in out.getvalue()

        for patient in Patient.objects.all():
            assert patient.name == names[patient.uuid]
        assert "13712345678" not in IdentityRevision.objects.get().previous_values  # old value kept, decryptable
        assert SupplementaryForm.objects.count() == 3

    # The old key can now be removed: everything decrypts with the new key alone.
    with override_settings(
        FIELD_ENCRYPTION_KEYS=f"new:{NEW}", FIELD_ENCRYPTION_ACTIVE_KEY="new", BLIND_INDEX_KEY=BLIND
    ):
        assert {p.uuid: p.name for p in Patient.objects.all()} == names
        assert IdentityRevision.objects.get().previous_values


def test_report_only_changes_nothing(world: World) -> None:
    out = StringIO()
    call_command("rotate_field_keys", "--report", stdout=out)
    assert "Values remaining on old keys: 0" in out.getvalue()


def test_a_value_edited_while_its_batch_is_re_encrypted_is_not_reverted(db: object, monkeypatch: object) -> None:
    """Issue 16 §9: the rotation read a batch, then wrote it back unconditionally — a doctor's edit made between
    the read and the write got the old value back."""
    import pytest

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    with override_settings(
        FIELD_ENCRYPTION_KEYS=f"old:{OLD}", FIELD_ENCRYPTION_ACTIVE_KEY="old", BLIND_INDEX_KEY=BLIND
    ):
        from tests.base import build_world

        world: World = build_world()
    with override_settings(
        FIELD_ENCRYPTION_KEYS=f"old:{OLD},new:{NEW}", FIELD_ENCRYPTION_ACTIVE_KEY="new", BLIND_INDEX_KEY=BLIND
    ):
        edited = world.patient_b
        reencrypt = rotation._reencrypt
        edits: list[int] = []

        def edit_during_the_batch(token: str, **context: object) -> str:
            # A doctor saves a new phone number after the phone batch was read, before it is written.
            if not edits and context["table"] == "registry_patient" and context["column"] == "phone":
                edit_patient(world.doctor_b, Patient.objects.get(pk=edited.pk), phone="13900001111")
                edits.append(1)
            return reencrypt(token, **context)  # type: ignore[arg-type]

        monkeypatch.setattr(rotation, "_reencrypt", edit_during_the_batch)
        list(rotation.rotate(batch_size=1000))
        monkeypatch.undo()
        list(rotation.rotate(batch_size=1000))  # a later run finishes what the race left
        assert Patient.objects.get(pk=edited.pk).phone == "13900001111"
        assert sum(rotation.remaining().values()) == 0
