"""Case management of unstable patients (domain.md §8): cases, teams with their time-limited grants, plans,
contacts, closing; the case pages and the notices shown after a follow-up.

May import: ``followup.models``, ``registry`` (access, disclosure, models), ``casemgmt``.
"""
