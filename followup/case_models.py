"""Case models (filled in by the case work); imported by followup.models so Django sees them."""

from __future__ import annotations
