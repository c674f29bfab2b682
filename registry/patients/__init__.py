"""Patients: registration, the identity and supplementary forms (their single-field bounds in ``bounds``, the
typed values every edge parses into in ``values``), status changes and closure review, search,
masking, ID-number checks, ID-number probes (``probes``: the audit and daily limit of lookups against the whole
registry, also used by the workbook import), the patient pages and the panel hooks other apps hang on the
patient page.

May import: ``registry.models``, ``registry.access``, ``registry.codes``, ``registry.signals``, ``casemgmt``;
``bounds`` and ``values`` import nothing but ``registry.codes``, so the models read their lengths from ``bounds``.
"""
