"""The indicator definitions of domain.md §11 as pure functions (``definitions``), report periods, the
configurable options, small-count suppression, targets, labels, and the loaders of a patient's plain facts.

May import: ``metrics.models``, ``followup.models``, ``registry``, ``casemgmt``. Never ``state`` or ``reports``.
"""
