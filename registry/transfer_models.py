"""Transfer models (filled in by the transfer work); imported by registry.models so Django sees them."""

from __future__ import annotations
