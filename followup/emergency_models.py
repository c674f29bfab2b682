"""Emergency models (filled in by the emergency work); imported by followup.models so Django sees them."""

from __future__ import annotations
