"""The demo county holds pending transfers: one waiting long enough for the county page, one for doctor1."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from devdata.registry_demo import load_demo
from registry.models import Transfer, TransferState
from registry.transfers import services as transfers

pytestmark = pytest.mark.django_db


def test_demo_has_pending_transfers() -> None:
    today = timezone.localdate()
    load_demo(today=today, per_thousand=0.2)
    pending = Transfer.objects.filter(state=TransferState.PENDING)
    assert pending.count() == 2
    assert list(transfers.long_pending(["340223"], today)) == [pending.get(requested_on=today - dt.timedelta(days=20))]
