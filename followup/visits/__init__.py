"""Follow-up visits (domain.md §5–7): the national form, its rules (classification suggestion, next date),
recording a visit, medication, the doctor's work list, the timeline and the visit pages.

May import: ``followup.models``, ``followup.codes``, ``followup.cases`` services/notices, ``registry``, ``casemgmt``.
"""
