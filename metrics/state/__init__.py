"""The per-patient indicator state (design.md §7): rows per patient, year and holder village with bitmasks over the
year's report slots, kept current in every write and rebuilt in bulk; proven equal to the direct definition.

May import: ``metrics.indicators``, ``metrics.models``, ``registry.signals``, ``casemgmt``. Never ``reports``.
"""
