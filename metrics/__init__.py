"""Indicators (domain.md §11) and their reports.

Layer: the top domain layer; it may import ``followup``, ``registry`` and ``casemgmt`` and nothing imports it but
the project's urls. ``indicators`` holds the pure definitions, ``state`` the per-patient state that makes
reports fast, ``reports`` the engine, pages, PDF, spreadsheet and API.
"""
