"""Patients: registration, the identity and supplementary forms, status changes and closure review, search,
masking, ID-number checks, the patient pages and the panel hooks other apps hang on the patient page.

May import: ``registry.models``, ``registry.access``, ``registry.codes``, ``registry.signals``, ``casemgmt``.
"""
