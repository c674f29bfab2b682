"""The county overview: aggregates and masked line lists of cases, emergencies and transfers for area staff.

May import: ``followup.models``, ``followup.cases`` / ``followup.emergencies`` services, ``registry``, ``casemgmt``.
"""
