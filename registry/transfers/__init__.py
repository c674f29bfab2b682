"""Transfers of a patient's record between townships (domain.md §4.4): request, accept, reject, withdraw, and
their pages and panel.

May import: ``registry.models``, ``registry.access``, ``registry.patients`` services, ``casemgmt``.
"""
