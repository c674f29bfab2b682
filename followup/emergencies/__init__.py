"""Emergency handling (domain.md §9): records, close follow-up after an emergency, linking to a registered
patient, and their pages.

May import: ``followup.models``, ``registry``, ``casemgmt``.
"""
